/**
 * Option values checked where commander reads them, so a bad value is refused with the
 * option's name before anything runs (never a NaN deep inside a library).
 */
import { TextDecoder } from 'node:util';

import { InvalidArgumentError } from 'commander';

import { InvalidInput } from '../errors';
import type { KeyAlgorithm } from '../keys';

// A Record, so that a new KeyAlgorithm does not compile until it is listed here.
const knownAlgorithms: Record<KeyAlgorithm, true> = { rsa: true, ec: true, ed25519: true, x25519: true, ed448: true, x448: true };

/** A parser for a whole number from 1 to `max` (commander's argParser). */
export function positiveInteger(max: number): (value: string) => number {

    return (value) => {

        const number = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
        if (!(number >= 1 && number <= max)) {
            throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
        }

        return number;
    };
}

/** A key algorithm as IKS names them (lowercase). */
export function keyAlgorithm(value: string): KeyAlgorithm {

    if (!Object.hasOwn(knownAlgorithms, value)) {
        throw new InvalidArgumentError(`expected one of ${Object.keys(knownAlgorithms).join(', ')}`);
    }

    return value as KeyAlgorithm;
}

/** Milliseconds for --timeout: at least 1, at most 10 minutes. */
export const timeoutMs = positiveInteger(600_000);


/**
 * A strict UTF-8 decoder: invalid bytes throw instead of becoming U+FFFD (so two different
 * byte strings never read as the same text); one leading byte order mark is dropped.
 */
export function strictUtf8Decoder(): TextDecoder {

    return new TextDecoder('utf-8', { fatal: true });
}

/** Whether `error` is a strict decoder's refusal of invalid UTF-8. */
export function isInvalidUtf8(error: unknown): boolean {

    return error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA';
}

/** `bytes` (read from `what`, e.g. "standard input") as text; refuses invalid UTF-8 (exit 2). */
export function decodeUtf8(bytes: Uint8Array | string, what: string): string {

    if (typeof bytes === 'string') {
        return bytes;
    }

    try {
        return strictUtf8Decoder().decode(bytes);
    }
    catch (error) {
        if (isInvalidUtf8(error)) {
            throw new InvalidInput('INVALID_ENCODING', `${what} is not valid UTF-8; IKS reads text as UTF-8 only (convert it, e.g. with iconv -t UTF-8)`);
        }

        throw error;
    }
}

/**
 * A name from the command line (commander's argParser). Node decodes process.argv with
 * U+FFFD in place of invalid UTF-8, so different byte strings would arrive as the same
 * name: a name holding U+FFFD is refused, as the gateway refuses a name that is not
 * valid UTF-8 (lib/names nameFromUrlForm).
 */
export function commandLineName(value: string): string {

    if (value.includes('\uFFFD')) {
        throw new InvalidArgumentError('the name holds U+FFFD (the replacement character): the command line was not valid UTF-8; give names in UTF-8');
    }

    return value;
}
