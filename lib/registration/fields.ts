/**
 * An unambiguous byte encoding of a list of text fields, for what IKS registration
 * digests and signs (request digests, request signatures, assertions). It is defined
 * over parsed values rather than XML text, so any client in any language can compute
 * it without an XML canonicaliser: each field is a 4-byte big-endian length and its
 * UTF-8 bytes; an absent optional field is the length 0xFFFFFFFF alone.
 */
export type Field = string | undefined;

const internals = {
    absent: 0xFFFFFFFF
};

/** `context` 0x00, then every field length-prefixed (see the module comment). */
export function encodeFields(context: string, fields: readonly Field[]): Buffer {

    const parts: Buffer[] = [Buffer.from(context, 'utf8'), Buffer.alloc(1)];
    for (const field of fields) {
        const length = Buffer.alloc(4);
        if (field === undefined) {
            length.writeUInt32BE(internals.absent);
            parts.push(length);
            continue;
        }

        const bytes = Buffer.from(field, 'utf8');
        length.writeUInt32BE(bytes.length);
        parts.push(length, bytes);
    }

    return Buffer.concat(parts);
}
