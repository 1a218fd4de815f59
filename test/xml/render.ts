import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import { DOMParser } from '@xmldom/xmldom';
import * as fc from 'fast-check';
import { ExclusiveCanonicalization } from 'xml-crypto';

import { InvalidXml } from '../../lib/errors';
import { IKS_NAMESPACE, renderDocument, renderTime } from '../../lib/xml/render';
import type { IksDocument } from '../../lib/xml/types';
import { documents, issued, metadata, notAfter, samples } from '../fixtures/xml/documents';

export const lab = Lab.script();
const { describe, it } = lab;

/** xml-crypto's exclusive c14n of the whole document (an implementation independent of ours). */
function canonicalize(xml: string): string {

    const doc = new DOMParser({ onError: (level, message) => {

        if (level !== 'warning') {
            throw new Error(`${level}: ${message}`);
        }
    } }).parseFromString(xml, 'text/xml');
    return new ExclusiveCanonicalization().process(doc.documentElement! as never, {}).toString();
}

describe('renderDocument()', () => {

    it('renders a key list in canonical form with the IKS namespace on the root only', () => {

        const xml = renderDocument({ type: 'KeyList', name: 'bob@example.test', issuedAt: issued, notAfter, keys: [metadata] });
        expect(xml).to.equal(
            `<KeyList xmlns="${IKS_NAMESPACE}"><Name>bob@example.test</Name><Issued>2026-11-24T18:00:00Z</Issued><NotAfter>2026-11-25T18:00:00Z</NotAfter>` +
            '<Key id="0123456789abcdef"><Algorithm>ec</Algorithm><Size>256</Size><Curve>P-256</Curve><Format>spki</Format>' +
            `<Fingerprint>${'a'.repeat(64)}</Fingerprint><Usage>sign</Usage><Usage>encrypt</Usage>` +
            '<Registered>2026-11-24T17:00:00Z</Registered><Expires>2027-11-24T18:00:00Z</Expires></Key></KeyList>');
    });

    it('renders every document type with its own root element and fields', () => {

        expect(renderDocument(samples.KeyDocument)).to.match(/^<KeyDocument xmlns="urn:iks:xml:1"><Name>bob@example.test<\/Name>.*<Status>revoked<\/Status><Revoked>2026-11-24T17:59:59Z<\/Revoked><Reason>key compromise<\/Reason><Key id="0123456789abcdef">.*<Material>MFkw[^<]*<\/Material><Container>-----BEGIN PUBLIC KEY-----\n[^<]*<\/Container><\/Key><\/KeyDocument>$/s);
        expect(renderDocument(samples.NegativeAnswer)).to.endWith('<Reason>no-such-key</Reason><KeyId>0123456789abcdef</KeyId></NegativeAnswer>');
        expect(renderDocument(samples.PublishedKey)).to.contain('<Role>rsk</Role><KeyName>rsk-2026</KeyName><Key id=');
    });

    it('leaves optional fields out when absent', () => {

        const { curve, expiresAt, ...bare } = metadata;
        const xml = renderDocument({ type: 'KeyList', name: 'a@b', issuedAt: 0, notAfter: 0, keys: [{ ...bare, usage: [] }] });
        expect(xml).to.not.contain('<Curve>');
        expect(xml).to.not.contain('<Expires>');
        expect(xml).to.not.contain('<Usage>');
        expect(curve).to.exist();
        expect(expiresAt).to.exist();
        expect(renderDocument({ type: 'NegativeAnswer', name: 'a@b', issuedAt: 0, notAfter: 0, reason: 'no-keys' })).to.not.contain('KeyId');
        expect(renderDocument({ ...samples.KeyDocument, status: 'active', revokedAt: undefined, revocationReason: undefined } as unknown as IksDocument)).to.not.contain('Revoked');
    });

    it('escapes text and attribute values as C14N requires', () => {

        const xml = renderDocument({ type: 'KeyList', name: 'a&b<c>d"e\'f\rg\nh\ti', issuedAt: 0, notAfter: 0, keys: [{ ...metadata, id: 'a&b<c>d"e\'f\rg\nh\ti' }] });
        expect(xml).to.contain('<Name>a&amp;b&lt;c&gt;d"e\'f&#xD;g\nh\ti</Name>');
        expect(xml).to.contain('<Key id="a&amp;b&lt;c>d&quot;e\'f&#xD;g&#xA;h&#x9;i">');
    });

    it('produces exactly the bytes an independent exclusive c14n produces, for any document', () => {

        fc.assert(fc.property(documents({ wild: true }), (doc) => {

            const xml = renderDocument(doc);
            expect(canonicalize(xml)).to.equal(xml);
        }), { numRuns: 500 });
    });

    it('refuses characters XML cannot carry, and the line separators xmldom would rewrite', () => {

        for (const bad of ['\u0000', '\u0001', '\u000B', '\uFFFE', '\uD800', 'x\uDC00', '\u0085', '\u2028', '\u2029']) {
            expect(() => renderDocument({ ...samples.NegativeAnswer, name: bad })).to.throw(InvalidXml, /name contains a character/);
            expect(() => renderDocument({ type: 'KeyList', name: 'a', issuedAt: 0, notAfter: 0, keys: [{ ...metadata, id: bad }] })).to.throw(InvalidXml, /key.id contains a character/);
        }
    });

    it('refuses values of the wrong type, bad sizes and unknown document types', () => {

        expect(() => renderDocument({ ...samples.NegativeAnswer, name: 42 } as unknown as IksDocument)).to.throw(InvalidXml, /name must be a string/);
        expect(() => renderDocument({ type: 'KeyList', name: 'a', issuedAt: 0, notAfter: 0, keys: [{ ...metadata, id: 7 }] } as unknown as IksDocument)).to.throw(InvalidXml, /key.id must be a string/);
        for (const size of [0, -1, 1.5, NaN]) {
            expect(() => renderDocument({ type: 'KeyList', name: 'a', issuedAt: 0, notAfter: 0, keys: [{ ...metadata, size }] })).to.throw(InvalidXml, /size/);
        }

        expect(() => renderDocument({ ...samples.KeyList, type: 'Other' } as unknown as IksDocument)).to.throw(InvalidXml, /Unknown document type Other/);
    });
});

describe('renderTime()', () => {

    it('renders UTC with second precision, truncating milliseconds', () => {

        expect(renderTime(Date.UTC(2026, 10, 24, 18, 0, 0, 999))).to.equal('2026-11-24T18:00:00Z');
        expect(renderTime(0)).to.equal('1970-01-01T00:00:00Z');
        expect(renderTime(Date.UTC(9999, 11, 31, 23, 59, 59, 999))).to.equal('9999-12-31T23:59:59Z');
        expect(renderTime(Date.parse('0000-01-01T00:00:00Z'))).to.equal('0000-01-01T00:00:00Z');
    });

    it('refuses times outside four-digit years and non-numbers', () => {

        for (const bad of [NaN, Infinity, Date.UTC(10000, 0, 1), Date.parse('0000-01-01T00:00:00Z') - 1]) {
            expect(() => renderTime(bad, 'notAfter')).to.throw(InvalidXml, 'Document field notAfter is not a representable time');
        }
    });
});
