/** What a registered public key is, as derived from its container (never trusted from the client). */
export type KeyAlgorithm = 'rsa' | 'ec' | 'ed25519' | 'x25519' | 'ed448' | 'x448';

export type KeyFormat = 'spki' | 'x509' | 'openssh';

export interface PublicKeyInfo {
    /** Key id: the first 16 hex digits of the SHA-256 fingerprint, unique per name. */
    readonly id: string;
    readonly algorithm: KeyAlgorithm;
    /** Modulus bits for RSA, field bits for EC / EdDSA / ECDH keys. */
    readonly size: number;
    /** Named curve for EC keys (`P-256`, `P-384`, `P-521`), absent otherwise. */
    readonly curve?: string;
    /** The container the key arrived in. */
    readonly format: KeyFormat;
    /** DER SubjectPublicKeyInfo: the canonical material everything is computed over. */
    readonly spki: Buffer;
    /** Lowercase hex SHA-256 of the DER SPKI. */
    readonly fingerprint: string;
    /** The original text (PEM or OpenSSH line), kept so clients get back what was registered. */
    readonly container: string;
}

/** The roles of the domain's own keys (ARCHITECTURE.md §2). */
export type DomainKeyRole = 'ksk' | 'rsk' | 'enc' | 'zsk';

/** Signature algorithms of KSK/RSK: ECDSA P-256 by default, RSA (≥ 2048 bits) allowed. */
export type SignatureAlgorithm = 'ecdsa-p256-sha256' | 'rsa-sha256';

/**
 * A private key held in memory by the one component allowed to hold it.
 * Only lib/keys/signing-key.ts creates these (from key files under the data dir).
 */
export interface SigningKey {
    readonly role: DomainKeyRole;
    /** KeyInfo/KeyName of signatures and the label K in `sha256.K.D`. */
    readonly keyName: string;
    readonly algorithm: SignatureAlgorithm;
    readonly privateKey: import('node:crypto').KeyObject;
    readonly publicKey: import('node:crypto').KeyObject;
    /** DER SPKI of the public half. */
    readonly spki: Buffer;
}
