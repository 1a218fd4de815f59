/**
 * Answers queries from a SignedZone (RFC 1034 §4.3.2, RFC 4035 §3.1): positive answers,
 * NODATA and NXDOMAIN with their NSEC proofs, REFUSED outside the zone. Encoded answers
 * are cached per question and only the message ID, question case and RD/CD are patched
 * per query.
 */
import { encodeResponse, type WireRecord } from '../../lib/dns/message';
import { compareLabels } from '../../lib/dns/name';
import type { ParsedQuery, QueryParse } from '../../lib/dns/query';
import { Rcode, RrClass, RrType } from '../../lib/dns/types';
import type { SignedRRset, SignedZone } from '../../lib/dnssec/signed-zone';

export type Transport = 'udp' | 'tcp';

export interface ResponderOptions {
    /** Largest UDP answer we send whatever the client advertises (RFC 6891 §6.2.5; 1232 avoids fragmentation). */
    readonly maxUdpPayload: number;
    /** Cached answers kept before the cache is emptied. */
    readonly cacheSize: number;
}

interface CachedAnswer {
    readonly full: Buffer;
    /** TC=1, header, question and OPT only: sent when `full` does not fit over UDP. */
    readonly truncated: Buffer;
}

interface Nsec {
    readonly labels: readonly string[];
    readonly rrset: SignedRRset;
}

const internals = {
    plainUdpLimit: 512,
    headerLength: 12,
    /** The most a TCP length prefix can announce (RFC 1035 §4.2.2), hence the largest answer on any transport. */
    maxMessage: 0xffff,
    /** A record takes at least 12 octets (a compressed owner and the fixed fields): more than this many cannot fit. */
    maxRecords: Math.floor((0xffff - 12) / 12)
};

export class ZoneResponder {

    readonly zone: SignedZone;
    /** The earliest RRSIG expiration in the zone, seconds since the epoch (Infinity without any RRSIG). */
    readonly signaturesExpire: number;
    private readonly options: ResponderOptions;
    private readonly originLabels: readonly string[];
    private readonly nodes = new Map<string, Map<number, SignedRRset>>();
    private readonly emptyNonTerminals = new Set<string>();
    private readonly nsecs: Nsec[] = [];
    private readonly soa: SignedRRset;
    private readonly cache = new Map<string, CachedAnswer>();

    constructor(zone: SignedZone, options: ResponderOptions) {

        this.zone = zone;
        this.options = options;
        this.originLabels = zone.origin.split('.');
        for (const rrset of zone.rrsets) {
            const key = wireKey(rrset.name.split('.'));
            const node = this.nodes.get(key) ?? new Map<number, SignedRRset>();
            node.set(rrset.type, rrset);
            this.nodes.set(key, node);
            if (rrset.type === RrType.NSEC) {
                this.nsecs.push({ labels: rrset.name.split('.'), rrset });
            }
        }

        // Names between an owner and the apex that own nothing themselves (RFC 4592 §2.2.2).
        for (const rrset of zone.rrsets) {
            const labels = rrset.name.split('.');
            for (let i = 1; labels.length - i > this.originLabels.length - 1; ++i) {
                const key = wireKey(labels.slice(i));
                if (!this.nodes.has(key)) {
                    this.emptyNonTerminals.add(key);
                }
            }
        }

        // RRSIG RDATA: type covered, algorithm, labels, original TTL, then the expiration (RFC 4034 §3.1).
        let earliest = Infinity;
        for (const rrset of zone.rrsets) {
            for (const rdata of rrset.signatures) {
                earliest = Math.min(earliest, rdata.readUInt32BE(8));
            }
        }

        this.signaturesExpire = earliest;
        this.nsecs.sort((a, b) => compareLabels(a.labels, b.labels));
        this.soa = this.nodes.get(wireKey(this.originLabels))!.get(RrType.SOA)!;
    }

