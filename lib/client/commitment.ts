/**
 * The KSK commitment check (paper §5.6, §5.1 step 4c): the DNS publishes
 * `sha1.K.D` and `sha256.K.D` TXT records holding the hex digest of the KSK's DER
 * SPKI; a fetched KSK is trusted only if it matches.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { CommitmentMismatch } from '../errors';

export interface Commitment {
    readonly sha256?: string;
    readonly sha1?: string;
}

const internals = {
    hex: /^[0-9a-f]+$/
};

function matches(expectedHex: string, actual: Buffer): boolean {

    const normalised = expectedHex.trim().toLowerCase();
    if (!internals.hex.test(normalised) || normalised.length !== actual.length * 2) {
        return false;
    }

    return timingSafeEqual(Buffer.from(normalised, 'hex'), actual);
}

/**
 * Checks a KSK's DER SPKI against its DNS commitment. SHA-256 is required when
 * published and preferred; a KSK is rejected when the SHA-1 and SHA-256
 * commitments disagree about it, since one of them must then be forged or stale.
 */
export function verifyCommitment(keyName: string, spki: Buffer, commitment: Commitment): void {

    if (commitment.sha256 === undefined && commitment.sha1 === undefined) {
        throw new CommitmentMismatch(`no commitment is published for key-signing key "${keyName}"`);
    }

    const sha256 = commitment.sha256 === undefined ? undefined : matches(commitment.sha256, createHash('sha256').update(spki).digest());
    const sha1 = commitment.sha1 === undefined ? undefined : matches(commitment.sha1, createHash('sha1').update(spki).digest());

    if (sha256 !== undefined && sha1 !== undefined && sha256 !== sha1) {
        throw new CommitmentMismatch(`the sha1 and sha256 commitments of key-signing key "${keyName}" disagree`);
    }

    if (sha256 === false || (sha256 === undefined && sha1 === false)) {
        throw new CommitmentMismatch(`key-signing key "${keyName}" does not match its DNS commitment`);
    }
}
