/**
 * RDATA encoders (canonical wire form, names uncompressed) and their presentation
 * format for master files. dns2 cannot encode DNSKEY, RRSIG, NSEC or DS, corrupts TXT
 * strings over 255 octets and compresses SRV targets (RFC 2782 forbids it), so every
 * record this project serves is encoded here and handed over as bytes.
 */
import { isIP } from 'node:net';

import { asciiLowercase, canonicalName, nameToWire } from './name';
import { DnsFormatError, RrType, typeName } from './types';

const internals = {
    maxCharacterString: 255
};

export function encodeA(address: string): Buffer {

    if (isIP(address) !== 4) {
        throw new DnsFormatError(`"${address}" is not an IPv4 address`);
    }

    return Buffer.from(address.split('.').map(Number));
}

export function encodeAaaa(address: string): Buffer {

    if (isIP(address) !== 6) {
        throw new DnsFormatError(`"${address}" is not an IPv6 address`);
    }

    // Expand "::" and an embedded IPv4 tail into eight 16-bit groups.
    let text = address;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4) {
        const octets = encodeA(v4[1]!);
        text = `${text.slice(0, v4.index)}${octets.readUInt16BE(0).toString(16)}:${octets.readUInt16BE(2).toString(16)}`;
    }

    const [head = '', tail] = text.split('::');
    const headGroups = head === '' ? [] : head.split(':');
    const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
    const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
    const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
    const wire = Buffer.alloc(16);
    groups.forEach((group, index) => wire.writeUInt16BE(parseInt(group, 16), index * 2));
    return wire;
}

export function encodeNs(target: string): Buffer {

    return nameToWire(canonicalName(target));
}

export interface SoaData {
    readonly mname: string;
    readonly rname: string;
    readonly serial: number;
    readonly refresh: number;
    readonly retry: number;
    readonly expire: number;
    readonly minimum: number;
}

export function encodeSoa(soa: SoaData): Buffer {

    const counters = Buffer.alloc(20);
    [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum].forEach((value, index) => counters.writeUInt32BE(value >>> 0, index * 4));
    return Buffer.concat([nameToWire(canonicalName(soa.mname)), nameToWire(canonicalName(soa.rname)), counters]);
}

export interface SrvData {
    readonly priority: number;
    readonly weight: number;
    readonly port: number;
    readonly target: string;
}

/** SRV RDATA with the target uncompressed (RFC 2782: "name compression is not to be used"). */
export function encodeSrv(srv: SrvData): Buffer {

    const head = Buffer.alloc(6);
    head.writeUInt16BE(srv.priority, 0);
    head.writeUInt16BE(srv.weight, 2);
    head.writeUInt16BE(srv.port, 4);
    return Buffer.concat([head, nameToWire(canonicalName(srv.target))]);
}

/** Reads SRV RDATA (uncompressed); the target comes lowercase without the trailing dot ('' for "."). */
export function decodeSrv(rdata: Buffer): SrvData {

    if (rdata.length < 7) {
        throw new DnsFormatError('SRV RDATA is too short');
    }

    const target = readWireName(rdata, 6);
    if (target.next !== rdata.length) {
        throw new DnsFormatError('SRV RDATA has octets after its target');
    }

    return { priority: rdata.readUInt16BE(0), weight: rdata.readUInt16BE(2), port: rdata.readUInt16BE(4), target: asciiLowercase(target.name.slice(0, -1)) };
}

/**
 * TXT RDATA: a long value is split into consecutive ≤ 255-octet character-strings
 * (RFC 1035 §3.3.14); readers concatenate them.
 */
export function encodeTxt(value: string | readonly string[]): Buffer {

    const parts: Buffer[] = [];
    for (const text of typeof value === 'string' ? [value] : value) {
        const bytes = Buffer.from(text, 'utf8');
        let offset = 0;
        do {
            const chunk = bytes.subarray(offset, offset + internals.maxCharacterString);
            parts.push(Buffer.from([chunk.length]), chunk);
            offset += internals.maxCharacterString;
        }
        while (offset < bytes.length);
    }

    return Buffer.concat(parts);
}

/** The character-strings of a TXT RDATA. */
export function decodeTxt(rdata: Buffer): Buffer[] {

    const strings: Buffer[] = [];
    let offset = 0;
    while (offset < rdata.length) {
        const length = rdata[offset]!;
        if (offset + 1 + length > rdata.length) {
            throw new DnsFormatError('TXT character-string runs past the RDATA');
        }

        strings.push(rdata.subarray(offset + 1, offset + 1 + length));
        offset += 1 + length;
    }

    return strings;
}

