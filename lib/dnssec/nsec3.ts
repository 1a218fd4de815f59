/**
 * Hashed authenticated denial of existence (NSEC3, RFC 5155): what a set of already
 * validated NSEC3 records proves about a name. As with NSEC (denial.ts), wildcard
 * answers are never accepted, so three proofs exist: NXDOMAIN (closest encloser proof
 * plus a covered wildcard, §8.3–§8.4), NODATA (the name's own NSEC3 lacks the type,
 * §8.5–§8.6) and, as a case of the latter, an empty non-terminal (its NSEC3 lists
 * nothing, RFC 5155 §7.1).
 *
 * IKS fails closed where RFC 5155 and RFC 9276 leave a validator the choice between
 * "insecure" and "bogus": an opt-out span over the name, or more iterations than
 * Nsec3Limits.maxIterations, is bogus here, because a lookup must end in keys or in a
 * proof that there are none, never in "unsigned, believe it".
 */
import * as Crypto from 'node:crypto';

import { DnssecBogus } from '../errors';
import { asciiLowercase, isInZone, nameToWire } from '../dns/name';
import { decodeTypeBitmap } from '../dns/rdata';
import { RrType, typeName } from '../dns/types';

/**
 * Work bounds for one answer. The resolver hashes names the server's records point at,
 * at the server's iteration count: without bounds a zone (or an attacker replaying its
 * records) can make each answer cost seconds of SHA-1 (CVE-2023-50868; RFC 9276 §3.2
 * lets validators give up on high iteration counts).
 */
export const Nsec3Limits = {
    /** RFC 9276 §3.2 lets validators treat more as insecure; IKS refuses them. */
    maxIterations: 100,
    /** NXDOMAIN needs at most 3 NSEC3 records; 8 leaves room for servers that add more. */
    maxRecords: 8,
    /** Names hashed per proof: a closest encloser proof hashes each ancestor of the name once. */
    maxHashes: 32
} as const;

export const Nsec3HashAlgorithm = {
    SHA1: 1
} as const;

export interface Nsec3 {
    /** Lowercase, no trailing dot: `<base32hex hash>.<zone>`. */
    readonly owner: string;
    /** The zone the owner's hash label sits directly below. */
    readonly zone: string;
    /** The owner's first label decoded: the hash of the name this NSEC3 speaks for. */
    readonly ownerHash: Buffer;
    readonly algorithm: number;
    readonly flags: number;
    readonly iterations: number;
    readonly salt: Buffer;
    /** Next hashed owner name, binary (RFC 5155 §3.1.7). */
    readonly next: Buffer;
    readonly types: ReadonlySet<number>;
}

const internals = {
    CNAME: 5,
    DNAME: 39,
    optOut: 0x01,
    sha1Length: 20,
    alphabet: '0123456789abcdefghijklmnopqrstuv',
    // Remainders of (characters mod 8) a whole number of octets leaves (RFC 4648 §6).
    validTails: new Set([0, 2, 4, 5, 7])
};

// ---- base32hex (RFC 4648 §7), lowercase, without padding, as in NSEC3 owner names ----

export function encodeBase32Hex(octets: Buffer): string {

    let text = '';
    let bits = 0;
    let value = 0;
    for (const octet of octets) {
        value = (value << 8) | octet;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            text += internals.alphabet[(value >> bits) & 0x1f];
        }

        value &= (1 << bits) - 1;
    }

    return bits > 0 ? text + internals.alphabet[(value << (5 - bits)) & 0x1f] : text;
}

/**
 * Decodes base32hex (either case, no padding); null for other characters, a length no
 * octet string encodes to, or non-zero spare bits — each spelling decodes from exactly
 * one label, so two owner names can never stand for one hash.
 */
export function decodeBase32Hex(text: string): Buffer | null {

    if (!internals.validTails.has(text.length % 8)) {
        return null;
    }

    const octets: number[] = [];
    let bits = 0;
    let value = 0;
    for (const character of asciiLowercase(text)) {
        const digit = internals.alphabet.indexOf(character);
        if (digit < 0) {
            return null;
        }

        value = (value << 5) | digit;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            octets.push((value >> bits) & 0xff);
            value &= (1 << bits) - 1;
        }
    }

    return value === 0 ? Buffer.from(octets) : null;
}

// ---- the hash (RFC 5155 §5) ----

