/**
 * Digests over key material. Every fingerprint, key id, key name and DNS commitment
 * (`sha1.K.D`, `sha256.K.D`, ARCHITECTURE.md §3) is computed over the DER SPKI.
 */
import { createHash, type KeyObject } from 'node:crypto';

/** Lowercase hex SHA-256 of `data`. */
export function sha256Hex(data: Buffer | Uint8Array): string {

    return createHash('sha256').update(data).digest('hex');
}

/** Lowercase hex SHA-1 of `data` (only for the paper's `sha1.K.D` commitment, never for security decisions alone). */
export function sha1Hex(data: Buffer | Uint8Array): string {

    return createHash('sha1').update(data).digest('hex');
}

/**
 * The DER SubjectPublicKeyInfo of a public key, as node:crypto (OpenSSL) encodes it.
 * The same key therefore yields the same bytes whatever container it arrived in.
 */
export function spkiDer(publicKey: KeyObject): Buffer {

    return publicKey.export({ type: 'spki', format: 'der' });
}
