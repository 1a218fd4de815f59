/**
 * Keys: parsing of registered public keys and the domain's own key pairs.
 */
export { sha1Hex, sha256Hex, spkiDer } from './digest';
export { parsePublicKey } from './parse-public-key';
export {
    UnsafeKeyFile,
    assertDomainKeyRole,
    domainKeyRoles,
    generateSigningKeyPem,
    keyNameFor,
    loadSigningKey,
    loadedKeyFiles,
    signatureAlgorithmOf,
    signingKeyFromPem
} from './signing-key';
export { domainKeyPaths, ensureDomainKeys, loadDomainPublicKey, loadDomainSigningKey, loadPublicKeyFile } from './domain-keys';
export { activateIncomingKsk, createIncomingKsk, publishedKsks, restartPublishedOverlap, rolloverPhase, withdrawRetiredKsk, type KskState, type PublishedKsk, type RolloverPhase, type RolloverState } from './ksk-rollover';
export type { DomainKeyRole, KeyAlgorithm, KeyFormat, PublicKeyInfo, SignatureAlgorithm, SigningKey } from './types';
