/**
 * Typed errors of the IKS core. `lib/` and the workers throw these; only plugin
 * handlers turn them into Boom answers, so a caller (or `iks lookup`) always sees
 * which link of the chain failed through a stable `code`.
 */
export class IksError extends Error {
    readonly code: string;

    constructor(code: string, message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = new.target.name;
        this.code = code;
    }
}

/** Input that a client sent or an operator configured is malformed (names, keys, XML, config). */
export class InvalidInput extends IksError {
    constructor(code: string, message: string, options?: { cause?: unknown }) {
        super(code, message, options);
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

/** The server could not be reached or answered outside the protocol. */
export class TransportError extends IksError {
    constructor(message: string, options?: { cause?: unknown }) {
        super('TRANSPORT', message, options);
    }
}

/** The backing store failed or is unreachable. */
export class StoreUnavailable extends IksError {
    constructor(message: string, options?: { cause?: unknown }) {
        super('STORE_UNAVAILABLE', message, options);
    }
}
