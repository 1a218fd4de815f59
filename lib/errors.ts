/**
 * Typed errors of the IKS core. `lib/` and the workers throw these; only plugin
 * handlers turn them into Boom answers, so a caller (or `iks lookup`) always sees
 * which link of the chain failed through a stable `code`.
 */
export class IksError extends Error {
    readonly code: string;
    /** The lookup link that failed (`discovery`, `commitment`, `signature`…), set by lib/client. */
    link?: string;

    constructor(code: string, message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = new.target.name;
        this.code = code;
    }
}

/**
 * At most `max` UTF-16 units of `value` to quote in a message, never ending inside a
 * surrogate pair: half a pair is a character no XML can carry, and a message quoting it
 * would turn a signed refusal into an internal error.
 */
export function excerpt(value: string, max: number): string {

    if (value.length <= max) {
        return value;
    }

    const end = /[\uD800-\uDBFF]/.test(value[max - 1]!) ? max - 1 : max;
    return `${value.slice(0, end)}…`;
}

/** Input that a client sent or an operator configured is malformed (names, keys, XML, config). */
export class InvalidInput extends IksError {
    constructor(code: string, message: string, options?: { cause?: unknown }) {
        super(code, message, options);
    }
}

/** A KSK rollover step asked for out of order or too early; the message says what to do. */
export class RolloverRefused extends InvalidInput {
    constructor(message: string) {
        super('ROLLOVER_REFUSED', message);
    }
}

export class InvalidName extends InvalidInput {
    constructor(message: string) {
        super('INVALID_NAME', message);
    }
}

export class InvalidKey extends InvalidInput {
    constructor(message: string, options?: { cause?: unknown }) {
        super('INVALID_KEY', message, options);
    }
}

/** A stored registration no document can carry: the updater publishes the name without it. */
export class UnpublishableRegistration extends IksError {
    constructor(keyId: string, reason: string) {
        super('UNPUBLISHABLE_REGISTRATION', `key ${keyId} is left out of the published documents: ${reason}; revoke it, or correct the stored record`);
    }
}

/**
 * A signer holds a KSK that is no longer the domain's active one: a rollover was activated
 * since it loaded its key. It signs nothing more; restarted, it loads the new KSK.
 */
export class KskRetired extends IksError {
    constructor(readonly held: string, readonly active: string) {
        super('KSK_RETIRED', `this signer holds KSK ${held}, but ${active} is the active KSK now (a rollover was activated): it signs nothing more; restart it so it loads the new one`);
    }
}

export class InvalidXml extends InvalidInput {
    constructor(message: string, options?: { cause?: unknown }) {
        super('INVALID_XML', message, options);
    }
}

export class InvalidConfig extends InvalidInput {
    constructor(message: string) {
        super('INVALID_CONFIG', message);
    }
}

/** A link of the verification chain (paper §5.1 step 4) did not hold. */
export class VerificationError extends IksError {}

export class BadSignature extends VerificationError {
    constructor(message: string, options?: { cause?: unknown }) {
        super('BAD_SIGNATURE', message, options);
    }
}

export class WrongSigner extends VerificationError {
    constructor(message: string) {
        super('WRONG_SIGNER', message);
    }
}

export class SignatureExpired extends VerificationError {
    constructor(message: string) {
        super('SIGNATURE_EXPIRED', message);
    }
}

export class SignatureNotYetValid extends VerificationError {
    constructor(message: string) {
        super('SIGNATURE_NOT_YET_VALID', message);
    }
}

export class NameMismatch extends VerificationError {
    constructor(message: string) {
        super('NAME_MISMATCH', message);
    }
}

export class CommitmentMismatch extends VerificationError {
    constructor(message: string) {
        super('COMMITMENT_MISMATCH', message);
    }
}

export class UnexpectedDocument extends VerificationError {
    constructor(message: string) {
        super('UNEXPECTED_DOCUMENT', message);
    }
}

/**
 * A DNS answer failed DNSSEC validation (RFC 4033 §5 "bogus"): no chain of valid
 * signatures from the trust anchor, or a denial that proves nothing. The subclasses
 * name the broken piece; this class alone means "records missing without a proof".
 */
export class DnssecBogus extends VerificationError {
    constructor(message: string, code = 'DNSSEC_BOGUS') {
        super(code, message);
    }
}

/** An RRSIG that does not verify, or does not fit its RRset (signer zone, key, labels, algorithm). */
export class BogusRrsig extends DnssecBogus {
    constructor(message: string) {
        super(message, 'BOGUS_RRSIG');
    }
}

/** The RRSIG's validity window ended (RFC 4034 §3.1.5). */
export class RrsigExpired extends DnssecBogus {
    constructor(message: string) {
        super(message, 'RRSIG_EXPIRED');
    }
}

