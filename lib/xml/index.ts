import * as Path from 'node:path';

export { IKS_NAMESPACE, renderDocument, renderTime } from './render';
export { childElements, parseXml, screenXml, textContent, type ParseOptions, type XmlElement, type XmlNode } from './parse';
export { readDocument, readTime } from './read-document';
export type * from './types';

/** The published XSD of the IKS documents (resolved next to this file, also from dist/). */
export const schemaPath = Path.join(__dirname, 'schema', 'iks.xsd');
