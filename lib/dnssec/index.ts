/**
 * DNSSEC for the IKS zone: keys → DNSKEY/DS, zone → signed zone, signed zone → trust anchor.
 * Only the signer (updater worker or `iks zone sign`) calls signZone; the DNS plugin reads
 * the SignedZone it produced.
 */
export { DigestType, DnskeyFlags, DnssecAlgorithm, dnskeyPublicKey, dnssecAlgorithm, dsRdata, keyTag, verifyRaw, zoneKey } from './keys';
export type { KeyPair, ZoneKey } from './keys';
export { InvalidZone, canonicalRdata, signRRset, signZone, signedData } from './sign';
export type { SigningWindow, ZoneKeys } from './sign';
export { InvalidSignedZone, dsRecord, needsResign, parseSignedZone, secureEntryPoints, serializeSignedZone, trustAnchorFile } from './signed-zone';
export type { SignedRRset, SignedZone, TrustAnchorForm } from './signed-zone';
