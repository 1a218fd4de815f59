/**
 * DNSSEC for the IKS zone: keys → DNSKEY/DS, zone → signed zone, signed zone → trust anchor.
 * Only the signer (updater worker or `iks zone sign`) calls signZone; the DNS plugin reads
 * the SignedZone it produced. The client side validates answers from a trust anchor.
 */
export { DigestType, DnskeyFlags, DnssecAlgorithm, dnskeyPublicKey, dnssecAlgorithm, dsRdata, keyTag, publicKeyFromDnskey, verifyRaw, zoneKey } from './keys';
export type { KeyPair, ZoneKey } from './keys';
export { InvalidZone, canonicalRdata, signRRset, signZone, signedData } from './sign';
export type { SigningWindow, ZoneKeys } from './sign';
export { InvalidSignedZone, dsRecord, needsResign, parseSignedZone, secureEntryPoints, serializeSignedZone, trustAnchorFile } from './signed-zone';
export type { SignedRRset, SignedZone, TrustAnchorForm } from './signed-zone';
export { InvalidTrustAnchor, anchorMatches, parseTrustAnchors } from './trust-anchor';
export type { TrustAnchor } from './trust-anchor';
export { signatureTime, validateAnswer, validateDnskeys, verifyRRset } from './validate';
export type { RrsigInfo, TrustedDnskey, TrustedKeys, ValidatedAnswer, ValidatedRRset } from './validate';
export { ValidatingResolver } from './validating-resolver';
export type { DnsExchange, ValidatingResolverOptions } from './validating-resolver';
