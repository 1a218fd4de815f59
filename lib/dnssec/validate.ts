/**
 * DNSSEC validation of answers from one zone whose trust anchor is configured (RFC 4035
 * §5): trust anchor → the zone's DNSKEY RRset → RRSIG over each answer RRset, or over
 * the NSEC or NSEC3 records of a denial. Only the anchored zone is validated — IKS
 * records live at and below the domain's apex, so no DS chain is followed through zone
 * cuts.
 *
 * Every function returns only data that verified; anything else raises a DnssecBogus
 * subclass naming the RRset and the reason, so `iks lookup` can say which link failed.
 */
import type { KeyObject } from 'node:crypto';

import { BogusRrsig, DnsQueryFailed, DnssecBogus, RrsigExpired, RrsigNotYetValid, TrustAnchorMismatch, UnsignedAnswer } from '../errors';
import type { DecodedMessage, DecodedRecord } from '../dns/decode';
import { isInZone, labelCount } from '../dns/name';
import { readWireName } from '../dns/rdata';
import { Rcode, RrClass, RrType, rcodeName, typeName, type RRset } from '../dns/types';
import { canonicalRdataOf } from './canonical';
import { parseNsec, proveNodata, proveNxdomain, type Nsec } from './denial';
import { Nsec3Limits, parseNsec3, proveNsec3Nodata, proveNsec3Nxdomain, type Nsec3 } from './nsec3';
import { DnskeyFlags, keyTag, publicKeyFromDnskey, verifyRaw } from './keys';
import { canonicalRdata, signedData } from './sign';
import type { TrustAnchorForm } from './signed-zone';
import { anchorMatches, type TrustAnchor } from './trust-anchor';

/** A zone key from the validated DNSKEY RRset. */
export interface TrustedDnskey {
    readonly rdata: Buffer;
    readonly tag: number;
    readonly algorithm: number;
    readonly publicKey: KeyObject;
}

/** The RRSIG that proved an RRset; times in seconds since the epoch. */
export interface RrsigInfo {
    readonly signer: string;
    readonly keyTag: number;
    readonly algorithm: number;
    readonly inception: number;
    readonly expiration: number;
}

/** An RRset whose signature verified; RDATA canonical and sorted. */
export interface ValidatedRRset extends RRset {
    readonly signature: RrsigInfo;
}

export interface TrustedKeys {
    readonly zone: string;
    readonly keys: readonly TrustedDnskey[];
    /** The anchored key that signed the DNSKEY RRset, and the anchor form that named it. */
    readonly anchor: { readonly form: TrustAnchorForm; readonly keyTag: number; readonly algorithm: number };
    readonly dnskeys: ValidatedRRset;
}

export type ValidatedAnswer =
    | { readonly kind: 'answer'; readonly rrset: ValidatedRRset }
    | { readonly kind: 'nxdomain' | 'nodata'; readonly proof: readonly ValidatedRRset[] };

interface Rrsig extends RrsigInfo {
    readonly typeCovered: number;
    readonly labels: number;
    readonly originalTtl: number;
    /** RDATA without the signature, signer name lowercased: the signed prefix (RFC 4034 §3.1.8.1). */
    readonly prefix: Buffer;
    readonly value: Buffer;
}

const internals = {
    revoke: 0x0080,
    rrsigFixed: 18
};

/** The time a 32-bit RRSIG timestamp denotes: the one nearest `now` (RFC 4034 §3.1.5, RFC 1982). */
export function signatureTime(field: number, now: number): number {

    const delta = (((field - now) % 2 ** 32) + 2 ** 32 + 2 ** 31) % 2 ** 32 - 2 ** 31;
    return now + delta;
}

function readRrsig(rdata: Buffer, now: number): Rrsig {

    if (rdata.length < internals.rrsigFixed + 2) {
        throw new BogusRrsig('an RRSIG record is too short');
    }

    const canonical = canonicalRdataOf(RrType.RRSIG, rdata);
    const signer = readWireName(canonical, internals.rrsigFixed);
    return {
        typeCovered: rdata.readUInt16BE(0),
        algorithm: rdata[2]!,
        labels: rdata[3]!,
        originalTtl: rdata.readUInt32BE(4),
        expiration: signatureTime(rdata.readUInt32BE(8), now),
        inception: signatureTime(rdata.readUInt32BE(12), now),
        keyTag: rdata.readUInt16BE(16),
        signer: signer.name.slice(0, -1),
        prefix: canonical.subarray(0, signer.next),
        value: rdata.subarray(signer.next)
    };
}

