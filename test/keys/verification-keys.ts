import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { Ed25519Key } from '../../lib/keys/ed25519';
import { smallOrderEncodings } from '../../lib/keys/edwards';
import { VerificationKeys, type VerificationKey } from '../../lib/keys/verification-keys';
import { signRequestDigest, verifyRequestSignature } from '../../lib/registration/signatures';

export const lab = Lab.script();
const { describe, it } = lab;

const spkiOf = (pair: ReturnType<typeof generateKeyPairSync>) => (pair.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');

/** OpenSSL's key object for any verification key. */
const keyObjectOf = (key: VerificationKey): KeyObject => key instanceof Ed25519Key ? key.keyObject : key;

describe('VerificationKeys', () => {

    it('returns one key per SPKI, and it verifies that key\'s signatures only', () => {

        const keys = new VerificationKeys();
        const alice = generateKeyPairSync('ed25519');
        const mallory = generateKeyPairSync('ed25519');
        const digest = Buffer.alloc(32, 7);
        const signature = signRequestDigest(alice.privateKey, digest);

        const first = keys.get(spkiOf(alice));
        expect(first).to.be.an.instanceof(Ed25519Key);       // raw bytes: libsodium needs no OpenSSL import
        expect(keys.get(spkiOf(alice))).to.shallow.equal(first);
        expect(verifyRequestSignature(first, digest, signature)).to.be.true();
        expect(verifyRequestSignature(keys.get(spkiOf(mallory)), digest, signature)).to.be.false();
    });

    it('verifies nothing with a stored Ed448 or Ed25519 key of small order, where OpenSSL would', () => {

        // Registration refuses these keys (lib/keys/edwards.ts); one stored before it did must not authenticate anyone.
        const keys = new VerificationKeys();
        const ed448 = { spki: Buffer.from('3043300506032b6571033a00', 'hex'), raw: smallOrderEncodings('ed448').find((raw) => raw.every((octet) => octet === 0))! };
        const key = keys.get(Buffer.concat([ed448.spki, ed448.raw]).toString('base64'));
        const forgery = Buffer.concat([ed448.raw, Buffer.alloc(57)]);
        const digest = Buffer.alloc(32, 9);
        const message = Buffer.concat([Buffer.from('IKS-REQUEST-SIGNATURE-1'), digest]);
        // OpenSSL takes R = that point, S = 0 for every message: nothing to do with the message at all.
        expect(verify(null, message, keyObjectOf(key), forgery)).to.be.true();
        expect(verifyRequestSignature(key, digest, forgery)).to.be.false();

        // Ed25519 as an OpenSSL key object: the path taken where sodium-native does not load.
        const identity = smallOrderEncodings('ed25519').find((raw) => raw[0] === 1 && raw[31] === 0)!;
        const object = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: identity.toString('base64url') }, format: 'jwk' });
        const universal = Buffer.concat([identity, Buffer.alloc(32)]);
        expect(verify(null, message, object, universal)).to.be.true();
        expect(verifyRequestSignature(object, digest, universal)).to.be.false();
        expect(verifyRequestSignature(new Ed25519Key(identity), digest, universal)).to.be.false();
    });

    it('imports every supported key type to the key it was exported from', () => {

        const keys = new VerificationKeys();
        const pairs = [
            generateKeyPairSync('ed25519'), generateKeyPairSync('x25519'), generateKeyPairSync('ed448'),
            generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('rsa', { modulusLength: 2048 })
        ];
        for (const pair of pairs) {
            const der = pair.publicKey.export({ type: 'spki', format: 'der' });
            const imported = keyObjectOf(keys.get(der.toString('base64')));
            expect(imported.asymmetricKeyType).to.equal(pair.publicKey.asymmetricKeyType);
            expect(imported.export({ type: 'spki', format: 'der' }).equals(der)).to.be.true();
        }
    });

    it('stays within its bound, dropping the least recently used key', () => {

        const keys = new VerificationKeys(2);
        const [a, b, c] = [0, 1, 2].map(() => spkiOf(generateKeyPairSync('ed25519')));
        const keyA = keys.get(a!);
        const keyB = keys.get(b!);
        keys.get(a!);          // a is now the most recently used
        keys.get(c!);          // evicts b
        expect(keys.size).to.equal(2);
        expect(keys.get(a!)).to.shallow.equal(keyA);
        expect(keys.get(b!)).to.not.shallow.equal(keyB);
    });

    it('throws for material that is not an SPKI, and caches nothing for it', () => {

        const keys = new VerificationKeys();
        expect(() => keys.get(Buffer.from('not a key').toString('base64'))).to.throw();
        expect(keys.size).to.equal(0);
    });
});
