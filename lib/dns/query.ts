/**
 * A strict, bounds-checked reader for DNS queries (RFC 1035 §4.1, RFC 6891 §6).
 *
 * dns2's Packet.parse reads bit by bit and retries every record a header announces:
 * a 12-octet packet announcing 4 × 65535 records costs it ~2 s of CPU. An authority
 * only needs the header, one question and the OPT record, so this reader takes
 * exactly that and classifies everything else without ever throwing.
 */
import { asciiLowercase } from './name';
import { Rcode, RrType } from './types';

export interface Edns {
    /** Advertised UDP payload size, raised to 512 (RFC 6891 §6.2.5). */
    readonly payloadSize: number;
    readonly dnssecOk: boolean;
    readonly version: number;
}

export interface ParsedQuery {
    readonly kind: 'query';
    readonly id: number;
    /** RD and CD as they were set, to be copied into the answer. */
    readonly rd: boolean;
    readonly cd: boolean;
    /** The question section as received (name case preserved). */
    readonly question: Buffer;
    /** Lowercase wire form of the question name as a latin1 string: the lookup key. */
    readonly qnameKey: string;
    /** Lowercase labels of the question name. */
    readonly labels: readonly string[];
    readonly qtype: number;
    readonly qclass: number;
    readonly edns: Edns | null;
}

/** A message that deserves an error answer: the header, the question when it was readable, and OPT if one was read. */
export interface RejectedQuery {
    readonly kind: 'reject';
    readonly id: number;
    readonly rd: boolean;
    /** Copied into the error answer like any other (RFC 4035 §3.1.6). */
    readonly cd: boolean;
    readonly opcode: number;
    /** Up to 12 bits (BADVERS travels in the OPT). */
    readonly rcode: number;
    /** The question section as received, or null when it could not be read. */
    readonly question: Buffer | null;
    readonly edns: Edns | null;
}

/** Not worth an answer: too short to echo an ID, or itself a response (no reflection loops). */
export interface DroppedQuery {
    readonly kind: 'drop';
}

export type QueryParse = ParsedQuery | RejectedQuery | DroppedQuery;

const internals = {
    headerLength: 12,
    minPayload: 512,
    /** RFC 1035 §2.3.4: 255 octets or less, the root label's zero octet included. */
    maxNameLength: 255,
    drop: { kind: 'drop' } as DroppedQuery,

    /**
     * Meta types asked as a question (RFC 6895 §3.1), answered as BIND does: OPT and TSIG
     * exist only in the additional section and 0 is reserved, so asking for them is a
     * format error; MAILB and MAILA are real QTYPEs (RFC 1035 §3.2.3) that no current
     * server implements, so NOTIMP. IXFR and AXFR are refused by the responder.
     */
    questionRcodes: new Map<number, number>([
        [0, Rcode.FORMERR],
        [RrType.OPT, Rcode.FORMERR],
        [RrType.TSIG, Rcode.FORMERR],
        [RrType.MAILB, Rcode.NOTIMP],
        [RrType.MAILA, Rcode.NOTIMP]
    ])
};