/** The RRSIG's validity window has not begun. */
export class RrsigNotYetValid extends DnssecBogus {
    constructor(message: string) {
        super(message, 'RRSIG_NOT_YET_VALID');
    }
}

/** Records of a zone that must be signed arrived without any RRSIG over them. */
export class UnsignedAnswer extends DnssecBogus {
    constructor(message: string) {
        super(message, 'UNSIGNED_ANSWER');
    }
}

/** The zone's DNSKEY RRset is not signed by a key the configured trust anchor names. */
export class TrustAnchorMismatch extends DnssecBogus {
    constructor(message: string) {
        super(message, 'TRUST_ANCHOR_MISMATCH');
    }
}

/**
 * DNSSEC proves (validated NXDOMAIN/NODATA, or the RFC 2782 "." target) that the domain
 * publishes no IKS service: a verified answer, unlike records stripped without proof.
 */
export class NotParticipating extends VerificationError {
    constructor(message: string) {
        super('NOT_PARTICIPATING', message);
    }
}

/** The server could not be reached or answered outside the protocol. */
export class TransportError extends IksError {
    constructor(message: string, options?: { cause?: unknown }) {
        super('TRANSPORT', message, options);
    }
}

/** A DNS server gave no usable answer: timeout, refused connection, malformed or failure rcode. */
export class DnsQueryFailed extends IksError {
    constructor(message: string, options?: { cause?: unknown }) {
        super('DNS_QUERY_FAILED', message, options);
    }
}

/** The backing store failed or is unreachable. */
export class StoreUnavailable extends IksError {
    constructor(message: string, options?: { cause?: unknown }) {
        super('STORE_UNAVAILABLE', message, options);
    }
}

/**
 * A conditional write of registrations (Store.putRegistrations with `ifVersion`) found the
 * name's registrations changed since they were read: nothing was written. The caller reads
 * them again and decides again.
 */
export class RegistrationsChanged extends IksError {
    constructor() {
        super('REGISTRATIONS_CHANGED', 'the registrations of the name changed since they were read; nothing was written');
    }
}

/**
 * A registration request (paper §5.2) that is not a well-formed IKS SOAP request. `soapCode`
 * is the SOAP 1.2 fault code (§5.4.6) it is answered with; `subcode` our finer reason.
 */
export class InvalidRequest extends InvalidInput {
    readonly soapCode: 'Sender' | 'VersionMismatch' | 'MustUnderstand';
    readonly subcode: string;

    constructor(message: string, options: { code?: string; soapCode?: InvalidRequest['soapCode']; subcode?: string; cause?: unknown } = {}) {
        super(options.code ?? 'INVALID_REQUEST', message, options.cause === undefined ? undefined : { cause: options.cause });
        this.soapCode = options.soapCode ?? 'Sender';
        this.subcode = options.subcode ?? 'InvalidRequest';
    }
}

/** The request's timestamp lies outside the accepted window (it cannot be checked for replay). */
export class StaleRequest extends InvalidRequest {
    constructor(message: string) {
        super(message, { code: 'STALE_REQUEST', subcode: 'StaleRequest' });
    }
}

/** The request's nonce was seen inside the replay window. */
export class ReplayedRequest extends InvalidRequest {
    constructor(message: string) {
        super(message, { code: 'REPLAYED_REQUEST', subcode: 'ReplayedRequest' });
    }
}

/** The registration service refused a request; the answer proving it was verified (client side). */
export class RegistrationRefused extends IksError {
    /** The methods the domain accepts, when authentication failed (paper §5.2). */
    readonly acceptedMethods: readonly string[];
    /** When a locked-out client may try again, ms since the epoch. */
    readonly retryAt: number | undefined;

    constructor(code: 'AUTHENTICATION_FAILED' | 'NOT_AUTHORIZED' | 'LOCKED_OUT' | 'REQUEST_REFUSED', message: string, details: { acceptedMethods?: readonly string[]; retryAt?: number } = {}) {
        super(code, message);
        this.acceptedMethods = details.acceptedMethods ?? [];
        this.retryAt = details.retryAt;
    }
}

/** The registration service answered with a SOAP Fault (the request was malformed, stale or replayed). */
export class SoapFaultReceived extends IksError {
    readonly faultCode: string;
    readonly subcode: string | undefined;

    constructor(faultCode: string, subcode: string | undefined, reason: string) {
        super('SOAP_FAULT', `${faultCode}${subcode ? `/${subcode}` : ''}: ${reason}`);
        this.faultCode = faultCode;
        this.subcode = subcode;
    }
}