/** Why one RRSIG does not prove the RRset, or null when it does (RFC 4035 §5.3.1–§5.3.3). */
function checkRrsig(rrset: RRset, rrsig: Rrsig, keys: readonly TrustedDnskey[], zone: string, now: number): DnssecBogus | null {

    const what = `${rrset.name} ${typeName(rrset.type)}`;
    if (rrsig.signer !== zone || !isInZone(rrset.name, zone)) {
        return new BogusRrsig(`${what} is signed by zone "${rrsig.signer}", not by the anchored zone ${zone}`);
    }

    if (rrsig.labels !== labelCount(rrset.name)) {
        // Fewer labels means a wildcard expansion (RFC 4035 §5.3.4), never accepted here.
        return new BogusRrsig(`the RRSIG over ${what} has ${rrsig.labels} labels, the owner ${labelCount(rrset.name)}`);
    }

    if (rrsig.expiration < rrsig.inception) {
        return new BogusRrsig(`the RRSIG over ${what} expires before its inception`);
    }

    if (now > rrsig.expiration) {
        return new RrsigExpired(`the RRSIG over ${what} expired at ${new Date(rrsig.expiration * 1000).toISOString()}`);
    }

    if (now < rrsig.inception) {
        return new RrsigNotYetValid(`the RRSIG over ${what} is valid only from ${new Date(rrsig.inception * 1000).toISOString()}`);
    }

    const candidates = keys.filter((key) => key.tag === rrsig.keyTag && key.algorithm === rrsig.algorithm);
    if (candidates.length === 0) {
        return new BogusRrsig(`the RRSIG over ${what} names key ${rrsig.keyTag} (algorithm ${rrsig.algorithm}), which is not a trusted key of ${zone}`);
    }

    const data = signedData({ ...rrset, ttl: rrsig.originalTtl }, rrsig.prefix);
    for (const key of candidates) {
        try {
            if (verifyRaw(rrsig.algorithm, key.publicKey, data, rrsig.value)) {
                return null;
            }
        }
        catch {
            // A malformed signature value is simply not a valid one.
        }
    }

    return new BogusRrsig(`the RRSIG over ${what} by key ${rrsig.keyTag} does not verify`);
}

/**
 * Verifies an RRset against its RRSIGs with the zone's trusted keys: at least one RRSIG
 * must be by `zone`, fit the owner's label count, be inside its validity window at `now`
 * and verify over the canonical form. Returns the RRset in canonical form with the TTL
 * capped by the original TTL; throws UnsignedAnswer, RrsigExpired, RrsigNotYetValid or
 * BogusRrsig (the first failure when several RRSIGs fail).
 */
export function verifyRRset(rrset: RRset, rrsigs: readonly Buffer[], keys: readonly TrustedDnskey[], zone: string, now: number): ValidatedRRset {

    const what = `${rrset.name} ${typeName(rrset.type)}`;
    const covering = rrsigs.filter((rdata) => rdata.length >= 2 && rdata.readUInt16BE(0) === rrset.type);
    if (covering.length === 0) {
        throw new UnsignedAnswer(`${what} arrived without an RRSIG`);
    }

    let canonical: RRset;
    try {
        canonical = { ...rrset, rdata: canonicalRdata(rrset.rdata.map((rdata) => canonicalRdataOf(rrset.type, rdata))) };
    }
    catch {
        throw new DnssecBogus(`${what} has malformed RDATA`);
    }

    let failure: DnssecBogus | null = null;
    for (const rdata of covering) {
        let rrsig: Rrsig;
        try {
            rrsig = readRrsig(rdata, now);
        }
        catch (err) {
            failure ??= err instanceof DnssecBogus ? err : new BogusRrsig(`an RRSIG over ${what} is malformed`);
            continue;
        }

        const problem = checkRrsig(canonical, rrsig, keys, zone, now);
        if (!problem) {
            const { signer, keyTag: tag, algorithm, inception, expiration } = rrsig;
            return { ...canonical, ttl: Math.min(rrset.ttl, rrsig.originalTtl), signature: { signer, keyTag: tag, algorithm, inception, expiration } };
        }

        failure ??= problem;
    }

    throw failure!;
}

/** The RDATA of the records of (name, type) in a section, and their smallest TTL. */
function collect(records: readonly DecodedRecord[], name: string, type: number): RRset | null {

    const matching = records.filter((record) => record.name === name && record.type === type && record.class === RrClass.IN);
    if (matching.length === 0) {
        return null;
    }

    return { name, type, ttl: Math.min(...matching.map((record) => record.ttl)), rdata: matching.map((record) => record.rdata) };
}

