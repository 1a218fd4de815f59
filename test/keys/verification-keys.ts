import { generateKeyPairSync, sign, verify } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { VerificationKeys } from '../../lib/keys/verification-keys';

export const lab = Lab.script();
const { describe, it } = lab;

const spkiOf = (pair: ReturnType<typeof generateKeyPairSync>) => (pair.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');

describe('VerificationKeys', () => {

    it('returns one key object per SPKI, and it verifies that key\'s signatures only', () => {

        const keys = new VerificationKeys();
        const alice = generateKeyPairSync('ed25519');
        const mallory = generateKeyPairSync('ed25519');
        const message = Buffer.from('request digest');
        const signature = sign(null, message, alice.privateKey);

        const first = keys.get(spkiOf(alice));
        expect(keys.get(spkiOf(alice))).to.shallow.equal(first);
        expect(verify(null, message, first, signature)).to.be.true();
        expect(verify(null, message, keys.get(spkiOf(mallory)), signature)).to.be.false();
    });

    it('imports every supported key type to the key it was exported from', () => {

        const keys = new VerificationKeys();
        const pairs = [
            generateKeyPairSync('ed25519'), generateKeyPairSync('x25519'), generateKeyPairSync('ed448'),
            generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('rsa', { modulusLength: 2048 })
        ];
        for (const pair of pairs) {
            const der = pair.publicKey.export({ type: 'spki', format: 'der' });
            const imported = keys.get(der.toString('base64'));
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