export interface DnskeyData {
    readonly flags: number;
    readonly algorithm: number;
    readonly publicKey: Buffer;
}

/** DNSKEY RDATA (RFC 4034 §2.1): flags, protocol 3, algorithm, public key. */
export function encodeDnskey(key: DnskeyData): Buffer {

    const head = Buffer.from([key.flags >> 8, key.flags & 0xff, 3, key.algorithm]);
    return Buffer.concat([head, key.publicKey]);
}

export interface DsData {
    readonly keyTag: number;
    readonly algorithm: number;
    readonly digestType: number;
    readonly digest: Buffer;
}

/** DS RDATA (RFC 4034 §5.1). */
export function encodeDs(ds: DsData): Buffer {

    const head = Buffer.alloc(4);
    head.writeUInt16BE(ds.keyTag, 0);
    head[2] = ds.algorithm;
    head[3] = ds.digestType;
    return Buffer.concat([head, ds.digest]);
}

export interface RrsigFields {
    readonly typeCovered: number;
    readonly algorithm: number;
    readonly labels: number;
    readonly originalTtl: number;
    /** Seconds since the epoch (serial number arithmetic on the wire, RFC 4034 §3.1.5). */
    readonly expiration: number;
    readonly inception: number;
    readonly keyTag: number;
    readonly signerName: string;
}

/** RRSIG RDATA without the signature: the prefix that is itself signed (RFC 4034 §3.1.8.1). */
export function encodeRrsigPrefix(fields: RrsigFields): Buffer {

    const head = Buffer.alloc(18);
    head.writeUInt16BE(fields.typeCovered, 0);
    head[2] = fields.algorithm;
    head[3] = fields.labels;
    head.writeUInt32BE(fields.originalTtl >>> 0, 4);
    head.writeUInt32BE(fields.expiration >>> 0, 8);
    head.writeUInt32BE(fields.inception >>> 0, 12);
    head.writeUInt16BE(fields.keyTag, 16);
    return Buffer.concat([head, nameToWire(canonicalName(fields.signerName))]);
}

export function encodeRrsig(fields: RrsigFields, signature: Buffer): Buffer {

    return Buffer.concat([encodeRrsigPrefix(fields), signature]);
}

/** Type bit maps (RFC 4034 §4.1.2): one window per used high octet, trailing zero octets dropped. */
export function encodeTypeBitmap(types: Iterable<number>): Buffer {

    const windows = new Map<number, Buffer>();
    for (const type of types) {
        const window = type >> 8;
        const bits = windows.get(window) ?? Buffer.alloc(32);
        bits[(type & 0xff) >> 3]! |= 0x80 >> (type & 7);
        windows.set(window, bits);
    }

    const parts: Buffer[] = [];
    for (const window of [...windows.keys()].sort((a, b) => a - b)) {
        const bits = windows.get(window)!;
        let length = 32;
        while (length > 0 && bits[length - 1] === 0) {
            --length;
        }

        parts.push(Buffer.from([window, length]), bits.subarray(0, length));
    }

    return Buffer.concat(parts);
}

/**
 * The types of a type bit map; DnsFormatError for windows that are empty, longer than 32
 * octets, truncated, out of order or repeated (RFC 4034 §4.1.2: such maps must not be
 * interpreted, and reading one leniently lets a signed NSEC list other types than meant).
 */
export function decodeTypeBitmap(bitmap: Buffer): number[] {

    const types: number[] = [];
    let offset = 0;
    let previous = -1;
    while (offset < bitmap.length) {
        const window = bitmap[offset]!;
        const length = bitmap[offset + 1];
        if (length === undefined || length < 1 || length > 32 || offset + 2 + length > bitmap.length) {
            throw new DnsFormatError(`type bit map window ${window} is empty, longer than 32 octets or truncated`);
        }

        if (window <= previous) {
            throw new DnsFormatError(`type bit map window ${window} is out of order or repeated`);
        }

        previous = window;
        for (let i = 0; i < length; ++i) {
            const octet = bitmap[offset + 2 + i]!;
            for (let bit = 0; bit < 8; ++bit) {
                if (octet & (0x80 >> bit)) {
                    types.push(window * 256 + i * 8 + bit);
                }
            }
        }

        offset += 2 + length;
    }

    return types;
}