/** IH(salt, name, iterations): SHA-1 over the canonical wire name and salt, then `iterations` more times over digest and salt. */
export function nsec3Hash(name: string, salt: Buffer, iterations: number): Buffer {

    const wire = name === '' ? Buffer.from([0]) : nameToWire(asciiLowercase(name));
    let digest = Crypto.createHash('sha1').update(wire).update(salt).digest();
    for (let i = 0; i < iterations; ++i) {
        digest = Crypto.createHash('sha1').update(digest).update(salt).digest();
    }

    return digest;
}

// ---- RDATA (RFC 5155 §3.2) ----

/** The zone an NSEC3 owner name hangs off, and its hash; DnssecBogus unless it is `<base32hex>.<zone>`. */
function ownerHashOf(owner: string, zone: string): Buffer {

    const label = owner.slice(0, owner.length - zone.length - 1);
    const hash = owner.endsWith(`.${zone}`) && !label.includes('.') ? decodeBase32Hex(label) : null;
    if (!hash || hash.length === 0) {
        throw new DnssecBogus(`NSEC3 owner ${owner} is not a base32hex hash label directly below ${zone}`);
    }

    return hash;
}

/**
 * Reads NSEC3 RDATA strictly: hash algorithm, flags, iterations, salt, next hashed owner
 * and type bit maps, nothing missing and nothing after. DnssecBogus for any malformation
 * (a signed record the zone could not have meant is no proof of anything).
 */
export function parseNsec3(owner: string, zone: string, rdata: Buffer): Nsec3 {

    const malformed = (why: string) => new DnssecBogus(`the NSEC3 of ${owner} is malformed: ${why}`);
    const ownerHash = ownerHashOf(owner, zone);
    if (rdata.length < 5) {
        throw malformed('RDATA shorter than its fixed fields');
    }

    const saltEnd = 5 + rdata[4]!;
    const hashLength = rdata[saltEnd];
    if (hashLength === undefined) {
        throw malformed('the salt runs past the RDATA');
    }

    const hashEnd = saltEnd + 1 + hashLength;
    if (hashLength === 0 || hashEnd > rdata.length) {
        throw malformed('the next hashed owner name is empty or runs past the RDATA');
    }

    let types: number[];
    try {
        types = decodeTypeBitmap(rdata.subarray(hashEnd));
    }
    catch (err) {
        throw malformed((err as Error).message);
    }

    return {
        owner,
        zone,
        ownerHash,
        algorithm: rdata[0]!,
        flags: rdata[1]!,
        iterations: rdata.readUInt16BE(2),
        salt: Buffer.from(rdata.subarray(5, saltEnd)),
        next: Buffer.from(rdata.subarray(saltEnd + 1, hashEnd)),
        types: new Set(types)
    };
}

// ---- hash order ----

/** True when the NSEC3's owner hash is `hash`. */
export function matches(nsec3: Nsec3, hash: Buffer): boolean {

    return nsec3.ownerHash.equals(hash);
}

/** True when `hash` lies strictly between owner and next hash; the last NSEC3 of the chain wraps around to the first. */
export function covers(nsec3: Nsec3, hash: Buffer): boolean {

    const afterOwner = Buffer.compare(nsec3.ownerHash, hash) < 0;
    const beforeNext = Buffer.compare(hash, nsec3.next) < 0;
    return Buffer.compare(nsec3.ownerHash, nsec3.next) >= 0 ? afterOwner || beforeNext : afterOwner && beforeNext;
}

export function isOptOut(nsec3: Nsec3): boolean {

    return (nsec3.flags & internals.optOut) !== 0;
}

/** A delegation's NSEC3 (NS without SOA) or a DNAME's speaks for the parent only, and proves nothing below (RFC 5155 §8.3, RFC 6840 §4.1). */
function isCut(nsec3: Nsec3): boolean {

    return (nsec3.types.has(RrType.NS) && !nsec3.types.has(RrType.SOA)) || nsec3.types.has(internals.DNAME);
}

// ---- one chain: the records a proof may use ----

interface Chain {
    readonly records: readonly Nsec3[];
    /** Hashes a name with the chain's parameters, at most Nsec3Limits.maxHashes names per proof. */
    hash(name: string): Buffer;
    /** A DnssecBogus that also says which records RFC 5155 §8.1/§8.2 made it ignore. */
    bogus(message: string): DnssecBogus;
}