/** Classifies a received message; never throws. */
export function parseQuery(message: Buffer): QueryParse {

    if (message.length < internals.headerLength) {
        return internals.drop;
    }

    const id = message.readUInt16BE(0);
    const flags = message.readUInt16BE(2);
    if (flags & 0x8000) {
        return internals.drop;
    }

    const opcode = (flags >> 11) & 0xf;
    const rd = (flags & 0x0100) !== 0;
    const cd = (flags & 0x0010) !== 0;
    const reject = (rcode: number, edns: Edns | null, question: Buffer | null = null): RejectedQuery => ({ kind: 'reject', id, rd, cd, opcode, rcode, question, edns });

    // RFC 6891 §7: an error answer to a query with OPT carries OPT too, when it can be found.
    if (opcode !== 0) {
        return reject(Rcode.NOTIMP, findEdns(message));
    }

    const qdcount = message.readUInt16BE(4);
    const ancount = message.readUInt16BE(6);
    const nscount = message.readUInt16BE(8);
    const arcount = message.readUInt16BE(10);
    // An IXFR carries the client's SOA in the authority section (RFC 1995 §3); it is read past below.
    if (qdcount !== 1 || ancount !== 0 || nscount > 1 || arcount > 2) {
        return reject(Rcode.FORMERR, findEdns(message));
    }

    // Question name: no compression pointer can be valid at offset 12.
    const labels: string[] = [];
    let offset = internals.headerLength;
    for (;;) {
        const length = message[offset];
        if (length === undefined || length > 63 || offset + 1 + length > message.length) {
            return reject(Rcode.FORMERR, null);
        }

        if (length === 0) {
            ++offset;
            break;
        }

        labels.push(asciiLowercase(message.toString('latin1', offset + 1, offset + 1 + length)));
        offset += 1 + length;
        if (offset + 1 - internals.headerLength > internals.maxNameLength) {      // + 1: the root label still to come
            return reject(Rcode.FORMERR, null);
        }
    }

    if (offset + 4 > message.length) {
        return reject(Rcode.FORMERR, null);
    }

    const qtype = message.readUInt16BE(offset);
    const qclass = message.readUInt16BE(offset + 2);
    const question = message.subarray(internals.headerLength, offset + 4);
    offset += 4;
    if (nscount === 1) {
        if (qtype !== RrType.IXFR) {
            return reject(Rcode.FORMERR, findEdns(message));
        }

        offset = skipRecord(message, offset);
        if (offset < 0) {
            return reject(Rcode.FORMERR, null, question);
        }
    }

    // Additional section: at most one OPT (RFC 6891 §6.1.1); other records are skipped but TSIG.
    let edns: Edns | null = null;
    let tsig = -1;
    for (let i = 0; i < arcount; ++i) {
        const ownerEnd = skipName(message, offset);
        if (ownerEnd < 0 || ownerEnd + 10 > message.length) {
            return reject(Rcode.FORMERR, edns, question);
        }

        const type = message.readUInt16BE(ownerEnd);
        const rdlength = message.readUInt16BE(ownerEnd + 8);
        const end = ownerEnd + 10 + rdlength;
        if (end > message.length) {
            return reject(Rcode.FORMERR, edns, question);
        }

        if (type === RrType.OPT) {
            if (edns || ownerEnd !== offset + 1) {                     // duplicate OPT, or owner not the root
                return reject(Rcode.FORMERR, edns, question);
            }

            edns = readOpt(message, ownerEnd);
        }
        else if (type === RrType.TSIG) {
            tsig = i;
        }

        offset = end;
    }

    if (offset !== message.length) {
        return reject(Rcode.FORMERR, edns, question);
    }

    if (edns && edns.version !== 0) {
        return reject(Rcode.BADVERS, edns, question);
    }

    // TSIG must be the last record (RFC 8945 §5.1, else FORMERR). We hold no TSIG key: the
    // signed request is refused rather than answered as if its signature had been checked
    // (§5.2.2's NOTAUTH/BADKEY would need a TSIG record in the answer, which we do not write).
    if (tsig >= 0) {
        return reject(tsig === arcount - 1 ? Rcode.REFUSED : Rcode.FORMERR, edns, question);
    }

    const questionRcode = internals.questionRcodes.get(qtype);
    if (questionRcode !== undefined) {
        return reject(questionRcode, edns, question);
    }

    return {
        kind: 'query',
        id,
        rd,
        cd,
        question,
        qnameKey: asciiLowercase(message.toString('latin1', internals.headerLength, internals.headerLength + question.length - 4)),
        labels,
        qtype,
        qclass,
        edns
    };
}

/** EDNS from the OPT record whose TYPE field is at `typeAt` (RFC 6891 §6.1.2–6.1.3). */
function readOpt(message: Buffer, typeAt: number): Edns {

    const ttl = message.readUInt32BE(typeAt + 4);
    return {
        payloadSize: Math.max(message.readUInt16BE(typeAt + 2), internals.minPayload),
        dnssecOk: (ttl & 0x8000) !== 0,
        version: (ttl >>> 16) & 0xff
    };
}

/**
 * Best effort for a message about to be rejected: the OPT record found by walking every
 * section as its header counts them, or null when any of it does not parse. Each step
 * consumes at least one octet, so the walk is bounded by the message length.
 */
function findEdns(message: Buffer): Edns | null {

    const counts = [4, 6, 8, 10].map((at) => message.readUInt16BE(at));
    let offset = internals.headerLength;
    for (let i = 0; i < counts[0]!; ++i) {
        offset = skipName(message, offset);
        if (offset < 0 || offset + 4 > message.length) {
            return null;
        }

        offset += 4;
    }

    const records = counts[1]! + counts[2]! + counts[3]!;
    for (let i = 0; i < records; ++i) {
        const ownerEnd = skipName(message, offset);
        if (ownerEnd < 0 || ownerEnd + 10 > message.length) {
            return null;
        }

        if (i >= counts[1]! + counts[2]! && message.readUInt16BE(ownerEnd) === RrType.OPT && ownerEnd === offset + 1) {
            return readOpt(message, ownerEnd);
        }

        offset = ownerEnd + 10 + message.readUInt16BE(ownerEnd + 8);
    }

    return null;
}

/** Offset after a whole resource record, or -1 when it runs past the message. */
function skipRecord(message: Buffer, start: number): number {

    const ownerEnd = skipName(message, start);
    if (ownerEnd < 0 || ownerEnd + 10 > message.length) {
        return -1;
    }

    const end = ownerEnd + 10 + message.readUInt16BE(ownerEnd + 8);
    return end <= message.length ? end : -1;
}

/** Offset after a (possibly compressed) name, or -1; a pointer ends the name, so no loop can form. */
function skipName(message: Buffer, start: number): number {

    let offset = start;
    for (;;) {
        const length = message[offset];
        if (length === undefined) {
            return -1;
        }

        if (length === 0) {
            return offset + 1;
        }

        if ((length & 0xc0) === 0xc0) {
            return offset + 2 <= message.length ? offset + 2 : -1;
        }

        if (length > 63) {
            return -1;
        }

        offset += 1 + length;
    }
}