    /** The wire answer to a classified message, or null when it deserves silence. */
    respond(parsed: QueryParse, transport: Transport): Buffer | null {

        if (parsed.kind === 'drop') {
            return null;
        }

        if (parsed.kind === 'reject') {
            const edns = parsed.edns ? { payloadSize: this.options.maxUdpPayload, dnssecOk: parsed.edns.dnssecOk } : null;
            return encodeResponse({ id: parsed.id, opcode: parsed.opcode, aa: false, rd: parsed.rd, cd: parsed.cd, rcode: parsed.rcode, question: parsed.question, edns });
        }

        const dnssecOk = parsed.edns?.dnssecOk ?? false;
        const key = `${parsed.qnameKey}|${parsed.qtype}|${parsed.qclass}|${parsed.edns ? (dnssecOk ? 2 : 1) : 0}`;
        let cached = this.cache.get(key);
        if (!cached) {
            const built = this.build(parsed);
            cached = built.answer;
            if (built.cacheable) {
                if (this.cache.size >= this.options.cacheSize) {
                    this.cache.clear();
                }

                this.cache.set(key, cached);
            }
        }

        const limit = parsed.edns ? Math.min(parsed.edns.payloadSize, this.options.maxUdpPayload) : internals.plainUdpLimit;
        const source = transport === 'udp' && cached.full.length > limit ? cached.truncated : cached.full;

        // ---- per-query patch: ID, the question as asked (its case), RD and CD ----

        const answer = Buffer.from(source);
        answer.writeUInt16BE(parsed.id, 0);
        parsed.question.copy(answer, internals.headerLength);
        answer[2] = (answer[2]! & 0xfe) | (parsed.rd ? 0x01 : 0);
        answer[3] = (answer[3]! & 0xef) | (parsed.cd ? 0x10 : 0);
        return answer;
    }

    private build(query: ParsedQuery): { answer: CachedAnswer; cacheable: boolean } {

        const dnssecOk = query.edns?.dnssecOk ?? false;
        const edns = query.edns ? { payloadSize: this.options.maxUdpPayload, dnssecOk } : null;
        const base = { id: query.id, rd: query.rd, cd: query.cd, question: query.question, edns };
        const finish = (aa: boolean, rcode: number, answers: WireRecord[], authorities: WireRecord[], cacheable: boolean) => {

            const full = answers.length + authorities.length <= internals.maxRecords ? encodeResponse({ ...base, aa, rcode, answers, authorities }) : null;
            if (full && full.length <= internals.maxMessage) {
                return { answer: { full, truncated: encodeResponse({ ...base, aa, tc: true, rcode }) }, cacheable };
            }

            // Too large even for TCP (an operator's RRset of thousands of records). TC=1 over TCP
            // leaves the client nowhere to retry and a partial RRset would fail validation, so
            // SERVFAIL on both transports: a resolver then tries another server, none loops. Cached,
            // so the oversized answer is not rebuilt per query.
            const servfail = encodeResponse({ ...base, aa: false, rcode: Rcode.SERVFAIL });
            return { answer: { full: servfail, truncated: servfail }, cacheable: true };
        };

        if (query.qclass !== RrClass.IN || !this.inZone(query.labels) || query.qtype === RrType.AXFR || query.qtype === RrType.IXFR) {
            return finish(false, Rcode.REFUSED, [], [], false);
        }

        const node = this.nodes.get(query.qnameKey);

        // ---- the name exists: answer, or NODATA with its own NSEC ----

        if (node) {
            const answers = this.answerRecords(node, query.qtype, dnssecOk);
            if (answers.length > 0) {
                return finish(true, Rcode.NOERROR, answers, [], true);
            }

            return finish(true, Rcode.NOERROR, [], this.denial(dnssecOk ? [node.get(RrType.NSEC)!] : []), true);
        }

        // ---- empty non-terminal: NODATA, proven by the NSEC whose span covers it ----

        if (this.emptyNonTerminals.has(query.qnameKey)) {
            return finish(true, Rcode.NOERROR, [], this.denial(dnssecOk ? [this.covering(query.labels)] : []), true);
        }

        // ---- NXDOMAIN: the name and the wildcard at its closest encloser are both covered ----

        const proofs: SignedRRset[] = [];
        if (dnssecOk) {
            proofs.push(this.covering(query.labels));
            const wildcard = this.wildcardAtClosestEncloser(query.labels);
            const wildcardProof = this.covering(wildcard);
            if (wildcardProof !== proofs[0]) {
                proofs.push(wildcardProof);
            }
        }

        return finish(true, Rcode.NXDOMAIN, [], this.denial(proofs), false);
    }