/** NSEC RDATA (RFC 4034 §4.1): next owner name uncompressed, then the type bit maps. */
export function encodeNsec(nextName: string, types: Iterable<number>): Buffer {

    return Buffer.concat([nameToWire(canonicalName(nextName)), encodeTypeBitmap(types)]);
}

// ---- presentation format (RFC 1035 §5.1, RFC 4034 §§2.2, 3.2, 4.2, 5.3) ----

/** Reads an uncompressed wire name at `offset`; returns it with a trailing dot and the next offset. */
export function readWireName(rdata: Buffer, offset: number): { name: string; next: number } {

    const labels: string[] = [];
    let position = offset;
    for (;;) {
        const length = rdata[position];
        if (length === undefined || length > 63 || position + 1 + length > rdata.length) {
            throw new DnsFormatError('malformed name in RDATA');
        }

        if (length === 0) {
            return { name: `${labels.join('.')}.`, next: position + 1 };
        }

        // Names are handled as dot-joined labels: a "." octet inside a label would split it
        // (an NSEC next name `a\.b.D` read as `a.b.D` covers b.D), so refuse it as decode.ts does.
        const label = rdata.toString('latin1', position + 1, position + 1 + length);
        if (label.includes('.')) {
            throw new DnsFormatError('label in RDATA contains a "." octet');
        }

        labels.push(label);
        position += 1 + length;
    }
}

function quoteCharacterString(bytes: Buffer): string {

    let text = '"';
    for (const octet of bytes) {
        if (octet === 0x22 || octet === 0x5c) {
            text += `\\${String.fromCharCode(octet)}`;
        }
        else if (octet < 0x20 || octet > 0x7e) {
            text += `\\${octet.toString().padStart(3, '0')}`;
        }
        else {
            text += String.fromCharCode(octet);
        }
    }

    return `${text}"`;
}

/** YYYYMMDDHHmmSS (RFC 4034 §3.2). */
export function formatSignatureTime(seconds: number): string {

    return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The master-file text of one RDATA. */
export function rdataToText(type: number, rdata: Buffer): string {

    switch (type) {
        case RrType.A:
            return [...rdata].join('.');
        case RrType.AAAA: {
            const groups: string[] = [];
            for (let i = 0; i < 16; i += 2) {
                groups.push(rdata.readUInt16BE(i).toString(16));
            }

            return groups.join(':');
        }

        case RrType.NS:
            return readWireName(rdata, 0).name;
        case RrType.SOA: {
            const mname = readWireName(rdata, 0);
            const rname = readWireName(rdata, mname.next);
            const counters = [0, 4, 8, 12, 16].map((delta) => rdata.readUInt32BE(rname.next + delta));
            return [mname.name, rname.name, ...counters].join(' ');
        }

        case RrType.TXT:
            return decodeTxt(rdata).map(quoteCharacterString).join(' ');
        case RrType.SRV:
            return [rdata.readUInt16BE(0), rdata.readUInt16BE(2), rdata.readUInt16BE(4), readWireName(rdata, 6).name].join(' ');
        case RrType.DNSKEY:
            return [rdata.readUInt16BE(0), rdata[2], rdata[3], rdata.subarray(4).toString('base64')].join(' ');
        case RrType.DS:
            return [rdata.readUInt16BE(0), rdata[2], rdata[3], rdata.subarray(4).toString('hex').toUpperCase()].join(' ');
        case RrType.RRSIG: {
            const signer = readWireName(rdata, 18);
            return [
                typeName(rdata.readUInt16BE(0)), rdata[2], rdata[3], rdata.readUInt32BE(4),
                formatSignatureTime(rdata.readUInt32BE(8)), formatSignatureTime(rdata.readUInt32BE(12)),
                rdata.readUInt16BE(16), signer.name, rdata.subarray(signer.next).toString('base64')
            ].join(' ');
        }

        case RrType.NSEC: {
            const next = readWireName(rdata, 0);
            return [next.name, ...decodeTypeBitmap(rdata.subarray(next.next)).map(typeName)].join(' ');
        }

        default:
            // RFC 3597 §5 generic form for anything else.
            return `\\# ${rdata.length} ${rdata.toString('hex')}`.trimEnd();
    }
}
