/**
 * Authenticated denial of existence with NSEC (RFC 4035 §5.4, RFC 7129): what a set of
 * already validated NSEC records proves about a name. Wildcard answers are never
 * accepted (IKS zones have no wildcards), so only two proofs exist: NXDOMAIN (the name
 * and the wildcard at its closest encloser are both covered) and NODATA (the name's
 * own NSEC lacks the type, or the name is an empty non-terminal).
 */
import { DnssecBogus } from '../errors';
import { asciiLowercase, compareCanonical, isInZone } from '../dns/name';
import { decodeTypeBitmap, readWireName } from '../dns/rdata';
import { RrType, typeName } from '../dns/types';

export interface Nsec {
    /** Lowercase, no trailing dot. */
    readonly owner: string;
    readonly next: string;
    readonly types: ReadonlySet<number>;
}

const internals = {
    CNAME: 5,
    DNAME: 39
};

/** Reads NSEC RDATA (RFC 4034 §4.1); the next name is compared case-insensitively (RFC 6840 §5.1). */
export function parseNsec(owner: string, rdata: Buffer): Nsec {

    const next = readWireName(rdata, 0);
    return { owner, next: asciiLowercase(next.name.slice(0, -1)), types: new Set(decodeTypeBitmap(rdata.subarray(next.next))) };
}

/** True when `name` lies strictly between the NSEC's owner and next name, the last NSEC wrapping to the apex. */
export function covers(nsec: Nsec, name: string): boolean {

    if (compareCanonical(nsec.owner, name) >= 0) {
        return false;
    }

    return compareCanonical(nsec.owner, nsec.next) >= 0 || compareCanonical(name, nsec.next) < 0;
}

/**
 * An NSEC at a zone cut above `name` (NS without SOA, or DNAME) speaks for the parent
 * zone only and proves nothing about names below the cut (RFC 6840 §4.1).
 */
function isCutAbove(nsec: Nsec, name: string): boolean {

    const cut = (nsec.types.has(RrType.NS) && !nsec.types.has(RrType.SOA)) || nsec.types.has(internals.DNAME);
    return cut && name !== nsec.owner && isInZone(name, nsec.owner);
}

/** The longest common ancestor of two names (both in one zone, so at least its apex). */
function commonAncestor(a: string, b: string): string {

    const left = a.split('.');
    const right = b.split('.');
    let shared = 0;
    while (shared < left.length && shared < right.length && left[left.length - 1 - shared] === right[right.length - 1 - shared]) {
        ++shared;
    }

    return left.slice(left.length - shared).join('.');
}

function usable(nsecs: readonly Nsec[], zone: string): Nsec[] {

    return nsecs.filter((nsec) => isInZone(nsec.owner, zone) && isInZone(nsec.next, zone));
}

function coveringProof(nsecs: readonly Nsec[], name: string): Nsec | undefined {

    return nsecs.find((nsec) => covers(nsec, name) && !isCutAbove(nsec, name));
}

/** Throws DnssecBogus unless the NSECs prove that `qname` does not exist in `zone`. */
export function proveNxdomain(qname: string, zone: string, nsecs: readonly Nsec[]): void {

    const chain = usable(nsecs, zone);
    const covering = coveringProof(chain, qname);
    if (!covering) {
        throw new DnssecBogus(`NXDOMAIN for ${qname} comes without an NSEC that covers the name`);
    }

    // A next name below qname makes qname an empty non-terminal: it exists.
    if (isInZone(covering.next, qname)) {
        throw new DnssecBogus(`NXDOMAIN for ${qname}, but ${covering.next} exists below it`);
    }

    // The closest encloser is the deepest ancestor of qname that exists (RFC 4592 §3.3.1);
    // the covering NSEC's two ends are existing names, so it is their deeper common ancestor.
    const fromOwner = commonAncestor(qname, covering.owner);
    const fromNext = commonAncestor(qname, covering.next);
    const encloser = fromOwner.length >= fromNext.length ? fromOwner : fromNext;
    const wildcard = `*.${encloser}`;
    if (chain.some((nsec) => nsec.owner === wildcard)) {
        throw new DnssecBogus(`NXDOMAIN for ${qname}, but ${wildcard} exists and would have answered`);
    }

    if (!coveringProof(chain, wildcard)) {
        throw new DnssecBogus(`NXDOMAIN for ${qname} does not prove that ${wildcard} is absent`);
    }
}

/** Throws DnssecBogus unless the NSECs prove that `qname` exists without records of `qtype`. */
export function proveNodata(qname: string, qtype: number, zone: string, nsecs: readonly Nsec[]): void {

    const chain = usable(nsecs, zone);
    const own = chain.find((nsec) => nsec.owner === qname);
    if (own) {
        if (own.types.has(qtype)) {
            throw new DnssecBogus(`the NSEC of ${qname} lists ${typeName(qtype)}, yet no ${typeName(qtype)} records came`);
        }

        if (own.types.has(internals.CNAME)) {
            throw new DnssecBogus(`${qname} is an alias (CNAME), which IKS lookups do not follow`);
        }

        // RFC 6840 §4.4: the parent's NSEC at a delegation says nothing about the child's types.
        if (own.types.has(RrType.NS) && !own.types.has(RrType.SOA) && qtype !== RrType.DS) {
            throw new DnssecBogus(`${qname} is a delegation; its parent-side NSEC cannot deny ${typeName(qtype)}`);
        }

        return;
    }

    // An empty non-terminal: covered, and the next name lies below it (RFC 4592 §2.2.2).
    const covering = coveringProof(chain, qname);
    if (covering && covering.next !== qname && isInZone(covering.next, qname)) {
        return;
    }

    throw new DnssecBogus(`no NSEC proves that ${qname} has no ${typeName(qtype)} records`);
}
