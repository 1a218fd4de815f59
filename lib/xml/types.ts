/**
 * The IKS documents (paper §5.5: "similar to the SOAP formats ... sans the SOAP
 * envelope"). Every document states its subject (`name`), when it was signed
 * (`issuedAt`) and until when it is valid (`notAfter`): times in ms since the epoch,
 * rendered as xs:dateTime in UTC with second precision.
 */
import type { KeyAlgorithm, KeyFormat, DomainKeyRole } from '../keys/types';

export interface KeyMetadata {
    readonly id: string;
    readonly algorithm: KeyAlgorithm;
    readonly size: number;
    readonly curve?: string;
    readonly format: KeyFormat;
    /** Lowercase hex SHA-256 of the DER SPKI. */
    readonly fingerprint: string;
    readonly usage: readonly string[];
    readonly registeredAt: number;
    readonly expiresAt?: number;
}

export interface KeyMaterial extends KeyMetadata {
    /** DER SPKI, base64. */
    readonly spki: string;
    /** The container as registered (PEM / OpenSSH text). */
    readonly container: string;
}

interface DocumentBase {
    /** Canonical name `entity@domain`, or the domain for domain-level documents. */
    readonly name: string;
    readonly issuedAt: number;
    readonly notAfter: number;
}

/** Positive answer: metadata of every currently valid key of the name (KSK-signed). */
export interface KeyListDocument extends DocumentBase {
    readonly type: 'KeyList';
    readonly keys: readonly KeyMetadata[];
}

/** One key with its material (KSK-signed); after revocation, a signed revocation. */
export interface KeyDocument extends DocumentBase {
    readonly type: 'KeyDocument';
    readonly status: 'active' | 'revoked';
    readonly key: KeyMaterial;
    readonly revokedAt?: number;
    readonly revocationReason?: string;
}

/** Negative answer (RSK-signed, made on line). */
export interface NegativeAnswerDocument extends DocumentBase {
    readonly type: 'NegativeAnswer';
    readonly reason: 'no-keys' | 'no-such-key';
    /** For `no-such-key`: the key id asked for. */
    readonly keyId?: string;
}

/** A domain key published in IKS (RSK, password-encryption key): KSK-signed. */
export interface PublishedKeyDocument extends DocumentBase {
    readonly type: 'PublishedKey';
    readonly role: DomainKeyRole;
    readonly keyName: string;
    readonly key: KeyMaterial;
}

/** What a registration request asked for (paper §5.2, §5.3). */
export type RegistrationOperation = 'register' | 'revoke' | 'list';

/** The authentication methods of paper §5.2. */
export type AuthenticationMethod = 'password' | 'user-key' | 'assertion';

/**
 * How the registration service decided: `accepted`; `authentication-failed` (lists the
 * accepted methods); `not-authorized` (authenticated, but not for this name);
 * `locked` (too many failed passwords, with the time to retry); `refused` (authorized,
 * but against policy: limits, bad key, unknown key id).
 */
export type RegistrationOutcome = 'accepted' | 'authentication-failed' | 'not-authorized' | 'locked' | 'refused';

/** A key of the caller as ListMyKeys reports it, whatever its state. */
export interface RegisteredKey extends KeyMetadata {
    readonly state: 'active' | 'revoked' | 'expired';
    readonly revokedAt?: number;
    readonly revocationReason?: string;
}

/** The RSK-signed answer to a registration request (paper §5.2, §6.1). */
export interface RegistrationAnswerDocument extends DocumentBase {
    readonly type: 'RegistrationAnswer';
    readonly operation: RegistrationOperation;
    /** Lowercase hex SHA-256 of the request's operation content (lib/registration/digest.ts). */
    readonly requestDigest: string;
    readonly outcome: RegistrationOutcome;
    readonly keyId?: string;
    readonly state?: 'active' | 'revoked';
    /** ListMyKeys only. */
    readonly keys?: readonly RegisteredKey[];
    readonly acceptedMethods?: readonly AuthenticationMethod[];
    readonly retryAt?: number;
    readonly reason?: string;
}

export type IksDocument = KeyListDocument | KeyDocument | NegativeAnswerDocument | PublishedKeyDocument | RegistrationAnswerDocument;

export type IksDocumentType = IksDocument['type'];
