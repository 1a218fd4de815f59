/**
 * Verification keys of registered keys, by their DER SPKI. Importing an SPKI through
 * OpenSSL 3 costs ~75 µs, more than the Ed25519 verification it serves; a user who
 * authenticates repeatedly with one key (paper §5.2, user key management) should pay it
 * once. The cache is bounded and keyed by the exact bytes, so a key changed in the store
 * is a different entry; it holds only public keys.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

import { Ed25519Key } from './ed25519';
import { rfc8410Key } from './parse-public-key';

/** What verifies a registered key's signatures: its raw bytes for Ed25519 (lib/keys/ed25519.ts), else OpenSSL's key object. */
export type VerificationKey = Ed25519Key | KeyObject;

/**
 * Imports a DER SPKI. Ed25519 keys stay raw bytes (what libsodium verifies with); X25519
 * keys go in as JWK: the raw 32 bytes are handed to OpenSSL directly (~6 µs) instead of
 * through its DER decoder (~75 µs), which matters when every request comes from a
 * different user.
 */
function importSpki(der: Buffer): VerificationKey {

    const canonical = rfc8410Key(der);
    if (canonical?.algorithm === 'ed25519') {
        return new Ed25519Key(canonical.raw);
    }

    if (canonical) {
        return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: canonical.raw.toString('base64url') }, format: 'jwk' });
    }

    return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

export class VerificationKeys {

    readonly #max: number;
    readonly #keys = new Map<string, VerificationKey>();

    constructor(max = 10_000) {

        this.#max = max;
    }

    /** The public key of a base64 DER SPKI; throws as createPublicKey does for bad material. */
    get(spkiBase64: string): VerificationKey {

        const cached = this.#keys.get(spkiBase64);
        if (cached !== undefined) {
            // Least recently used first: move a hit to the end of the insertion order.
            this.#keys.delete(spkiBase64);
            this.#keys.set(spkiBase64, cached);
            return cached;
        }

        const key = importSpki(Buffer.from(spkiBase64, 'base64'));
        this.#keys.set(spkiBase64, key);
        if (this.#keys.size > this.#max) {
            this.#keys.delete(this.#keys.keys().next().value!);
        }

        return key;
    }

    get size(): number {

        return this.#keys.size;
    }
}
