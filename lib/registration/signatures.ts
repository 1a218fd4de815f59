/**
 * Signatures made with users' registered keys (paper §5.2 "user key management") and
 * with certifying keys (third-party assertions). One rule per key type, derived from the
 * key itself so a request cannot choose a weaker algorithm: Ed25519/Ed448 pure; ECDSA
 * (DER, as `openssl dgst` makes) with SHA-256/384/512 for P-256/384/521; RSA PKCS#1 v1.5
 * with SHA-256.
 */
import { sign, verify, type KeyObject } from 'node:crypto';

import { InvalidKey } from '../errors';
import { Ed25519Key, rawPublicKey, verifyEd25519 } from '../keys/ed25519';
import { edwardsKeyProblem } from '../keys/edwards';
import type { VerificationKey } from '../keys/verification-keys';
import type { Assertion } from './request';
import { encodeFields } from './fields';
import { renderTime } from '../xml/render';

const internals = {
    requestContext: 'IKS-REQUEST-SIGNATURE-1',
    assertionContext: 'IKS-ASSERTION-1',
    curveHashes: { 'prime256v1': 'sha256', 'secp384r1': 'sha384', 'secp521r1': 'sha512' } as Record<string, string>,
    weakKeys: new WeakMap<VerificationKey, boolean>()
};

/** The digest algorithm a key signs with, null for Ed25519/Ed448; throws for keys that cannot sign. */
function hashFor(key: KeyObject): string | null {

    switch (key.asymmetricKeyType) {
        case 'ed25519':
        case 'ed448':
            return null;
        case 'rsa':
            return 'sha256';
        case 'ec': {
            const hash = internals.curveHashes[String(key.asymmetricKeyDetails?.namedCurve)];
            if (hash) {
                return hash;
            }

            break;
        }

        default:
    }

    throw new InvalidKey(`a ${String(key.asymmetricKeyType)} key cannot sign IKS requests; use Ed25519, ECDSA or RSA`);
}

/**
 * Whether an Ed25519/Ed448 key is one that anyone can sign for (lib/keys/edwards.ts).
 * Registration refuses them; this covers keys stored before it did. Once per key object.
 */
function isWeakEdwardsKey(publicKey: VerificationKey): boolean {

    let weak = internals.weakKeys.get(publicKey);
    if (weak === undefined) {
        const algorithm = publicKey instanceof Ed25519Key ? 'ed25519' : publicKey.asymmetricKeyType;
        weak = (algorithm === 'ed25519' || algorithm === 'ed448') && edwardsKeyProblem(algorithm, publicKey instanceof Ed25519Key ? publicKey.raw : rawPublicKey(publicKey)) !== null;
        internals.weakKeys.set(publicKey, weak);
    }

    return weak;
}

function verifyWith(publicKey: VerificationKey, message: Buffer, signature: Buffer): boolean {

    if (isWeakEdwardsKey(publicKey)) {
        return false;
    }

    if (publicKey instanceof Ed25519Key || publicKey.asymmetricKeyType === 'ed25519') {
        return verifyEd25519(publicKey, message, signature);
    }

    try {
        return verify(hashFor(publicKey), message, publicKey, signature);
    }
    catch {
        return false;
    }
}

/** The bytes a request signature covers: the context string and the request digest. */
function requestMessage(digest: Buffer): Buffer {

    return encodeFields(internals.requestContext, [digest.toString('hex')]);
}

function assertionMessage(assertion: Omit<Assertion, 'signature'>): Buffer {

    return encodeFields(internals.assertionContext, [assertion.issuer, assertion.keyId, assertion.subject, renderTime(assertion.issuedAt), renderTime(assertion.notAfter)]);
}

/** Signs a request digest with a user's private key (client side). */
export function signRequestDigest(privateKey: KeyObject, digest: Buffer): Buffer {

    return sign(hashFor(privateKey), requestMessage(digest), privateKey);
}

/**
 * Whether `signature` is `publicKey`'s signature over the request digest. Never throws:
 * keys that cannot sign and malformed signatures are simply not valid.
 */
export function verifyRequestSignature(publicKey: VerificationKey, digest: Buffer, signature: Buffer): boolean {

    return verifyWith(publicKey, requestMessage(digest), signature);
}

/** Signs an assertion with a certifying key (what a third-party authentication server does). */
export function signAssertion(privateKey: KeyObject, assertion: Omit<Assertion, 'signature'>): Assertion {

    return { ...assertion, signature: sign(hashFor(privateKey), assertionMessage(assertion), privateKey) };
}

/** Whether the assertion carries `publicKey`'s signature over its fields. Never throws. */
export function verifyAssertionSignature(publicKey: VerificationKey, assertion: Assertion): boolean {

    return verifyWith(publicKey, assertionMessage(assertion), assertion.signature);
}
