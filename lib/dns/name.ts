/**
 * Domain names as this project handles them: lowercase, absolute, no trailing dot,
 * labels of printable ASCII. Wire and canonical-order helpers follow RFC 1035 §3.1
 * and RFC 4034 §6.1.
 */
import { DnsFormatError } from './types';

const internals = {
    maxLabel: 63,
    maxWire: 255,
    // Presentation characters that would need escaping in a master file are refused.
    label: /^[\x21-\x7e]+$/,
    special: /[.\\"();@$\s]/,
    upper: /[A-Z]/,
    upperGlobal: /[A-Z]/g
};

/** DNS case folding is ASCII only (RFC 4343 §3); other octets stay as they are. */
export function asciiLowercase(text: string): string {

    return internals.upper.test(text) ? text.replace(internals.upperGlobal, (letter) => String.fromCharCode(letter.charCodeAt(0) | 0x20)) : text;
}

/** Lowercases, drops a trailing dot and checks label and name lengths. */
export function canonicalName(name: string): string {

    // ASCII folding only: toLowerCase() turns U+212A KELVIN SIGN into 'k', a different, valid ASCII name.
    const trimmed = asciiLowercase(name.endsWith('.') ? name.slice(0, -1) : name);
    if (trimmed.length === 0) {
        throw new DnsFormatError('the root name is not a valid zone name here');
    }

    const labels = trimmed.split('.');
    let wire = 1;
    for (const label of labels) {
        if (label.length === 0 || label.length > internals.maxLabel) {
            throw new DnsFormatError(`name "${name}" has a label of ${label.length} characters (1 to 63 allowed)`);
        }

        if (!internals.label.test(label) || internals.special.test(label)) {
            throw new DnsFormatError(`name "${name}" has a label with characters that need escaping`);
        }

        wire += label.length + 1;
    }

    if (wire > internals.maxWire) {
        throw new DnsFormatError(`name "${name}" is longer than ${internals.maxWire} octets on the wire`);
    }

    return trimmed;
}

/** Uncompressed wire form of a canonical name (labels as latin1 octets). */
export function nameToWire(name: string): Buffer {

    const labels = name.split('.');
    const wire = Buffer.allocUnsafe(name.length + 2);
    let offset = 0;
    for (const label of labels) {
        wire[offset++] = label.length;
        offset += wire.write(label, offset, 'latin1');
    }

    wire[offset] = 0;
    return wire;
}

/** Number of labels, not counting a leading `*` (the RRSIG Labels field, RFC 4034 §3.1.3). */
export function labelCount(name: string): number {

    const labels = name.split('.');
    return labels[0] === '*' ? labels.length - 1 : labels.length;
}

/** True when `name` is `origin` or below it. */
export function isInZone(name: string, origin: string): boolean {

    return name === origin || name.endsWith(`.${origin}`);
}

/**
 * Canonical DNS name order (RFC 4034 §6.1): compare label by label from the right,
 * each label as lowercase octets. Inputs must already be lowercase.
 */
export function compareCanonical(a: string, b: string): number {

    return compareLabels(a.split('.'), b.split('.'));
}

/** compareCanonical on names split into labels (lowercase octet strings). */
export function compareLabels(a: readonly string[], b: readonly string[]): number {

    let i = a.length - 1;
    let j = b.length - 1;
    while (i >= 0 && j >= 0) {
        const left = a[i]!;
        const right = b[j]!;
        if (left !== right) {
            return left < right ? -1 : 1;          // latin1 strings: code units are octets
        }

        --i;
        --j;
    }

    return i === j ? 0 : (i < j ? -1 : 1);
}
