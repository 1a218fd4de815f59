/**
 * DNSKEY material from node:crypto keys: public key encodings (RFC 6605 §4, RFC 3110 §2,
 * RFC 8080 §3), key tags (RFC 4034 App. B), DS digests (RFC 4509) and the raw signature
 * operation for each algorithm.
 */
import * as Crypto from 'node:crypto';

import { InvalidKey } from '../errors';
import { nameToWire } from '../dns/name';
import { encodeDnskey, encodeDs } from '../dns/rdata';

export const DnssecAlgorithm = {
    RSASHA256: 8,
    ECDSAP256SHA256: 13,
    ED25519: 15
} as const;

export const DigestType = {
    SHA256: 2
} as const;

export const DnskeyFlags = {
    ZONE: 256,
    /** Zone key with the Secure Entry Point bit: a KSK, or a combined signing key (CSK). */
    SEP: 257
} as const;

/** A private key and its public half, as node:crypto KeyObjects. */
export interface KeyPair {
    readonly privateKey: Crypto.KeyObject;
    readonly publicKey: Crypto.KeyObject;
}

/** The DNSKEY of a KeyPair, with what signing needs to know about it. */
export interface ZoneKey {
    readonly algorithm: number;
    readonly flags: number;
    /** DNSKEY RDATA. */
    readonly dnskey: Buffer;
    readonly keyTag: number;
    readonly privateKey: Crypto.KeyObject;
}

/** The DNSSEC algorithm number of a public key, or InvalidKey for keys DNSSEC here cannot use. */
export function dnssecAlgorithm(publicKey: Crypto.KeyObject): number {

    if (publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        return DnssecAlgorithm.ECDSAP256SHA256;
    }

    if (publicKey.asymmetricKeyType === 'rsa' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) {
        return DnssecAlgorithm.RSASHA256;
    }

    if (publicKey.asymmetricKeyType === 'ed25519') {
        return DnssecAlgorithm.ED25519;
    }

    throw new InvalidKey('zone signing keys must be ECDSA P-256 (algorithm 13), Ed25519 (15) or RSA ≥ 2048 bits (8)');
}

/** The public key field of a DNSKEY for the given key. */
export function dnskeyPublicKey(publicKey: Crypto.KeyObject): Buffer {

    const jwk = publicKey.export({ format: 'jwk' });
    switch (dnssecAlgorithm(publicKey)) {
        case DnssecAlgorithm.ECDSAP256SHA256:
            // RFC 6605 §4: Q = x | y, 32 octets each.
            return Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
        case DnssecAlgorithm.ED25519:
            return Buffer.from(jwk.x!, 'base64url');
        default: {
            // RFC 3110 §2: exponent length, exponent, modulus.
            const exponent = Buffer.from(jwk.e!, 'base64url');
            const length = exponent.length < 256 ? Buffer.from([exponent.length]) : Buffer.from([0, exponent.length >> 8, exponent.length & 0xff]);
            return Buffer.concat([length, exponent, Buffer.from(jwk.n!, 'base64url')]);
        }
    }
}

/**
 * The node:crypto public key of DNSKEY RDATA, the inverse of dnskeyPublicKey; InvalidKey
 * for unsupported algorithms, malformed keys, points off the curve and RSA below 2048
 * bits (the floor this project signs with, so nothing weaker is ever trusted).
 */
