/**
 * Username/password authentication (paper §5.2): the client encrypts the password under
 * the domain's published RSA key (RSA-OAEP, SHA-256) together with the digest of this
 * very request and its timestamp, so a captured ciphertext is useless on any other
 * request; the store keeps only scrypt hashes.
 */
import { constants, privateDecrypt, publicEncrypt, randomBytes, scrypt, timingSafeEqual, type KeyObject } from 'node:crypto';

import { InvalidInput } from '../errors';

export interface SealedPassword {
    /** The request digest the client bound the password to. */
    readonly digest: Buffer;
    /** The request timestamp the client bound the password to, ms. */
    readonly timestamp: number;
    readonly password: string;
}

const internals = {
    version: 0x01,
    digestBytes: 32,
    // Twice the scrypt paper's interactive-login cost (N=2^14): 32 MiB and ~100 ms per
    // attempt on a 2-core gateway; the rate limiter, not the hash, stops online guessing.
    cost: { N: 2 ** 15, r: 8, p: 1 },
    keyLength: 32,
    saltBytes: 16,
    maxmem: 96 * 1024 * 1024,
    maxPasswordBytes: 128,
    encoded: /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/
};

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }, keyLength: number): Promise<Buffer> {

    return new Promise((resolve, reject) => {

        scrypt(password.normalize('NFC'), salt, keyLength, { ...cost, maxmem: internals.maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
    });
}

/** Throws unless `password` can be used (non-empty, at most 128 UTF-8 bytes so it fits one OAEP block). */
export function checkPassword(password: string): void {

    if (typeof password !== 'string' || password.length === 0) {
        throw new InvalidInput('INVALID_PASSWORD', 'the password is empty');
    }

    if (Buffer.byteLength(password, 'utf8') > internals.maxPasswordBytes) {
        throw new InvalidInput('INVALID_PASSWORD', `the password is longer than ${internals.maxPasswordBytes} bytes`);
    }
}

/**
 * The stored form of a password: `scrypt$N$r$p$salt$hash` (base64); `cost` defaults to
 * N=2^15, r=8, p=1 (lower it only in tests). Security: the only
 * form in which a password is ever stored; the password is NFC-normalised first, so the
 * same password typed on different systems matches.
 */
export async function hashPassword(password: string, cost: { N: number; r: number; p: number } = internals.cost): Promise<string> {

    checkPassword(password);
    const salt = randomBytes(internals.saltBytes);
    const { N, r, p } = cost;
    const hash = await derive(password, salt, cost, internals.keyLength);
    return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Whether `password` matches the stored hash; compares in constant time. A malformed
 * stored hash never matches. Pass `null` for an unknown user: the same work is done
 * against a dummy hash, so timing does not reveal which users exist.
 */
export async function verifyPassword(password: string, encoded: string | null): Promise<boolean> {

    const match = internals.encoded.exec(encoded ?? '');
    const [N, r, p] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [internals.cost.N, internals.cost.r, internals.cost.p];
    const salt = match ? Buffer.from(match[4]!, 'base64') : Buffer.alloc(internals.saltBytes);
    const expected = match ? Buffer.from(match[5]!, 'base64') : Buffer.alloc(internals.keyLength);
    let actual: Buffer;
    try {
        actual = await derive(password, salt, { N, r, p }, expected.length || internals.keyLength);
    }
    catch {
        return false;                    // parameters scrypt refuses
    }

    return match !== null && actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Encrypts a password for one request (client side): RSA-OAEP with SHA-256 under the
 * domain's enc key, of `0x01 || digest (32) || timestamp ms (8, big-endian) || password`.
 */
export function sealPassword(encKey: KeyObject, sealed: SealedPassword): Buffer {

    checkPassword(sealed.password);
    const timestamp = Buffer.alloc(8);
    timestamp.writeBigUInt64BE(BigInt(sealed.timestamp));
    const plaintext = Buffer.concat([Buffer.from([internals.version]), sealed.digest, timestamp, Buffer.from(sealed.password, 'utf8')]);
    return publicEncrypt({ key: encKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
}

/**
 * Decrypts a sealed password (server side) with the enc private key. Returns null for
 * anything that does not decrypt to the expected layout; never throws with, or logs,
 * the plaintext. The caller must compare digest and timestamp with the request's own.
 */
export function openPassword(encPrivateKey: KeyObject, ciphertext: Buffer): SealedPassword | null {

    let plaintext: Buffer;
    try {
        plaintext = privateDecrypt({ key: encPrivateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext);
    }
    catch {
        return null;
    }

    const head = 1 + internals.digestBytes + 8;
    if (plaintext.length <= head || plaintext[0] !== internals.version) {
        return null;
    }

    const password = new TextDecoder('utf-8', { fatal: false }).decode(plaintext.subarray(head));
    return {
        digest: plaintext.subarray(1, 1 + internals.digestBytes),
        timestamp: Number(plaintext.readBigUInt64BE(1 + internals.digestBytes)),
        password
    };
}
