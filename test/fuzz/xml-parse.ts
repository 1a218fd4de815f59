import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as fc from 'fast-check';

import { InvalidXml } from '../../lib/errors';
import { parseXml } from '../../lib/xml/parse';
import { renderAndSign } from '../../lib/xmldsig/sign';
import { documents, ecdsaKey } from '../fixtures/xml/documents';
import { fuzzParameters } from './budget';

export const lab = Lab.script();
const { describe, it } = lab;

/** The parser's whole contract under attack: a tree, or InvalidXml — nothing else escapes. */
function parsesOrRefuses(text: string): 'parsed' | 'refused' {

    try {
        parseXml(text);
        return 'parsed';
    }
    catch (error) {
        expect(error, String(error)).to.be.an.instanceof(InvalidXml);
        return 'refused';
    }
}

const key = ecdsaKey();

/** Valid signed documents with one edit at a random place: insert, delete or replace. */
const mutatedDocuments = fc.tuple(documents(), fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }))
    .map(([doc, at, edit, text]) => {

        const xml = renderAndSign(doc, key);
        const i = at % xml.length;
        return edit === 'insert' ? xml.slice(0, i) + text + xml.slice(i) :
            edit === 'delete' ? xml.slice(0, i) + xml.slice(i + text.length) :
                xml.slice(0, i) + text + xml.slice(i + text.length);
    });

describe('parseXml() under fuzzing', () => {

    it('parses or refuses random text, never throwing anything else', () => {

        fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {

            parsesOrRefuses(text);
        }), fuzzParameters(3000));
    });

    it('parses or refuses markup-shaped noise', () => {

        const token = fc.constantFrom('<', '>', '</', '/>', '<a', '<b:c', ' x="1"', ' xmlns="u"', ' xmlns:b="v"', '&amp;', '&#x0;', '&#65;', '&lt', ']]>', '<![CDATA[', '<!--', '-->', '<?xml version="1.0"?>', '<?pi x?>', '=', '"', '\'', 'text', '\u0000', '\uFFFE', '\uD800');
        fc.assert(fc.property(fc.array(token, { maxLength: 60 }), (tokens) => {

            parsesOrRefuses(tokens.join(''));
        }), fuzzParameters(3000));
    });

    it('parses or refuses mutated signed documents', () => {

        fc.assert(fc.property(mutatedDocuments, (xml) => {

            parsesOrRefuses(xml);
        }), fuzzParameters(400));
    });

    it('refuses every DOCTYPE and entity trick', () => {

        const tricks = fc.constantFrom(
            '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
            '<!DOCTYPE a [<!ENTITY x0 "ha"><!ENTITY x1 "&x0;&x0;&x0;&x0;&x0;&x0;&x0;&x0;&x0;&x0;">]><a>&x1;</a>',
            '<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
            '<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1/x">%p;]><a/>',
            '<a b="&x;"/>',
            '<a>&undefined;</a>',
            '<!doctype a><a/>',
            '<a><!DOCTYPE b></a>',
            '<a/><!ENTITY x "y">'
        );
        fc.assert(fc.property(tricks, fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), (trick, padding) => {

            expect(parsesOrRefuses(padding.replace(/[<&]/g, '') + trick)).to.equal('refused');
        }), fuzzParameters(300));
    });

    it('refuses deep nesting and oversized input before building a tree', () => {

        fc.assert(fc.property(fc.integer({ min: 33, max: 5000 }), (depth) => {

            expect(parsesOrRefuses('<a>'.repeat(depth) + '</a>'.repeat(depth))).to.equal('refused');
        }), fuzzParameters(200));

        expect(parsesOrRefuses(`<a b="${'x'.repeat(70 * 1024)}"/>`)).to.equal('refused');
        expect(parsesOrRefuses(`<a>${'<b/>'.repeat(20_000)}</a>`)).to.equal('refused');
    });

    it('keeps namespaces apart: a wrong or unbound prefix never resolves to ours', () => {

        const ours = 'urn:example:ours';
        fc.assert(fc.property(fc.constantFrom('p', 'q', 'xml', 'xmlns', ''), fc.oneof(fc.constant(ours), fc.constant(`${ours}x`), fc.string({ unit: 'grapheme-ascii', maxLength: 12 })), (prefix, uri) => {

            const cleanUri = uri.replace(/["<&]/g, '');
            const qualified = prefix === '' ? 'Root' : `${prefix}:Root`;
            const declaration = prefix === '' ? `xmlns="${cleanUri}"` : `xmlns:${prefix}="${cleanUri}"`;
            let root;
            try {
                root = parseXml(`<${qualified} ${declaration}/>`);
            }
            catch (error) {
                expect(error).to.be.an.instanceof(InvalidXml);
                return;
            }

            expect(root.namespace === ours).to.equal(cleanUri === ours);
        }), fuzzParameters(500));
    });
});
