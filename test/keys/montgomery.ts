import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { montgomeryKeyProblem, smallOrderMontgomeryEncodings, smallOrderUs } from '../../lib/keys/montgomery';

export const lab = Lab.script();
const { describe, it } = lab;

const internals = {
    // libsodium's list of X25519 public keys crypto_scalarmult refuses (ed25519/ref10 blocklist,
    // little-endian octets), written out here as an independent source: the canonical ones
    // are the small-order points; p and p + 1 are 0 and 1 encoded non-canonically.
    libsodium25519: [
        '0000000000000000000000000000000000000000000000000000000000000000',
        '0100000000000000000000000000000000000000000000000000000000000000',
        'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
        '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
        'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
    ],
    nonCanonical25519: [
        'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
        'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
    ],
    rawOf: (algorithm: 'x25519' | 'x448') => {

        const der = generateKeyPairSync(algorithm as 'x25519').publicKey.export({ type: 'spki', format: 'der' });
        return der.subarray(der.length - (algorithm === 'x25519' ? 32 : 56));
    },
    jwkKey: (algorithm: 'x25519' | 'x448', raw: Buffer) => createPublicKey({ key: { kty: 'OKP', crv: algorithm === 'x25519' ? 'X25519' : 'X448', x: raw.toString('base64url') }, format: 'jwk' })
};

describe('keys/montgomery', () => {

    it('computes exactly the small-order X25519 points libsodium lists', () => {

        const computed = smallOrderMontgomeryEncodings('x25519').map((raw) => raw.toString('hex')).sort();
        expect(computed).to.equal([...internals.libsodium25519].sort());
        expect(smallOrderUs('x448').size).to.equal(3);
    });

    it('small-order keys make every shared secret the same whatever the private key (OpenSSL refuses the all-zero result)', () => {

        for (const algorithm of ['x25519', 'x448'] as const) {
            for (const raw of smallOrderMontgomeryEncodings(algorithm)) {
                expect(montgomeryKeyProblem(algorithm, raw)).to.match(/point of small order/);
                const publicKey = internals.jwkKey(algorithm, raw);
                for (let i = 0; i < 4; ++i) {
                    const { privateKey } = generateKeyPairSync(algorithm as 'x25519');
                    expect(() => diffieHellman({ privateKey, publicKey })).to.throw();
                }
            }

            // A generated key agrees on a secret that depends on the private key.
            const { publicKey } = generateKeyPairSync(algorithm as 'x25519');
            const secrets = Array.from({ length: 2 }, () => diffieHellman({ privateKey: generateKeyPairSync(algorithm as 'x25519').privateKey, publicKey }).toString('hex'));
            expect(secrets[0]).to.not.equal(secrets[1]);
        }
    });

    it('refuses non-canonical encodings: u not below p, and for X25519 the top bit set', () => {

        for (const hex of internals.nonCanonical25519) {
            expect(montgomeryKeyProblem('x25519', Buffer.from(hex, 'hex'))).to.match(/not canonically encoded/);
        }

        const topBit = Buffer.from(internals.rawOf('x25519'));
        topBit[31]! |= 0x80;
        expect(montgomeryKeyProblem('x25519', topBit)).to.match(/top bit is set/);

        const p448 = (1n << 448n) - (1n << 224n) - 1n;
        for (const u of [p448, p448 + 1n, (1n << 448n) - 1n]) {
            expect(montgomeryKeyProblem('x448', Buffer.from(u.toString(16).padStart(112, '0'), 'hex').reverse())).to.match(/not canonically encoded/);
        }
    });

    it('accepts generated keys and names a wrong length', () => {

        for (const algorithm of ['x25519', 'x448'] as const) {
            for (let i = 0; i < 16; ++i) {
                expect(montgomeryKeyProblem(algorithm, internals.rawOf(algorithm))).to.be.null();
            }
        }

        expect(montgomeryKeyProblem('x25519', Buffer.alloc(31, 9))).to.equal('an X25519 public key is 32 octets, not 31');
        expect(montgomeryKeyProblem('x448', Buffer.alloc(57, 9))).to.equal('an X448 public key is 56 octets, not 57');
    });
});