    private inZone(labels: readonly string[]): boolean {

        const origin = this.originLabels;
        if (labels.length < origin.length) {
            return false;
        }

        for (let i = 1; i <= origin.length; ++i) {
            if (labels[labels.length - i] !== origin[origin.length - i]) {
                return false;
            }
        }

        return true;
    }

    private answerRecords(node: Map<number, SignedRRset>, qtype: number, dnssecOk: boolean): WireRecord[] {

        if (qtype === RrType.RRSIG) {
            return [...node.values()].flatMap((rrset) => rrset.signatures.map((rdata) => ({ name: rrset.name, type: RrType.RRSIG, ttl: rrset.ttl, rdata })));
        }

        // RFC 8482 §4.2: ANY gets one RRset, not the whole node.
        const rrset = qtype === RrType.ANY ? node.get(RrType.SOA) ?? node.values().next().value : node.get(qtype);
        return rrset ? records(rrset, dnssecOk) : [];
    }

    /** SOA (TTL lowered to its minimum, RFC 2308 §3) and, with DO, the NSEC proofs. */
    private denial(proofs: readonly SignedRRset[]): WireRecord[] {

        const dnssecOk = proofs.length > 0;
        const minimum = this.soa.rdata[0]!.readUInt32BE(this.soa.rdata[0]!.length - 4);
        const soa = { ...this.soa, ttl: Math.min(this.soa.ttl, minimum) };
        return [...records(soa, dnssecOk), ...proofs.flatMap((proof) => records(proof, true))];
    }

    /** The NSEC whose owner is the greatest name before `labels` in canonical order. */
    private covering(labels: readonly string[]): SignedRRset {

        let low = 0;
        let high = this.nsecs.length - 1;
        while (low < high) {
            const middle = (low + high + 1) >> 1;
            if (compareLabels(this.nsecs[middle]!.labels, labels) < 0) {
                low = middle;
            }
            else {
                high = middle - 1;
            }
        }

        return this.nsecs[low]!.rrset;
    }

    private wildcardAtClosestEncloser(labels: readonly string[]): string[] {

        for (let i = 1; i < labels.length; ++i) {
            const ancestor = labels.slice(i);
            const key = wireKey(ancestor);
            if (this.nodes.has(key) || this.emptyNonTerminals.has(key)) {
                return ['*', ...ancestor];
            }
        }

        return ['*', ...this.originLabels];
    }
}

function records(rrset: SignedRRset, dnssecOk: boolean): WireRecord[] {

    const list: WireRecord[] = rrset.rdata.map((rdata) => ({ name: rrset.name, type: rrset.type, ttl: rrset.ttl, rdata }));
    if (dnssecOk) {
        for (const rdata of rrset.signatures) {
            list.push({ name: rrset.name, type: RrType.RRSIG, ttl: rrset.ttl, rdata });
        }
    }

    return list;
}

/** Lookup key: the lowercase wire form of a name as a latin1 string (labels may hold any octet). */
function wireKey(labels: readonly string[]): string {

    let key = '';
    for (const label of labels) {
        key += String.fromCharCode(label.length) + label;
    }

    return `${key}\0`;
}