export function publicKeyFromDnskey(dnskey: Buffer): Crypto.KeyObject {

    const algorithm = dnskey[3];
    const key = dnskey.subarray(4);
    try {
        switch (algorithm) {
            case DnssecAlgorithm.ECDSAP256SHA256:
                if (key.length === 64) {
                    return Crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: key.subarray(0, 32).toString('base64url'), y: key.subarray(32).toString('base64url') }, format: 'jwk' });
                }

                break;
            case DnssecAlgorithm.ED25519:
                if (key.length === 32) {
                    return Crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') }, format: 'jwk' });
                }

                break;
            case DnssecAlgorithm.RSASHA256: {
                // RFC 3110 §2: a one-octet exponent length, or zero then two octets.
                const long = key[0] === 0;
                const exponentLength = long ? key.readUInt16BE(1) : key[0]!;
                const start = long ? 3 : 1;
                const exponent = key.subarray(start, start + exponentLength);
                const modulus = key.subarray(start + exponentLength);
                // RFC 3110 §2 forbids leading zero octets: zeros padding a 1024-bit modulus to
                // 256 octets would otherwise pass a size check on the field length.
                if (exponent[0] === 0 || modulus[0] === 0) {
                    throw new InvalidKey('DNSKEY (algorithm 8) has leading zero octets in its RSA exponent or modulus');
                }

                if (exponent.length > 0 && modulus.length * 8 >= 2048) {
                    const publicKey = Crypto.createPublicKey({ key: { kty: 'RSA', e: exponent.toString('base64url'), n: modulus.toString('base64url') }, format: 'jwk' });
                    // The size node:crypto sees, not the octets sent, is what counts.
                    if ((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) {
                        return publicKey;
                    }
                }

                break;
            }

            default:
                throw new InvalidKey(`DNSSEC algorithm ${algorithm} is not supported (8, 13 and 15 are)`);
        }
    }
    catch (err) {
        if (err instanceof InvalidKey) {
            throw err;
        }

        throw new InvalidKey(`DNSKEY (algorithm ${algorithm}) is not a valid public key`, { cause: err });
    }

    throw new InvalidKey(`DNSKEY (algorithm ${algorithm}) has a public key of the wrong size`);
}

/** RFC 4034 Appendix B key tag of DNSKEY RDATA (not for algorithm 1). */
export function keyTag(dnskey: Buffer): number {

    let sum = 0;
    for (let i = 0; i < dnskey.length; ++i) {
        sum += i & 1 ? dnskey[i]! : dnskey[i]! << 8;
    }

    sum += (sum >> 16) & 0xffff;
    return sum & 0xffff;
}

/**
 * Builds the DNSKEY for a key pair after proving the halves belong together, so a
 * mismatched public key can never be published as the zone's trust anchor.
 */
export function zoneKey(pair: KeyPair, flags: number): ZoneKey {

    const algorithm = dnssecAlgorithm(pair.publicKey);
    const probe = Buffer.from('iks zone key check');
    let matches = false;
    try {
        matches = verifyRaw(algorithm, pair.publicKey, probe, signRaw(algorithm, pair.privateKey, probe));
    }
    catch (err) {
        throw new InvalidKey('the zone signing private key cannot sign', { cause: err });
    }

    if (!matches) {
        throw new InvalidKey('the zone signing private key does not match its public key');
    }

    const dnskey = encodeDnskey({ flags, algorithm, publicKey: dnskeyPublicKey(pair.publicKey) });
    return { algorithm, flags, dnskey, keyTag: keyTag(dnskey), privateKey: pair.privateKey };
}

/** DS RDATA (digest type 2, SHA-256) for a DNSKEY at `owner` (RFC 4034 §5.1.4). */
export function dsRdata(owner: string, dnskey: Buffer): Buffer {

    const digest = Crypto.createHash('sha256').update(nameToWire(owner)).update(dnskey).digest();
    return encodeDs({ keyTag: keyTag(dnskey), algorithm: dnskey[3]!, digestType: DigestType.SHA256, digest });
}

/** The DNSSEC signature field over `data`: r|s for ECDSA (RFC 6605 §4), PKCS#1 v1.5 for RSA, raw Ed25519. */
export function signRaw(algorithm: number, privateKey: Crypto.KeyObject, data: Buffer): Buffer {

    if (algorithm === DnssecAlgorithm.ECDSAP256SHA256) {
        return Crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    }

    return Crypto.sign(hashOf(algorithm), data, privateKey);
}

/** Verifies a DNSSEC signature field (the inverse of signRaw). */
export function verifyRaw(algorithm: number, publicKey: Crypto.KeyObject, data: Buffer, signature: Buffer): boolean {

    if (algorithm === DnssecAlgorithm.ECDSAP256SHA256) {
        return Crypto.verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    }

    return Crypto.verify(hashOf(algorithm), data, publicKey, signature);
}

function hashOf(algorithm: number): string | null {

    return algorithm === DnssecAlgorithm.ED25519 ? null : 'sha256';
}
