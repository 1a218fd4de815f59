import * as Fs from 'node:fs';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as fc from 'fast-check';

import { schemaPath } from '../../lib/xml';
import type { SigningKey } from '../../lib/keys/types';
import { renderAndSign } from '../../lib/xmldsig/sign';
import { documents, ecdsaKey, rsaKey, samples, schemaFile, xmllintValidate } from '../fixtures/xml/documents';

export const lab = Lab.script();
const { describe, it, before } = lab;

describe('iks.xsd', () => {

    let ecdsa: SigningKey;
    let rsa: SigningKey;

    before(() => {

        ecdsa = ecdsaKey('ksk-2026');
        rsa = rsaKey('ksk-rsa');
    });

    it('is published next to the module (schemaPath), with the signature profile it imports', () => {

        expect(schemaPath).to.equal(schemaFile);
        expect(Fs.readFileSync(schemaPath, 'utf8')).to.contain('schemaLocation="xmldsig-profile.xsd"');
    });

    it('validates every signed document type, ECDSA and RSA', () => {

        const docs = [ecdsa, rsa].flatMap((key) => Object.values(samples).map((doc) => renderAndSign(doc, key)));
        const result = xmllintValidate(docs);
        expect(result.status, result.output).to.equal(0);
        expect(result.output.match(/ validates$/gm)).to.have.length(10);
    });

    it('validates generated documents that readDocument accepts', () => {

        const docs = fc.sample(documents(), { numRuns: 100, seed: 7 }).map((doc) => renderAndSign(doc, ecdsa));
        const result = xmllintValidate(docs);
        expect(result.status, result.output).to.equal(0);
    });

    it('rejects unknown elements, missing fields, bad values and signatures outside the profile', () => {

        const signed = renderAndSign(samples.KeyList, ecdsa);
        const bad = [
            signed.replace('</Name>', '</Name><Extra></Extra>'),
            signed.replace(/<Issued>[^<]*<\/Issued>/, ''),
            signed.replace('<Issued>2026-11-24T18:00:00Z', '<Issued>2026-11-24T18:00:00.5Z'),
            signed.replace('<Algorithm>ec</Algorithm>', '<Algorithm>dsa</Algorithm>'),
            signed.replace(/<ds:Signature .*<\/ds:Signature>/, ''),
            signed.replace('xmldsig-more#ecdsa-sha256', 'xmldsig#rsa-sha1'),
            signed.replace('<ds:Reference URI="">', '<ds:Reference URI="#x">'),
            signed.replace('</ds:KeyInfo>', '</ds:KeyInfo><ds:Object></ds:Object>'),
            signed.replace('urn:iks:xml:1', 'urn:iks:xml:2')
        ];

        for (const doc of bad) {
            const result = xmllintValidate([doc]);
            expect(result.status, doc).to.not.equal(0);
            expect(result.output).to.contain('fails to validate');
        }
    });
});
