/**
 * The one XML Signature profile IKS signs and accepts (ARCHITECTURE.md §3): enveloped,
 * one Reference with URI="", transforms enveloped-signature then exclusive c14n,
 * SHA-256 digest, ECDSA-SHA256 (default) or RSA-SHA256, KeyInfo/KeyName.
 */
import type { KeyObject } from 'node:crypto';

import type { SignatureAlgorithm } from '../keys/types';

export const DS_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const SHA256_DIGEST = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/** SignatureMethod URI of each signing algorithm. */
export const SIGNATURE_METHODS: Readonly<Record<SignatureAlgorithm, string>> = {
    'ecdsa-p256-sha256': ECDSA_SHA256,
    'rsa-sha256': RSA_SHA256
};

/** The smallest RSA modulus the profile accepts (ARCHITECTURE.md §3: RSA ≥ 2048). */
export const MIN_RSA_BITS = 2048;

/**
 * The SignatureMethod a signature by `key` must carry, derived from the key itself so a
 * document cannot choose a weaker or different algorithm (no downgrade); null for keys the
 * profile does not use: anything but ECDSA P-256 and RSA of at least MIN_RSA_BITS.
 */
export function signatureMethodFor(key: KeyObject): string | null {

    const details = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') {
        return ECDSA_SHA256;
    }

    if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS) {
        return RSA_SHA256;
    }

    return null;
}

/** How a key outside the profile is named in errors: its type, curve or modulus size. */
export function describeKey(key: KeyObject): string {

    const details = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType === 'rsa') {
        return `RSA ${details?.modulusLength ?? '?'}-bit`;
    }

    if (key.asymmetricKeyType === 'ec') {
        return `EC ${details?.namedCurve ?? '?'}`;
    }

    return key.asymmetricKeyType ?? key.type;
}
