import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as fc from 'fast-check';

import { InvalidXml } from '../../lib/errors';
import { readDocument, readTime } from '../../lib/xml/read-document';
import { renderDocument } from '../../lib/xml/render';
import type { IksDocument } from '../../lib/xml/types';
import { documents, samples } from '../fixtures/xml/documents';

export const lab = Lab.script();
const { describe, it } = lab;

/** The sample key list with `replace` applied to its rendered XML. */
function tampered(type: IksDocument['type'], search: string | RegExp, replacement: string): string {

    const xml = renderDocument(samples[type]);
    const changed = xml.replace(search, replacement);
    expect(changed, 'the tampering must change the document').to.not.equal(xml);
    return changed;
}

describe('readDocument()', () => {

    it('reads back every document type exactly as rendered', () => {

        for (const doc of Object.values(samples)) {
            expect(readDocument(renderDocument(doc))).to.equal(doc);
        }
    });

    it('round-trips any valid document', () => {

        fc.assert(fc.property(documents(), (doc) => {

            expect(readDocument(renderDocument(doc))).to.equal(doc);
        }), { numRuns: 300 });
    });

    it('accepts a prefixed IKS namespace and white space between elements', () => {

        const xml = '<i:NegativeAnswer xmlns:i="urn:iks:xml:1">\n  <i:Name>a@b</i:Name>\n  <i:Issued>2026-11-24T18:00:00Z</i:Issued>\n  <i:NotAfter>2026-11-25T18:00:00Z</i:NotAfter>\n  <i:Reason>no-keys</i:Reason>\n</i:NegativeAnswer>';
        expect(readDocument(xml)).to.equal({ type: 'NegativeAnswer', name: 'a@b', issuedAt: Date.UTC(2026, 10, 24, 18), notAfter: Date.UTC(2026, 10, 25, 18), reason: 'no-keys' });
    });

    it('refuses a wrong or missing namespace and unknown root elements', () => {

        expect(() => readDocument(tampered('KeyList', 'urn:iks:xml:1', 'urn:iks:xml:2'))).to.throw(InvalidXml, 'Document root KeyList is not in the namespace urn:iks:xml:1');
        expect(() => readDocument(tampered('KeyList', ' xmlns="urn:iks:xml:1"', ''))).to.throw(InvalidXml, /not in the namespace/);
        expect(() => readDocument('<KeyRing xmlns="urn:iks:xml:1"></KeyRing>')).to.throw(InvalidXml, 'Unknown document element KeyRing');
    });

    it('refuses unknown, foreign, misplaced and repeated elements', () => {

        expect(() => readDocument(tampered('KeyList', '</Name>', '</Name><Extra></Extra>'))).to.throw(InvalidXml, 'Element KeyList lacks Issued (found Extra)');
        expect(() => readDocument(tampered('KeyList', '</KeyList>', '<Extra></Extra></KeyList>'))).to.throw(InvalidXml, 'Element KeyList contains the unexpected element Extra');
        expect(() => readDocument(tampered('KeyList', '</Format>', '</Format><x:Format xmlns:x="urn:x">spki</x:Format>'))).to.throw(InvalidXml, /is not in the IKS namespace/);
        expect(() => readDocument(tampered('NegativeAnswer', '</NegativeAnswer>', '<Reason>no-keys</Reason></NegativeAnswer>'))).to.throw(InvalidXml, /unexpected element Reason/);
        expect(() => readDocument(tampered('KeyDocument', /<Status>revoked<\/Status>(<Revoked>[^<]*<\/Revoked>)/, '$1<Status>revoked</Status>'))).to.throw(InvalidXml, /lacks Status/);
        expect(() => readDocument(tampered('KeyList', '</Name>', '</Name><Name>x</Name>'))).to.throw(InvalidXml, /lacks Issued/);
    });

    it('refuses a signed document: only verification hands over signed content', () => {

        expect(() => readDocument(tampered('KeyList', '</KeyList>', '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"></ds:Signature></KeyList>'))).to.throw(InvalidXml, /not in the IKS namespace/);
    });

    it('refuses missing required fields', () => {

        expect(() => readDocument(tampered('KeyList', /<Name>[^<]*<\/Name>/, ''))).to.throw(InvalidXml, 'Element KeyList lacks Name (found Issued)');
        expect(() => readDocument(tampered('KeyList', /<NotAfter>[^<]*<\/NotAfter>/, ''))).to.throw(InvalidXml, /lacks NotAfter/);
        expect(() => readDocument(tampered('KeyDocument', /<Material>[^<]*<\/Material>/, ''))).to.throw(InvalidXml, 'Element Key lacks Material (found Container)');
        expect(() => readDocument(tampered('KeyDocument', /<Container>[^<]*<\/Container>/, ''))).to.throw(InvalidXml, 'Element Key lacks Container');
        expect(() => readDocument(tampered('PublishedKey', /<Key id.*<\/Key>/s, ''))).to.throw(InvalidXml, 'Element PublishedKey lacks Key');
        expect(() => readDocument(tampered('KeyList', ' id="0123456789abcdef"', ''))).to.throw(InvalidXml, 'Element Key lacks a valid id attribute');
    });

    it('refuses bad values', () => {

        const cases: [IksDocument['type'], RegExp | string, string, RegExp | string][] = [
            ['KeyList', '<Name>bob@example.test</Name>', '<Name></Name>', 'Element Name is empty'],
            ['KeyList', '<Size>256</Size>', '<Size>0256</Size>', 'Element Size has an invalid value'],
            ['KeyList', '<Size>256</Size>', '<Size>-1</Size>', /Size/],
            ['KeyList', '<Algorithm>ec</Algorithm>', '<Algorithm>dsa</Algorithm>', 'Element Algorithm has the unknown value "dsa"'],
            ['KeyList', '<Format>spki</Format>', '<Format>pgp</Format>', /Format has the unknown value/],
            ['KeyList', /<Fingerprint>a/, '<Fingerprint>A', 'Element Fingerprint has an invalid value'],
            ['KeyList', '<Usage>sign</Usage>', '<Usage>a b</Usage>', 'Element Usage has an invalid value'],
            ['KeyList', '<Curve>P-256</Curve>', '<Curve></Curve>', 'Element Curve has an invalid value'],
            ['KeyList', '<Key id="0123456789abcdef">', '<Key id="a b">', 'Element Key lacks a valid id attribute'],
            ['KeyList', '<Key id="0123456789abcdef">', '<Key id="x" other="1">', 'Element Key has the unexpected attribute other'],
            ['KeyList', '<Name>', '<Name a="1">', 'Element Name has the unexpected attribute a'],
            ['KeyList', '<KeyList xmlns="urn:iks:xml:1">', '<KeyList xmlns="urn:iks:xml:1" v="2">', 'Element KeyList has the unexpected attribute v'],
            ['KeyList', '<Name>bob@example.test</Name>', '<Name><b>bob</b></Name>', 'Element Name must contain text only'],
            ['KeyList', '<Issued>', 'text<Issued>', 'Element KeyList contains unexpected text'],
            ['KeyDocument', '<Status>revoked</Status>', '<Status>lost</Status>', /Status has the unknown value/],
            ['KeyDocument', /<Material>[^<]*<\/Material>/, '<Material>not base64!</Material>', 'Element Material has an invalid value'],
            ['KeyDocument', /<Material>[^<]*<\/Material>/, '<Material></Material>', 'Element Material is empty'],
            ['KeyDocument', /<Container>[^<]*<\/Container>/, '<Container></Container>', 'Element Container is empty'],
            ['NegativeAnswer', '<Reason>no-such-key</Reason>', '<Reason>gone</Reason>', /Reason has the unknown value/],
            ['NegativeAnswer', '<KeyId>0123456789abcdef</KeyId>', '<KeyId>../x y</KeyId>', 'Element KeyId has an invalid value'],
            ['PublishedKey', '<Role>rsk</Role>', '<Role>root</Role>', /Role has the unknown value/],
            ['PublishedKey', '<KeyName>rsk-2026</KeyName>', '<KeyName></KeyName>', 'Element KeyName is empty']
        ];

        for (const [type, search, replacement, error] of cases) {
            expect(() => readDocument(tampered(type, search, replacement)), `${type} ${replacement}`).to.throw(InvalidXml, error);
        }
    });

    it('refuses bad dates', () => {

        for (const bad of ['2026-11-24T18:00:00', '2026-11-24T18:00:00.000Z', '2026-11-24T18:00:00+00:00', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-24T24:00:00Z', '2026-11-24T18:60:00Z', '2026-11-24T18:00:60Z', '26-11-24T18:00:00Z', 'yesterday']) {
            expect(() => readDocument(tampered('KeyList', '<Issued>2026-11-24T18:00:00Z</Issued>', `<Issued>${bad}</Issued>`)), bad).to.throw(InvalidXml, /is not a UTC date-time/);
        }
    });

    it('refuses malformed or dangerous XML', () => {

        expect(() => readDocument('<!DOCTYPE KeyList [<!ENTITY x "y">]>' + renderDocument(samples.KeyList))).to.throw(InvalidXml, /DOCTYPE/);
        expect(() => readDocument(renderDocument(samples.KeyList).slice(0, -3))).to.throw(InvalidXml);
    });
});

describe('readTime()', () => {

    it('reads second-precision UTC times, including years below 100', () => {

        expect(readTime('2026-11-24T18:00:00Z')).to.equal(Date.UTC(2026, 10, 24, 18));
        expect(readTime('0000-01-01T00:00:00Z')).to.equal(Date.parse('0000-01-01T00:00:00Z'));
        expect(readTime('0099-12-31T23:59:59Z')).to.equal(Date.parse('0099-12-31T23:59:59Z'));
        expect(readTime('2024-02-29T00:00:00Z')).to.equal(Date.UTC(2024, 1, 29));
        expect(() => readTime('2023-02-29T00:00:00Z')).to.throw(InvalidXml);
    });
});
