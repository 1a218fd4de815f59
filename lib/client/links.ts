/**
 * The links of the §5.1 verification chain as the client records them: every link that
 * held (for `iks lookup --json` and for audit), and the name of the one that failed.
 */
import { IksError } from '../errors';

/** One verified link. */
export interface VerifiedLink {
    /** `trust-anchor`, `discovery`, `address`, `commitment`, `ksk`, `signature`, `name`, `validity`, `key`… */
    readonly link: string;
    readonly detail: string;
}

/** Where the client records links as they are verified. */
export type LinkRecorder = (link: VerifiedLink) => void;

/** Marks a typed error with the link it broke, unless a more specific step already did. */
export function markLink(error: unknown, link: string): unknown {

    if (error instanceof IksError) {
        error.link ??= link;
    }

    return error;
}

/** Runs one step of the chain; a typed error it throws leaves marked with `link`. */
export async function atLink<T>(link: string, action: () => Promise<T>): Promise<T> {

    try {
        return await action();
    }
    catch (error) {
        throw markLink(error, link);
    }
}
