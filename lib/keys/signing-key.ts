/**
 * The domain's own private keys (KSK, RSK, password-encryption key, ZSK) in memory.
 * This module and domain-keys.ts are the only code that reads private key files
 * (ARCHITECTURE.md §2): every load goes through `loadSigningKey`, which checks the
 * file's permissions and records the load for the privilege-split tests.
 */
import * as Fs from 'node:fs';
import * as Path from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

import { InvalidConfig, InvalidInput, InvalidKey } from '../errors';
import { sha256Hex, spkiDer } from './digest';
import type { DomainKeyRole, SignatureAlgorithm, SigningKey } from './types';

/** A private key file that others than its owner may read: refused until fixed with chmod. */
export class UnsafeKeyFile extends InvalidInput {
    constructor(message: string) {
        super('UNSAFE_KEY_FILE', message);
    }
}

/** Every role of a domain key, in the order they are created. */
export const domainKeyRoles: readonly DomainKeyRole[] = Object.freeze(['ksk', 'rsk', 'enc', 'zsk'] as const);

const internals = {
    rsaBits: 3072,
    minRsaBits: 2048,
    // A PEM private key is a few KiB; refuse to slurp a device or a misconfigured path.
    maxKeyFileBytes: 64 * 1024,
    algorithms: new Set<string>(['ecdsa-p256-sha256', 'rsa-sha256', 'rsa-oaep']),
    loaded: [] as { readonly role: DomainKeyRole; readonly path: string }[]
};


/** Throws unless `role` is one of the domain key roles (callers may be plain JavaScript or config). */
export function assertDomainKeyRole(role: string): asserts role is DomainKeyRole {

    if (!(domainKeyRoles as readonly string[]).includes(role)) {
        throw new InvalidKey(`unknown domain key role "${String(role).slice(0, 20)}"; expected one of ${domainKeyRoles.join(', ')}`);
    }
}


/**
 * The key name of a domain key: `<role>-<first 12 hex digits of sha256(DER SPKI)>`.
 * It is the KeyInfo/KeyName of signatures and the label K in `sha256.K.D`, so it is
 * always a valid DNS label (lowercase letters, digits, hyphens, 16 characters at most)
 * and changes whenever the key changes.
 */
export function keyNameFor(role: DomainKeyRole, spki: Buffer): string {

    assertDomainKeyRole(role);
    return `${role}-${sha256Hex(spki).slice(0, 12)}`;
}


/**
 * Generates a new key pair for a domain key role, as PEM (PKCS#8 private, SPKI public).
 * KSK, RSK and ZSK default to ECDSA P-256 (xmlsec1 verifies it; DNSSEC algorithm 13);
 * `rsa-sha256` gives RSA 3072. The `enc` key is always RSA 3072 because it serves
 * RSA-OAEP password encryption. Security: the caller must store `privatePem` with mode
 * 0600 (domain-keys.ts does) and never log it.
 */
export function generateSigningKeyPem(role: DomainKeyRole, algorithm: SignatureAlgorithm | 'rsa-oaep' = 'ecdsa-p256-sha256'): { privatePem: string; publicPem: string } {

    assertDomainKeyRole(role);
    if (!internals.algorithms.has(algorithm)) {
        throw new InvalidKey(`unknown signature algorithm "${String(algorithm).slice(0, 30)}"; use ecdsa-p256-sha256 or rsa-sha256`);
    }

    if (algorithm === 'rsa-oaep' && role !== 'enc') {
        throw new InvalidKey(`rsa-oaep is the algorithm of the enc key only; the ${role} key signs (ecdsa-p256-sha256 or rsa-sha256)`);
    }

    if (role === 'enc' || algorithm !== 'ecdsa-p256-sha256') {
        const pair = generateKeyPairSync('rsa', {
            modulusLength: internals.rsaBits,
            publicExponent: 0x10001,
            publicKeyEncoding: { type: 'spki', format: 'pem' },
            privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
        });
        return { privatePem: pair.privateKey, publicPem: pair.publicKey };
    }

    const pair = generateKeyPairSync('ec', {
        namedCurve: 'P-256',
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
    });
    return { privatePem: pair.privateKey, publicPem: pair.publicKey };
}


