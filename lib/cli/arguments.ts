/**
 * Option values checked where commander reads them, so a bad value is refused with the
 * option's name before anything runs (never a NaN deep inside a library).
 */
import { InvalidArgumentError } from 'commander';

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
