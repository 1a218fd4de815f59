import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as fc from 'fast-check';

import { InvalidKey, InvalidXml } from '../../lib/errors';
import type { SigningKey } from '../../lib/keys/types';
import { renderDocument } from '../../lib/xml/render';
import { renderAndSign, signDocument } from '../../lib/xmldsig/sign';
import { documents, ecdsaKey, rsaKey, samples, xmlsecVerify } from '../fixtures/xml/documents';

export const lab = Lab.script();
const { describe, it, before } = lab;

describe('signDocument()', () => {

    let ecdsa: SigningKey;
    let rsa: SigningKey;

    before(() => {

        ecdsa = ecdsaKey('ksk-2026');
        rsa = rsaKey('ksk-rsa');
    });

    it('appends one enveloped signature as the last child of the root, leaving the content byte for byte', () => {

        const unsigned = renderDocument(samples.KeyList);
        const signed = signDocument(unsigned, ecdsa);
        const start = signed.indexOf('<ds:Signature ');
        const end = signed.indexOf('</ds:Signature>') + '</ds:Signature>'.length;
        expect(signed.slice(0, start) + signed.slice(end)).to.equal(unsigned);
        expect(signed.slice(end)).to.equal('</KeyList>');
        expect(signed).to.contain('<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>');
        expect(signed).to.contain('<ds:KeyInfo><ds:KeyName>ksk-2026</ds:KeyName></ds:KeyInfo>');
    });

    it('signs with ECDSA-SHA256 as raw r||s by default, and with RSA-SHA256', () => {

        const ecSigned = renderAndSign(samples.KeyList, ecdsa);
        expect(ecSigned).to.contain('<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256">');
        expect(Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(ecSigned)![1]!, 'base64')).to.have.length(64);

        const rsaSigned = renderAndSign(samples.KeyList, rsa);
        expect(rsaSigned).to.contain('<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256">');
        expect(Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(rsaSigned)![1]!, 'base64')).to.have.length(256);
    });

    it('produces documents xmlsec1 verifies, for every document type and both algorithms', () => {

        for (const key of [ecdsa, rsa]) {
            const results = xmlsecVerify(key, Object.values(samples).map((doc) => renderAndSign(doc, key)));
            for (const result of results) {
                expect(result.status, result.output).to.equal(0);
                expect(result.output).to.contain('OK');
            }
        }
    });

    it('produces documents xmlsec1 verifies, for generated documents with hostile text', () => {

        const docs = fc.sample(documents({ wild: true }), { numRuns: 60, seed: 20261124 });
        const results = [...xmlsecVerify(ecdsa, docs.slice(0, 45).map((doc) => renderAndSign(doc, ecdsa))), ...xmlsecVerify(rsa, docs.slice(45).map((doc) => renderAndSign(doc, rsa)))];
        expect(results).to.have.length(60);
        for (const result of results) {
            expect(result.status, result.output).to.equal(0);
        }
    });

    it('produces signatures xmlsec1 rejects with another key or after tampering', () => {

        const signed = renderAndSign(samples.KeyList, ecdsa);
        const [wrongKey] = xmlsecVerify(ecdsaKey(), [signed]);
        expect(wrongKey!.status).to.not.equal(0);
        const [tampered] = xmlsecVerify(ecdsa, [signed.replace('bob@', 'bib@')]);
        expect(tampered!.status).to.not.equal(0);
    });

    it('escapes the key name', () => {

        expect(renderAndSign(samples.KeyList, { ...ecdsa, keyName: 'a<b&c' })).to.contain('<ds:KeyName>a&lt;b&amp;c</ds:KeyName>');
    });

    it('refuses a key that does not match its declared algorithm', () => {

        expect(() => renderAndSign(samples.KeyList, { ...ecdsa, algorithm: 'rsa-sha256' })).to.throw(InvalidKey, 'Signing key "ksk-2026" does not match its algorithm rsa-sha256');
        expect(() => renderAndSign(samples.KeyList, { ...rsa, algorithm: 'ecdsa-p256-sha256' })).to.throw(InvalidKey, /does not match/);
        expect(() => renderAndSign(samples.KeyList, { ...rsa, algorithm: 'dsa' as never })).to.throw(InvalidKey, /does not match/);
    });

    it('refuses input that is not a rendered document', () => {

        for (const bad of ['', 'text', '<a/>', '<a>', ' <a></a>', '<a></a> ']) {
            expect(() => signDocument(bad, ecdsa), bad).to.throw(InvalidXml, 'Only a rendered canonical document can be signed');
        }
    });
});
