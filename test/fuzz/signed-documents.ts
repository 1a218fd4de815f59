import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as fc from 'fast-check';

import { IksError } from '../../lib/errors';
import { renderAndSign } from '../../lib/xmldsig/sign';
import { verifyDocument } from '../../lib/xmldsig/verify';
import { documents, ecdsaKey, issued } from '../fixtures/xml/documents';
import { fuzzParameters } from './budget';

export const lab = Lab.script();
const { describe, it } = lab;

const key = ecdsaKey();
const expectation = { publicKey: key.publicKey, keyName: key.keyName, now: issued + 1000 };

describe('verifyDocument() under fuzzing', () => {

    it('never vouches for altered content: an edited document fails with a typed error or verifies as the very same document', () => {

        const edits = fc.tuple(documents(), fc.nat(), fc.constantFrom('insert', 'delete', 'replace', 'swap'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 6 }));
        fc.assert(fc.property(edits, ([doc, at, edit, text]) => {

            const xml = renderAndSign(doc, key);
            const i = at % xml.length;
            const altered = edit === 'insert' ? xml.slice(0, i) + text + xml.slice(i) :
                edit === 'delete' ? xml.slice(0, i) + xml.slice(i + text.length) :
                    edit === 'replace' ? xml.slice(0, i) + text + xml.slice(i + text.length) :
                        xml.slice(0, i) + xml.slice(i + 1, i + 2) + xml.slice(i, i + 1) + xml.slice(i + 2);

            let verified;
            try {
                verified = verifyDocument(altered, expectation);
            }
            catch (error) {
                expect(error, String(error)).to.be.an.instanceof(IksError);
                return;
            }

            // Only edits that do not touch signed content (e.g. white space inside
            // the Signature element) may verify, and then nothing may have changed.
            expect(verified).to.equal(doc);
        }), fuzzParameters(600));
    });

    it('never verifies a document spliced from two signed documents', () => {

        fc.assert(fc.property(documents(), documents(), fc.nat(), fc.nat(), (a, b, cutA, cutB) => {

            const first = renderAndSign(a, key);
            const second = renderAndSign(b, key);
            const spliced = first.slice(0, cutA % first.length) + second.slice(cutB % second.length);
            try {
                const verified = verifyDocument(spliced, expectation);
                // A splice can only verify when it reproduced one of the originals exactly.
                expect([a, b]).to.include(verified);
                expect([first, second]).to.include(spliced);
            }
            catch (error) {
                expect(error, String(error)).to.be.an.instanceof(IksError);
            }
        }), fuzzParameters(300));
    });
});
