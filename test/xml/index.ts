import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import * as Xml from '../../lib/xml';
import { samples } from '../fixtures/xml/documents';

export const lab = Lab.script();
const { describe, it } = lab;

describe('lib/xml', () => {

    it('exposes rendering, parsing, reading and the schema path', () => {

        const xml = Xml.renderDocument(samples.NegativeAnswer);
        expect(Xml.readDocument(xml)).to.equal(samples.NegativeAnswer);
        expect(Xml.parseXml(xml).namespace).to.equal(Xml.IKS_NAMESPACE);
        expect(Xml.childElements(Xml.parseXml(xml))).to.have.length(5);
        expect(Xml.textContent(Xml.parseXml('<a>x</a>'))).to.equal('x');
        expect(() => Xml.screenXml('<!DOCTYPE a><a/>')).to.throw();
        expect(Xml.readTime(Xml.renderTime(0))).to.equal(0);
        expect(Xml.schemaPath).to.endWith('iks.xsd');
    });
});