function rrsigsOver(records: readonly DecodedRecord[], name: string): Buffer[] {

    return records.filter((record) => record.name === name && record.type === RrType.RRSIG && record.class === RrClass.IN).map((record) => record.rdata);
}

function checkRcode(reply: DecodedMessage, name: string, type: number): void {

    if (reply.rcode !== Rcode.NOERROR && reply.rcode !== Rcode.NXDOMAIN) {
        throw new DnsQueryFailed(`${name} ${typeName(type)}: the server answered ${rcodeName(reply.rcode)}`);
    }
}

function trustedKey(rdata: Buffer): TrustedDnskey | null {

    const flags = rdata.length >= 4 ? rdata.readUInt16BE(0) : 0;
    if ((flags & DnskeyFlags.ZONE) === 0 || (flags & internals.revoke) !== 0 || rdata[2] !== 3) {
        return null;
    }

    try {
        return { rdata, tag: keyTag(rdata), algorithm: rdata[3]!, publicKey: publicKeyFromDnskey(rdata) };
    }
    catch {
        return null;                                // unusable keys are skipped, as RFC 4035 §5.2 allows
    }
}

/**
 * Validates the zone's DNSKEY RRset from the answer to `zone DNSKEY` (RFC 4035 §5, first
 * step): a key in it must match a trust anchor for the zone and sign the RRset; then
 * every usable zone key in it is trusted. TrustAnchorMismatch when no anchored key is
 * there or none of them signed the RRset.
 */
export function validateDnskeys(zone: string, reply: DecodedMessage, anchors: readonly TrustAnchor[], now: number): TrustedKeys {

    checkRcode(reply, zone, RrType.DNSKEY);
    const zoneAnchors = anchors.filter((anchor) => anchor.zone === zone);
    if (zoneAnchors.length === 0) {
        throw new TrustAnchorMismatch(`the trust-anchor file has no anchor for ${zone}`);
    }

    const rrset = collect(reply.answers, zone, RrType.DNSKEY);
    if (!rrset) {
        throw new TrustAnchorMismatch(`${zone} answers without a DNSKEY RRset (${rcodeName(reply.rcode)}), so nothing can match its trust anchor`);
    }

    const anchored: { key: TrustedDnskey; form: TrustAnchorForm }[] = [];
    for (const rdata of rrset.rdata) {
        const anchor = zoneAnchors.find((candidate) => anchorMatches(candidate, zone, rdata));
        const key = anchor ? trustedKey(rdata) : null;
        if (anchor && key) {
            anchored.push({ key, form: anchor.form });
        }
    }

    if (anchored.length === 0) {
        const tags = rrset.rdata.map((rdata) => keyTag(rdata)).join(', ');
        throw new TrustAnchorMismatch(`no DNSKEY of ${zone} (key tags ${tags}) matches the configured trust anchor`);
    }

    const rrsigs = rrsigsOver(reply.answers, zone);
    const anchoredTags = new Set(anchored.map(({ key }) => key.tag));
    if (rrsigs.some((rdata) => rdata.length >= 18 && rdata.readUInt16BE(0) === RrType.DNSKEY) &&
        !rrsigs.some((rdata) => rdata.length >= 18 && rdata.readUInt16BE(0) === RrType.DNSKEY && anchoredTags.has(rdata.readUInt16BE(16)))) {
        throw new TrustAnchorMismatch(`the DNSKEY RRset of ${zone} is not signed by the anchored key (tag ${[...anchoredTags].join(', ')})`);
    }

    const dnskeys = verifyRRset(rrset, rrsigs, anchored.map(({ key }) => key), zone, now);
    const signer = anchored.find(({ key }) => key.tag === dnskeys.signature.keyTag && key.algorithm === dnskeys.signature.algorithm)!;
    const keys = dnskeys.rdata.map(trustedKey).filter((key): key is TrustedDnskey => key !== null);
    return { zone, keys, anchor: { form: signer.form, keyTag: signer.key.tag, algorithm: signer.key.algorithm }, dnskeys };
}

/** The zone's owners of `type` records in the authority section. */
function authorityOwners(reply: DecodedMessage, type: number, zone: string): Set<string> {

    return new Set(reply.authorities.filter((record) => record.type === type && isInZone(record.name, zone)).map((record) => record.name));
}

