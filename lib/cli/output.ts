/** How the CLI talks to people: results on stdout, diagnostics on stderr. */
import { IksError } from '../errors';

export interface Output {
    out(line: string): void;
    err(line: string): void;
}

export const consoleOutput: Output = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`)
};

/** A one-line explanation of an error: typed errors name their code, others only their message. */
export function describeError(error: unknown): string {

    if (error instanceof IksError) {
        return `${error.code}: ${error.message}`;
    }

    return error instanceof Error ? error.message : String(error);
}
