import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { sha1Hex, sha256Hex, spkiDer } from '../../lib/keys';

export const lab = Lab.script();
const { describe, it } = lab;

describe('digest', () => {

    it('computes lowercase hex SHA-256 (FIPS 180-2 "abc" vector)', () => {

        expect(sha256Hex(Buffer.from('abc'))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
        expect(sha256Hex(new Uint8Array())).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });

    it('computes lowercase hex SHA-1 (FIPS 180-2 "abc" vector)', () => {

        expect(sha1Hex(Buffer.from('abc'))).to.equal('a9993e364706816aba3e25717850c26c9cd0d89d');
    });

    it('exports the same DER SPKI as OpenSSL for a public key', () => {

        const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
        const der = spkiDer(publicKey);
        expect(der.equals(execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pem }))).to.be.true();
        expect(spkiDer(createPublicKey({ key: der, format: 'der', type: 'spki' })).equals(der)).to.be.true();
    });
});
