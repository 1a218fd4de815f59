/** How the CLI talks to people: results on stdout, diagnostics on stderr. */
import { IksError } from '../errors';

export interface Output {
    out(line: string): void;
    err(line: string): void;
}

const internals = {
    watching: false,
    stdoutClosed: false
};

/**
 * Standard output closed by its reader (`iks init | head -2`): further results are
 * dropped and the command finishes its work and exits as usual, as with SIGPIPE
 * ignored; any other write error stays an error.
 */
function onStdoutError(error: NodeJS.ErrnoException): void {

    if (error.code !== 'EPIPE') {
        throw error;
    }

    internals.stdoutClosed = true;
}

export const consoleOutput: Output = {
    out: (line) => {

        if (!internals.watching) {
            internals.watching = true;
            process.stdout.on('error', onStdoutError);
        }

        if (!internals.stdoutClosed) {
            process.stdout.write(`${line}\n`);
        }
    },
    err: (line) => process.stderr.write(`${line}\n`)
};

/** A one-line explanation of an error: typed errors name their code, others only their message. */
export function describeError(error: unknown): string {

    if (error instanceof IksError) {
        return `${error.code}: ${error.message}`;
    }

    return error instanceof Error ? error.message : String(error);
}