/**
 * The signature algorithm a domain key's public half implies, or `InvalidKey` when the
 * key does not fit its role: KSK/RSK/ZSK must be ECDSA P-256 or RSA ≥ 2048 bits; the enc
 * key must be RSA ≥ 2048 bits (RSA-OAEP).
 */
export function signatureAlgorithmOf(role: DomainKeyRole, publicKey: KeyObject): SignatureAlgorithm {

    const rsaBits = publicKey.asymmetricKeyType === 'rsa' ? publicKey.asymmetricKeyDetails!.modulusLength! : 0;
    if (rsaBits >= internals.minRsaBits) {
        return 'rsa-sha256';
    }

    if (role !== 'enc' && publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        return 'ecdsa-p256-sha256';
    }

    const found = publicKey.asymmetricKeyType === 'rsa' ? `RSA ${rsaBits} bits` : publicKey.asymmetricKeyDetails?.namedCurve ?? String(publicKey.asymmetricKeyType);
    throw new InvalidKey(role === 'enc' ?
        `the enc key must be RSA of at least ${internals.minRsaBits} bits (it serves RSA-OAEP); found ${found}` :
        `the ${role} key must be ECDSA P-256 or RSA of at least ${internals.minRsaBits} bits; found ${found}`);
}


/**
 * Builds a SigningKey from an unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1).
 * Security: the PEM is never echoed in errors; the key must fit its role
 * (`signatureAlgorithmOf`). Prefer `loadSigningKey`, which also checks the file.
 */
export function signingKeyFromPem(role: DomainKeyRole, privatePem: string): SigningKey {

    assertDomainKeyRole(role);
    if (typeof privatePem !== 'string' || !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(privatePem)) {
        throw new InvalidKey(`the ${role} key is not a PEM private key`);
    }

    let privateKey: KeyObject;
    try {
        privateKey = createPrivateKey({ key: privatePem, format: 'pem' });
    }
    catch (err) {
        throw new InvalidKey(`the ${role} private key cannot be read (it must be an unencrypted PEM private key)`, { cause: err });
    }

    const publicKey = createPublicKey(privateKey);
    const algorithm = signatureAlgorithmOf(role, publicKey);
    const spki = spkiDer(publicKey);
    return Object.freeze({ role, keyName: keyNameFor(role, spki), algorithm, privateKey, publicKey, spki });
}


/**
 * Loads a domain private key file. Security: refuses a file that group or others may
 * access (mode & 0o077), like ssh does, and anything but a small regular file; the
 * permissions are checked on the opened descriptor so the checked file is the read file.
 * Each successful load is recorded (see `loadedKeyFiles`).
 */
export function loadSigningKey(path: string, role: DomainKeyRole): SigningKey {

    assertDomainKeyRole(role);
    const resolved = Path.resolve(path);

    let fd: number;
    try {
        fd = Fs.openSync(resolved, 'r');
    }
    catch (err) {
        throw new InvalidConfig(`cannot open the ${role} private key file ${resolved} (${String((err as NodeJS.ErrnoException).code)}); create the domain keys with "iks init" or fix the data directory`);
    }

    let pem: string;
    try {
        const stat = Fs.fstatSync(fd);
        if (!stat.isFile()) {
            throw new InvalidConfig(`the ${role} private key path ${resolved} is not a regular file`);
        }

        // Windows has no POSIX mode bits to check.
        if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
            throw new UnsafeKeyFile(`the ${role} private key file ${resolved} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); run "chmod 600 ${resolved}"`);
        }

        if (stat.size > internals.maxKeyFileBytes) {
            throw new InvalidKey(`the ${role} private key file ${resolved} is ${stat.size} bytes, too large for a PEM private key`);
        }

        pem = Fs.readFileSync(fd, 'utf8');
    }
    finally {
        Fs.closeSync(fd);
    }

    const key = signingKeyFromPem(role, pem);
    internals.loaded.push(Object.freeze({ role, path: resolved }));
    return key;
}


/**
 * The private key files this process has loaded, in order (absolute paths). Diagnostic
 * only: it lets tests prove which component loaded which key (ARCHITECTURE.md §2); it is
 * not an access control.
 */
export function loadedKeyFiles(): ReadonlyArray<{ readonly role: DomainKeyRole; readonly path: string }> {

    return Object.freeze(internals.loaded.slice());
}
