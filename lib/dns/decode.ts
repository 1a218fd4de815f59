/**
 * A strict, bounds-checked decoder of DNS responses (RFC 1035 §4.1) for the client.
 *
 * Each record keeps its RDATA as octets, so the validator can rebuild exactly what a
 * signer signed: dns2's decoder turns RDATA into objects and knows neither RRSIG, NSEC
 * nor DNSKEY. Compressed names in RDATA are expanded only for the types RFC 3597 §4
 * lets servers compress (plus SRV, which some servers compress although RFC 2782 says
 * not to); everything else is copied as received. Every failure is a DnsFormatError.
 */
import { asciiLowercase } from './name';
import { DnsFormatError, RrType } from './types';

export interface DecodedRecord {
    /** Lowercase, absolute, no trailing dot; '' for the root. */
    readonly name: string;
    readonly type: number;
    readonly class: number;
    readonly ttl: number;
    /** RDATA octets, compressed names expanded (their case kept). */
    readonly rdata: Buffer;
}

export interface DecodedQuestion {
    /** Lowercase, no trailing dot. */
    readonly name: string;
    readonly type: number;
    readonly class: number;
}

export interface DecodedMessage {
    readonly id: number;
    readonly qr: boolean;
    readonly opcode: number;
    readonly aa: boolean;
    readonly tc: boolean;
    readonly rd: boolean;
    readonly ra: boolean;
    readonly ad: boolean;
    readonly cd: boolean;
    /** Header RCODE extended by the OPT record's upper bits (RFC 6891 §6.1.3). */
    readonly rcode: number;
    readonly question: DecodedQuestion | null;
    readonly answers: readonly DecodedRecord[];
    readonly authorities: readonly DecodedRecord[];
    /** The additional section without the OPT record. */
    readonly additionals: readonly DecodedRecord[];
    readonly edns: { readonly payloadSize: number; readonly dnssecOk: boolean; readonly version: number } | null;
}

const internals = {
    headerLength: 12,
    maxNameWire: 255,
    // A name has at most 127 labels, so a legitimate encoder never needs more pointers.
    maxPointers: 127,
    minRecordLength: 11,                    // root owner, type, class, TTL, RDLENGTH
    // RDATA layouts holding names that may be compressed: [octets before the name, names].
    compressible: new Map<number, { readonly prefix: number; readonly names: number }>([
        [RrType.NS, { prefix: 0, names: 1 }],
        [5, { prefix: 0, names: 1 }],                      // CNAME
        [RrType.SOA, { prefix: 0, names: 2 }],
        [12, { prefix: 0, names: 1 }],                     // PTR
        [15, { prefix: 2, names: 1 }],                     // MX
        [RrType.SRV, { prefix: 6, names: 1 }]
    ])
};

interface ReadName {
    /** Labels as latin1 strings, case kept. */
    readonly labels: string[];
    /** Offset just after the name where it starts (after its pointer, if any). */
    readonly next: number;
}

/**
 * Reads a possibly compressed name (RFC 1035 §4.1.4). Every pointer must point before
 * the octets read so far, so a chain of pointers strictly descends and cannot loop; the
 * expanded name must fit the 255-octet limit, and at most 127 pointers are followed (a
 * descending chain may still be thousands of hops long, walked again for every name that
 * points into it).
 */
export function readName(message: Buffer, start: number): ReadName {

    const labels: string[] = [];
    let offset = start;
    let lowest = start;
    let next = -1;
    let wireLength = 1;
    let pointers = 0;
    for (;;) {
        const length = message[offset];
        if (length === undefined) {
            throw new DnsFormatError('name runs past the end of the message');
        }

        if (length === 0) {
            return { labels, next: next < 0 ? offset + 1 : next };
        }

        if ((length & 0xc0) === 0xc0) {
            const second = message[offset + 1];
            if (second === undefined) {
                throw new DnsFormatError('compression pointer runs past the end of the message');
            }

            const target = ((length & 0x3f) << 8) | second;
            if (target >= lowest || target < internals.headerLength) {
                throw new DnsFormatError(`compression pointer to ${target} does not point backwards into the message`);
            }

            if (++pointers > internals.maxPointers) {
                throw new DnsFormatError(`name follows more than ${internals.maxPointers} compression pointers`);
            }

            if (next < 0) {
                next = offset + 2;
            }

            lowest = target;
            offset = target;
            continue;
        }

        if (length > 63) {
            throw new DnsFormatError(`label type 0x${(length & 0xc0).toString(16)} is not supported`);
        }

        if (offset + 1 + length > message.length) {
            throw new DnsFormatError('label runs past the end of the message');
        }

        wireLength += 1 + length;
        if (wireLength > internals.maxNameWire) {
            throw new DnsFormatError(`name is longer than ${internals.maxNameWire} octets`);
        }

        const label = message.toString('latin1', offset + 1, offset + 1 + length);
        if (label.includes('.')) {
            // Names are handled as dot-joined labels; a dot inside a label would change them.
            throw new DnsFormatError('label contains a "." octet');
        }

        labels.push(label);
        offset += 1 + length;
    }
}

