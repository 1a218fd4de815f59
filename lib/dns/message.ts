/**
 * Encodes whole response messages (RFC 1035 §4.1) from records whose RDATA is already
 * wire form. Owner names are compressed (§4.1.4); RDATA never is, which keeps RRSIG,
 * NSEC and SRV as their RFCs require.
 */
import { asciiLowercase, nameToWire } from './name';
import { RrClass, RrType } from './types';

export interface WireRecord {
    /** Lowercase, no trailing dot. */
    readonly name: string;
    readonly type: number;
    readonly ttl: number;
    readonly rdata: Buffer;
}

export interface ResponseFields {
    readonly id: number;
    readonly opcode?: number;
    readonly aa: boolean;
    readonly tc?: boolean;
    readonly rd: boolean;
    readonly cd?: boolean;
    /** Up to 12 bits; the upper 8 travel in the OPT record (RFC 6891 §6.1.3). */
    readonly rcode: number;
    /** The question section exactly as received, or null for none. */
    readonly question: Buffer | null;
    readonly answers?: readonly WireRecord[];
    readonly authorities?: readonly WireRecord[];
    /** Include an OPT record: our payload size and the DO bit echoed (RFC 3225 §3). */
    readonly edns?: { readonly payloadSize: number; readonly dnssecOk: boolean } | null;
}

const internals = {
    headerLength: 12,
    maxPointer: 0x3fff
};

export function encodeResponse(fields: ResponseFields): Buffer {

    const answers = fields.answers ?? [];
    const authorities = fields.authorities ?? [];
    const chunks: Buffer[] = [];
    let length = internals.headerLength;

    // ---- header ----

    const header = Buffer.alloc(internals.headerLength);
    header.writeUInt16BE(fields.id, 0);
    header[2] = 0x80 | ((fields.opcode ?? 0) << 3) | (fields.aa ? 0x04 : 0) | (fields.tc ? 0x02 : 0) | (fields.rd ? 0x01 : 0);
    header[3] = (fields.cd ? 0x10 : 0) | (fields.rcode & 0xf);
    header.writeUInt16BE(fields.question ? 1 : 0, 4);
    header.writeUInt16BE(answers.length, 6);
    header.writeUInt16BE(authorities.length, 8);
    header.writeUInt16BE(fields.edns ? 1 : 0, 10);
    chunks.push(header);

    // ---- question, and its name as a compression target ----

    const offsets = new Map<string, number>();
    if (fields.question) {
        chunks.push(fields.question);
        rememberSuffixes(offsets, fields.question, internals.headerLength);
        length += fields.question.length;
    }

    // ---- records ----

    for (const record of [...answers, ...authorities]) {
        const owner = encodeOwner(record.name, offsets, length);
        const fixed = Buffer.alloc(10);
        fixed.writeUInt16BE(record.type, 0);
        fixed.writeUInt16BE(RrClass.IN, 2);
        fixed.writeUInt32BE(record.ttl >>> 0, 4);
        fixed.writeUInt16BE(record.rdata.length, 8);
        chunks.push(owner, fixed, record.rdata);
        length += owner.length + 10 + record.rdata.length;
    }

    if (fields.edns) {
        const opt = Buffer.alloc(11);
        opt.writeUInt16BE(RrType.OPT, 1);
        opt.writeUInt16BE(fields.edns.payloadSize, 3);
        opt[5] = (fields.rcode >> 4) & 0xff;
        opt.writeUInt16BE(fields.edns.dnssecOk ? 0x8000 : 0, 7);
        chunks.push(opt);
    }

    return Buffer.concat(chunks);
}

/**
 * The full 12-bit RCODE of a message encodeResponse wrote: the header's 4 bits and, when
 * the message ends with the OPT record encodeResponse puts last, its 8 upper bits
 * (RFC 6891 §6.1.3), so BADVERS (16) is not read as NOERROR.
 */
export function responseRcode(message: Buffer): number {

    const low = message[3]! & 0x0f;
    const opt = message.length - 11;
    const endsWithOpt = message.readUInt16BE(10) > 0 && opt >= internals.headerLength &&
        message[opt] === 0 && message.readUInt16BE(opt + 1) === RrType.OPT && message.readUInt16BE(opt + 9) === 0;
    return endsWithOpt ? (message[opt + 5]! << 4) | low : low;
}

/** Records the offset of every suffix of the question name (message offset 12). */
function rememberSuffixes(offsets: Map<string, number>, question: Buffer, at: number): void {

    let nameEnd = 0;
    while (nameEnd < question.length && question[nameEnd] !== 0) {
        nameEnd += 1 + question[nameEnd]!;
    }

    let offset = 0;
    while (offset < nameEnd) {
        offsets.set(asciiLowercase(question.toString('latin1', offset, nameEnd + 1)), at + offset);
        offset += 1 + question[offset]!;
    }
}

/** An owner name, replacing its longest already-written suffix by a pointer. */
function encodeOwner(name: string, offsets: Map<string, number>, at: number): Buffer {

    const wire = nameToWire(name);
    let offset = 0;
    while (wire[offset] !== 0) {
        const pointer = offsets.get(wire.toString('latin1', offset));
        if (pointer !== undefined) {
            const head = wire.subarray(0, offset);
            rememberOwnerSuffixes(offsets, wire, offset, at);
            return Buffer.concat([head, Buffer.from([0xc0 | (pointer >> 8), pointer & 0xff])]);
        }

        offset += 1 + wire[offset]!;
    }

    rememberOwnerSuffixes(offsets, wire, wire.length - 1, at);
    return wire;
}

function rememberOwnerSuffixes(offsets: Map<string, number>, wire: Buffer, end: number, at: number): void {

    let offset = 0;
    while (offset < end && at + offset <= internals.maxPointer) {
        offsets.set(wire.toString('latin1', offset), at + offset);
        offset += 1 + wire[offset]!;
    }
}
