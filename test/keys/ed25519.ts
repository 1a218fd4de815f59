import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { InvalidKey } from '../../lib/errors';
import { ed25519Backend, Ed25519Key, verifyEd25519 } from '../../lib/keys/ed25519';

export const lab = Lab.script();
const { describe, it } = lab;

const fromRaw = (raw: Buffer): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });

// The group order L, little-endian: S + L is the same scalar in a non-canonical encoding.
const order = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

function addOrder(s: Buffer): Buffer {

    const sum = Buffer.alloc(32);
    let carry = 0;
    for (let i = 0; i < 32; ++i) {
        const byte = s[i]! + order[i]! + carry;
        sum[i] = byte & 0xff;
        carry = byte >> 8;
    }

    return sum;
}

describe('verifyEd25519', () => {

    it('verifies with libsodium on this machine (sodium-native has a prebuilt binding for it)', () => {

        expect(ed25519Backend()).to.equal('libsodium');
    });

    it('agrees with OpenSSL on genuine signatures and on altered ones', () => {

        for (let i = 0; i < 200; ++i) {
            const pair = generateKeyPairSync('ed25519');
            const message = randomBytes(i % 97);
            const signature = sign(null, message, pair.privateKey);
            expect(verifyEd25519(pair.publicKey, message, signature)).to.be.true();

            const flipped = Buffer.from(signature);
            flipped[i % 64]! ^= 1 << (i % 8);
            const alteredMessage = Buffer.concat([message, Buffer.from([i & 0xff])]);
            for (const [candidateMessage, candidateSignature] of [[message, flipped], [alteredMessage, signature]] as const) {
                expect(verifyEd25519(pair.publicKey, candidateMessage, candidateSignature)).to.equal(verify(null, candidateMessage, pair.publicKey, candidateSignature));
                expect(verifyEd25519(pair.publicKey, candidateMessage, candidateSignature)).to.be.false();
            }
        }
    });

    it('verifies with a key made from raw bytes, whose OpenSSL key object is the key OpenSSL exported', () => {

        const pair = generateKeyPairSync('ed25519');
        const raw = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url');
        const key = new Ed25519Key(raw);
        raw.fill(0);                // the caller's buffer is not kept
        expect(key.keyObject.equals(pair.publicKey)).to.be.true();
        expect(key.keyObject).to.shallow.equal(key.keyObject);
        const message = Buffer.from('message');
        const signature = sign(null, message, pair.privateKey);
        expect(verifyEd25519(key, message, signature)).to.be.true();
        expect(verifyEd25519(key, Buffer.from('other'), signature)).to.be.false();
    });

    it('refuses raw keys of a length other than 32 bytes', () => {

        for (const length of [0, 31, 33, 57]) {
            expect(() => new Ed25519Key(Buffer.alloc(length, 1))).to.throw(InvalidKey, `an Ed25519 public key is 32 bytes, not ${length}`);
        }
    });

    it('refuses a signature by another key', () => {

        const alice = generateKeyPairSync('ed25519');
        const mallory = generateKeyPairSync('ed25519');
        const message = Buffer.from('IKS-REQUEST-SIGNATURE-1 digest');
        expect(verifyEd25519(alice.publicKey, message, sign(null, message, mallory.privateKey))).to.be.false();
    });

    it('refuses signatures of the wrong length without throwing', () => {

        const pair = generateKeyPairSync('ed25519');
        const message = Buffer.from('message');
        const signature = sign(null, message, pair.privateKey);
        for (const wrong of [Buffer.alloc(0), signature.subarray(0, 63), Buffer.concat([signature, Buffer.alloc(1)])]) {
            expect(verifyEd25519(pair.publicKey, message, wrong)).to.be.false();
        }
    });

    it('refuses a non-canonical S (S + L), as RFC 8032 §5.1.7 requires', () => {

        const pair = generateKeyPairSync('ed25519');
        const message = Buffer.from('message');
        const signature = sign(null, message, pair.privateKey);
        const malleated = Buffer.concat([signature.subarray(0, 32), addOrder(signature.subarray(32))]);
        expect(verifyEd25519(pair.publicKey, message, malleated)).to.be.false();
    });

    it('refuses the universal forgery R = identity, S = 0 under a small-order key', () => {

        // Public key = the identity point; R = identity, S = 0 satisfies [S]B = R + [k]A for every message.
        const identity = Buffer.alloc(32);
        identity[0] = 1;
        const key = fromRaw(identity);
        const forgery = Buffer.alloc(64);
        forgery[0] = 1;
        const message = Buffer.from('register a key for alice@example.test');
        // OpenSSL 3.0 (Node 20) accepts this pair for any message.
        expect(verifyEd25519(key, message, forgery)).to.be.false();
    });

    it('falls back to OpenSSL where sodium-native does not load', () => {

        const refuseSodium = `const Module = require('node:module'); const load = Module._load; Module._load = function (request, ...rest) { if (request === 'sodium-native') { throw new Error('no binding'); } return load.call(this, request, ...rest); };`;
        const script = `${refuseSodium}
            const { generateKeyPairSync, sign } = require('node:crypto');
            const { ed25519Backend, Ed25519Key, verifyEd25519 } = require(${JSON.stringify(Path.join(__dirname, '..', '..', 'lib', 'keys', 'ed25519.ts'))});
            const pair = generateKeyPairSync('ed25519');
            const raw = new Ed25519Key(Buffer.from(pair.publicKey.export({ format: 'jwk' }).x, 'base64url'));
            const message = Buffer.from('message');
            const signature = sign(null, message, pair.privateKey);
            console.log(JSON.stringify([ed25519Backend(), verifyEd25519(pair.publicKey, message, signature), verifyEd25519(pair.publicKey, Buffer.from('other'), signature), verifyEd25519(pair.publicKey, message, signature.subarray(1)),
                verifyEd25519(raw, message, signature), verifyEd25519(raw, Buffer.from('other'), signature)]));`;
        const child = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { encoding: 'utf8', cwd: Path.join(__dirname, '..', '..') });
        expect(child.status, child.stderr).to.equal(0);
        expect(JSON.parse(child.stdout)).to.equal(['openssl', true, false, false, true, false]);
    });
});