/** Validates the RRset of one NSEC or NSEC3 owner; a name owns exactly one such record. */
function validatedDenialRecord(reply: DecodedMessage, owner: string, type: number, keys: TrustedKeys, now: number): ValidatedRRset {

    const rrset = collect(reply.authorities, owner, type)!;
    const validated = verifyRRset(rrset, rrsigsOver(reply.authorities, owner), keys.keys, keys.zone, now);
    if (validated.rdata.length !== 1) {
        const what = type === RrType.NSEC ? 'NSEC records; a name owns exactly one (RFC 4034 §4)' : 'NSEC3 records; a name owns exactly one';
        throw new DnssecBogus(`${owner} has ${validated.rdata.length} ${what}`);
    }

    return validated;
}

/** Validates every NSEC RRset of the authority section that belongs to the zone. */
function validatedNsecs(reply: DecodedMessage, keys: TrustedKeys, now: number): { rrsets: ValidatedRRset[]; nsecs: Nsec[] } {

    const rrsets: ValidatedRRset[] = [];
    const nsecs: Nsec[] = [];
    for (const owner of authorityOwners(reply, RrType.NSEC, keys.zone)) {
        const validated = validatedDenialRecord(reply, owner, RrType.NSEC, keys, now);
        try {
            nsecs.push(parseNsec(owner, validated.rdata[0]!));
        }
        catch {
            throw new DnssecBogus(`the NSEC of ${owner} is malformed`);
        }

        rrsets.push(validated);
    }

    return { rrsets, nsecs };
}

/**
 * Validates every NSEC3 RRset of the authority section that belongs to the zone, as
 * validatedNsecs does for NSEC. Their number is capped before any signature is checked:
 * each costs a verification, and a proof never needs many (Nsec3Limits).
 */
function validatedNsec3s(reply: DecodedMessage, keys: TrustedKeys, now: number): { rrsets: ValidatedRRset[]; nsec3s: Nsec3[] } {

    const owners = authorityOwners(reply, RrType.NSEC3, keys.zone);
    if (owners.size > Nsec3Limits.maxRecords) {
        throw new DnssecBogus(`${owners.size} NSEC3 records in one answer, more than the ${Nsec3Limits.maxRecords} IKS considers`);
    }

    const rrsets: ValidatedRRset[] = [];
    const nsec3s: Nsec3[] = [];
    for (const owner of owners) {
        const validated = validatedDenialRecord(reply, owner, RrType.NSEC3, keys, now);
        nsec3s.push(parseNsec3(owner, keys.zone, validated.rdata[0]!));
        rrsets.push(validated);
    }

    return { rrsets, nsec3s };
}

/**
 * Validates the answer to `qname qtype` from the anchored zone: the RRset itself when the
 * answer holds it, else a validated NSEC proof of NXDOMAIN or NODATA — or, when the
 * authority section has NSEC3 records and no NSEC, an NSEC3 proof (RFC 5155, nsec3.ts).
 * An empty answer without such a proof is bogus — records stripped on the way look
 * exactly like that.
 */
export function validateAnswer(reply: DecodedMessage, qname: string, qtype: number, keys: TrustedKeys, now: number): ValidatedAnswer {

    checkRcode(reply, qname, qtype);
    const what = `${qname} ${typeName(qtype)}`;
    if (!isInZone(qname, keys.zone)) {
        throw new DnssecBogus(`${what} is outside the anchored zone ${keys.zone}`);
    }

    const rrset = collect(reply.answers, qname, qtype);
    if (rrset) {
        if (reply.rcode !== Rcode.NOERROR) {
            throw new DnssecBogus(`${what}: records and ${rcodeName(reply.rcode)} in one answer`);
        }

        return { kind: 'answer', rrset: verifyRRset(rrset, rrsigsOver(reply.answers, qname), keys.keys, keys.zone, now) };
    }

    const kind = reply.rcode === Rcode.NXDOMAIN ? 'nxdomain' : 'nodata';
    const { rrsets, nsecs } = validatedNsecs(reply, keys, now);
    if (rrsets.length > 0) {
        if (kind === 'nxdomain') {
            proveNxdomain(qname, keys.zone, nsecs);
        }
        else {
            proveNodata(qname, qtype, keys.zone, nsecs);
        }

        return { kind, proof: rrsets };
    }

    const hashed = validatedNsec3s(reply, keys, now);
    if (hashed.rrsets.length === 0) {
        throw new DnssecBogus(`${what}: ${rcodeName(reply.rcode)} without any NSEC proof (neither NSEC nor NSEC3; records removed on the way?)`);
    }

    if (kind === 'nxdomain') {
        proveNsec3Nxdomain(qname, keys.zone, hashed.nsec3s);
    }
    else {
        proveNsec3Nodata(qname, qtype, keys.zone, hashed.nsec3s);
    }

    return { kind, proof: hashed.rrsets };
}
