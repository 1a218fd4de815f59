import * as Path from 'node:path';

export { IKS_NAMESPACE, escapeAttribute, escapeText, renderDocument, renderTime } from './render';
export { childElements, isWhitespace, parseXml, screenXml, textContent, type ParseOptions, type XmlElement, type XmlNode } from './parse';
export { Cursor, matching, noAttributes, nonEmpty, oneOf, readDocument, readTime, textOf } from './read-document';
export type * from './types';

/** The published XSD of the IKS documents (resolved next to this file, also from dist/). */
export const schemaPath = Path.join(__dirname, 'schema', 'iks.xsd');

/** The XSD of whole SOAP 1.2 registration envelopes (requests, answers and faults). */
export const envelopeSchemaPath = Path.join(__dirname, 'schema', 'soap-envelope.xsd');