function labelsToWire(labels: readonly string[]): Buffer {

    const parts: Buffer[] = [];
    for (const label of labels) {
        parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
    }

    parts.push(Buffer.from([0]));
    return Buffer.concat(parts);
}

/** RDATA of `type` at [start, end): names expanded for the compressible types, else a copy. */
function readRdata(message: Buffer, type: number, start: number, end: number): Buffer {

    const layout = internals.compressible.get(type);
    if (!layout) {
        return Buffer.from(message.subarray(start, end));
    }

    if (start + layout.prefix > end) {
        throw new DnsFormatError(`RDATA of type ${type} is too short`);
    }

    const parts: Buffer[] = [message.subarray(start, start + layout.prefix)];
    let offset = start + layout.prefix;
    for (let i = 0; i < layout.names; ++i) {
        const name = readName(message, offset);
        if (name.next > end) {
            throw new DnsFormatError(`name in RDATA of type ${type} runs past RDLENGTH`);
        }

        parts.push(labelsToWire(name.labels));
        offset = name.next;
    }

    parts.push(message.subarray(offset, end));
    const rdata = Buffer.concat(parts);
    if (type === RrType.SOA && end - offset !== 20) {
        throw new DnsFormatError('SOA RDATA must end with five 32-bit fields');
    }

    if (type !== RrType.SOA && offset !== end) {
        throw new DnsFormatError(`RDATA of type ${type} has octets after its name`);
    }

    return rdata;
}

function joinName(labels: readonly string[]): string {

    return asciiLowercase(labels.join('.'));
}

/** Decodes a whole DNS message; throws DnsFormatError for anything malformed. */
export function decodeMessage(message: Buffer): DecodedMessage {

    if (message.length < internals.headerLength) {
        throw new DnsFormatError('message is shorter than a DNS header');
    }

    const flags = message.readUInt16BE(2);
    const qdcount = message.readUInt16BE(4);
    const counts = [message.readUInt16BE(6), message.readUInt16BE(8), message.readUInt16BE(10)] as const;
    if (qdcount > 1) {
        throw new DnsFormatError(`a response carries at most one question, not ${qdcount}`);
    }

    // A header may announce 3 × 65535 records; refuse before reading what cannot be there.
    if ((counts[0] + counts[1] + counts[2]) * internals.minRecordLength > message.length - internals.headerLength) {
        throw new DnsFormatError('the header announces more records than the message can hold');
    }

    let offset = internals.headerLength;
    let question: DecodedQuestion | null = null;
    if (qdcount === 1) {
        const name = readName(message, offset);
        if (name.next + 4 > message.length) {
            throw new DnsFormatError('question runs past the end of the message');
        }

        question = { name: joinName(name.labels), type: message.readUInt16BE(name.next), class: message.readUInt16BE(name.next + 2) };
        offset = name.next + 4;
    }

    const sections: DecodedRecord[][] = [[], [], []];
    let edns: DecodedMessage['edns'] = null;
    let extendedRcode = 0;
    for (let section = 0; section < 3; ++section) {
        for (let i = 0; i < counts[section]!; ++i) {
            const owner = readName(message, offset);
            const fixed = owner.next;
            if (fixed + 10 > message.length) {
                throw new DnsFormatError('record header runs past the end of the message');
            }

            const type = message.readUInt16BE(fixed);
            const rrClass = message.readUInt16BE(fixed + 2);
            const ttl = message.readUInt32BE(fixed + 4);
            const start = fixed + 10;
            const end = start + message.readUInt16BE(fixed + 8);
            if (end > message.length) {
                throw new DnsFormatError('RDATA runs past the end of the message');
            }

            offset = end;
            if (type === RrType.OPT) {
                // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
                if (section !== 2 || edns || owner.labels.length !== 0) {
                    throw new DnsFormatError('misplaced or repeated OPT record');
                }

                extendedRcode = ttl >>> 24;
                edns = { payloadSize: rrClass, dnssecOk: (ttl & 0x8000) !== 0, version: (ttl >>> 16) & 0xff };
                continue;
            }

            sections[section]!.push({ name: joinName(owner.labels), type, class: rrClass, ttl, rdata: readRdata(message, type, start, end) });
        }
    }

    if (offset !== message.length) {
        throw new DnsFormatError('octets after the last record');
    }

    return {
        id: message.readUInt16BE(0),
        qr: (flags & 0x8000) !== 0,
        opcode: (flags >> 11) & 0xf,
        aa: (flags & 0x0400) !== 0,
        tc: (flags & 0x0200) !== 0,
        rd: (flags & 0x0100) !== 0,
        ra: (flags & 0x0080) !== 0,
        ad: (flags & 0x0020) !== 0,
        cd: (flags & 0x0010) !== 0,
        rcode: (extendedRcode << 4) | (flags & 0xf),
        question,
        answers: sections[0]!,
        authorities: sections[1]!,
        additionals: sections[2]!,
        edns
    };
}