function sameParameters(a: Nsec3, b: Nsec3): boolean {

    return a.algorithm === b.algorithm && a.iterations === b.iterations && a.salt.equals(b.salt);
}

function ignoredNote(records: readonly Nsec3[]): string {

    const notes: string[] = [];
    const algorithms = new Set(records.filter((nsec3) => nsec3.algorithm !== Nsec3HashAlgorithm.SHA1).map((nsec3) => nsec3.algorithm));
    if (algorithms.size > 0) {
        notes.push(`NSEC3 with unknown hash algorithm ${[...algorithms].join(', ')} ignored (RFC 5155 §8.1)`);
    }

    const flags = new Set(records.filter((nsec3) => nsec3.algorithm === Nsec3HashAlgorithm.SHA1 && (nsec3.flags & ~internals.optOut) !== 0).map((nsec3) => `0x${nsec3.flags.toString(16)}`));
    if (flags.size > 0) {
        notes.push(`NSEC3 with unknown flags ${[...flags].join(', ')} ignored (RFC 5155 §8.2)`);
    }

    return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

/**
 * The NSEC3 records of `zone` a proof may use: unknown hash algorithms and flags ignored
 * as RFC 5155 §8.1–§8.2 require; then the rest must be few, within the iteration cap,
 * of SHA-1's length and of one chain (§8.2 allows refusing mixed parameters, and a
 * record from another chain hashes names differently, so it would prove nothing).
 */
function chainOf(records: readonly Nsec3[], qname: string, zone: string, what: string): Chain {

    // Below the zone only: the closest encloser walk stops at the apex.
    if (!isInZone(qname, zone)) {
        throw new DnssecBogus(`${what}: ${qname} is not in ${zone}`);
    }

    if (records.length > Nsec3Limits.maxRecords) {
        throw new DnssecBogus(`${what}: ${records.length} NSEC3 records, more than the ${Nsec3Limits.maxRecords} IKS considers in one answer`);
    }

    const ofZone = records.filter((nsec3) => nsec3.zone === zone);
    const usable = ofZone.filter((nsec3) => nsec3.algorithm === Nsec3HashAlgorithm.SHA1 && (nsec3.flags & ~internals.optOut) === 0);
    const note = ignoredNote(ofZone);
    const first = usable[0];
    if (!first) {
        throw new DnssecBogus(`${what}: no usable NSEC3 record of ${zone}${note}`);
    }

    for (const nsec3 of usable) {
        if (nsec3.iterations > Nsec3Limits.maxIterations) {
            throw new DnssecBogus(`${what}: the NSEC3 of ${nsec3.owner} uses ${nsec3.iterations} hash iterations; IKS refuses more than ${Nsec3Limits.maxIterations} (RFC 9276 §3.2)`);
        }

        if (nsec3.ownerHash.length !== internals.sha1Length || nsec3.next.length !== internals.sha1Length) {
            throw new DnssecBogus(`${what}: the NSEC3 of ${nsec3.owner} holds a hash that is not ${internals.sha1Length} octets (SHA-1)`);
        }

        if (!sameParameters(first, nsec3)) {
            throw new DnssecBogus(`${what}: the NSEC3 records of ${first.owner} and ${nsec3.owner} belong to different chains (hash algorithm, iterations or salt differ)`);
        }
    }

    const hashes = new Map<string, Buffer>();
    return {
        records: usable,
        hash(name) {

            let hash = hashes.get(name);
            if (!hash) {
                if (hashes.size >= Nsec3Limits.maxHashes) {
                    throw new DnssecBogus(`${what}: the NSEC3 proof needs more than ${Nsec3Limits.maxHashes} hashed names; IKS stops there`);
                }

                hash = nsec3Hash(name, first.salt, first.iterations);
                hashes.set(name, hash);
            }

            return hash;
        },
        bogus: (message) => new DnssecBogus(`${what}: ${message}${note}`)
    };
}

function parentOf(name: string): string {

    return name.slice(name.indexOf('.') + 1);
}

/**
 * The closest encloser proof (RFC 5155 §8.3): walking up from `qname`, the first
 * ancestor whose hash an NSEC3 matches must have its child on the path (the next closer
 * name) covered; that ancestor exists, the next closer name does not. Returns both names
 * and the NSEC3 covering the next closer; bogus when the walk reaches the apex unmatched,
 * when a match comes without the cover below it, or when the encloser is a zone cut.
 */
function closestEncloser(qname: string, zone: string, chain: Chain): { encloser: string; nextCloser: string; covering: Nsec3 } {

    let child: { name: string; covering: Nsec3 | undefined } | null = null;
    for (let name = qname; ; name = parentOf(name)) {
        const hash = chain.hash(name);
        const match = chain.records.find((nsec3) => matches(nsec3, hash));
        if (match) {
            if (!child) {
                throw chain.bogus(`the NSEC3 of ${name} matches the name: it exists`);
            }

            if (!child.covering) {
                throw chain.bogus(`no NSEC3 covers ${child.name}, the next closer name below the closest encloser ${name}`);
            }

            if (isCut(match)) {
                throw chain.bogus(`the closest encloser ${name} is a zone cut (NS or DNAME); its NSEC3 proves nothing below it`);
            }

            return { encloser: name, nextCloser: child.name, covering: child.covering };
        }

        if (name === zone) {
            throw chain.bogus(`no NSEC3 matches ${qname} or any ancestor up to the apex ${zone}: no closest encloser`);
        }

        child = { name, covering: chain.records.find((nsec3) => covers(nsec3, hash)) };
    }
}

/** Throws DnssecBogus unless the NSEC3 records prove that `qname` does not exist in `zone` (RFC 5155 §8.4). */
export function proveNsec3Nxdomain(qname: string, zone: string, records: readonly Nsec3[]): void {

    const chain = chainOf(records, qname, zone, `NXDOMAIN for ${qname}`);
    const { encloser, nextCloser, covering } = closestEncloser(qname, zone, chain);

    // Opt-out (RFC 5155 §6): the span may hide unsigned delegations, so the next closer
    // name could exist, unsigned. That is "insecure" at best, never a proof of absence.
    if (isOptOut(covering)) {
        throw chain.bogus(`the NSEC3 covering ${nextCloser} has opt-out set, so ${nextCloser} may be an unsigned delegation; IKS needs a signed denial`);
    }

    const wildcard = `*.${encloser}`;
    const wildcardHash = chain.hash(wildcard);
    if (chain.records.some((nsec3) => matches(nsec3, wildcardHash))) {
        throw chain.bogus(`${wildcard} exists and would have answered`);
    }

    if (!chain.records.some((nsec3) => covers(nsec3, wildcardHash))) {
        throw chain.bogus(`no NSEC3 proves that ${wildcard} is absent`);
    }
}

/**
 * Throws DnssecBogus unless the NSEC3 records prove that `qname` exists without records
 * of `qtype` (RFC 5155 §8.5): its own NSEC3, without the type and without CNAME. An empty
 * non-terminal has an NSEC3 listing no types, so it is proven the same way. Without a
 * matching NSEC3 nothing is accepted: §8.6 would let opt-out deny a DS, which only
 * proves an unsigned delegation, and §8.7 is a wildcard proof.
 */
export function proveNsec3Nodata(qname: string, qtype: number, zone: string, records: readonly Nsec3[]): void {

    const chain = chainOf(records, qname, zone, `NODATA for ${qname} ${typeName(qtype)}`);
    const hash = chain.hash(qname);
    const own = chain.records.find((nsec3) => matches(nsec3, hash));
    if (!own) {
        const why = qtype === RrType.DS ? ' (an opt-out denial of DS, RFC 5155 §8.6, would leave an unsigned delegation, which IKS refuses)' : '';
        throw chain.bogus(`no NSEC3 matches ${qname}${why}`);
    }

    if (own.types.has(qtype)) {
        throw chain.bogus(`the NSEC3 of ${qname} lists ${typeName(qtype)}, yet no ${typeName(qtype)} records came`);
    }

    if (own.types.has(internals.CNAME)) {
        throw chain.bogus(`${qname} is an alias (CNAME), which IKS lookups do not follow`);
    }

    // RFC 6840 §4.4: the parent's NSEC3 at a delegation says nothing about the child's types.
    if (own.types.has(RrType.NS) && !own.types.has(RrType.SOA) && qtype !== RrType.DS) {
        throw chain.bogus(`${qname} is a delegation; its parent-side NSEC3 cannot deny ${typeName(qtype)}`);
    }
}
