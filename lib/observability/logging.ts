/**
 * Structured logs for a gateway (hapi-pino). What may appear in a log line is decided
 * here, once: a request's id, method, path, client address, status and timing — never
 * headers (Authorization, cookies), never a body (SOAP requests carry passwords and
 * signatures), and never a looked-up name in the clear: who looks up whom is itself
 * sensitive, so names appear as `nameHash` (the same hash in access and audit lines,
 * which lets an operator follow one name without learning it).
 */
import { createHash } from 'node:crypto';

import type { Plugin, Request } from '@hapi/hapi';
import HapiPino from 'hapi-pino';
import Pino from 'pino';

const internals = {
    // The URL form of a name sits right after /ikqs/v1/n/ (ARCHITECTURE.md §3), whatever the prefix.
    // Any case and repeated slashes too: a near miss is a 404, but its line must not hold the name.
    namePath: /(\/+ikqs\/+v1\/+n\/+)([^/?#]+)/i,
    hashLength: 16
};

/**
 * A stable, non-reversible stand-in for a name in logs: the first 64 bits of SHA-256 of
 * its UTF-8 form, as hex. Enough to correlate lines; too short to be a useful dictionary key.
 */
export function nameHash(name: string): string {

    return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, internals.hashLength);
}

/** `path` with the URL form of a name replaced by `#<nameHash>` of the decoded name. */
export function redactPath(path: string): string {

    return path.replace(internals.namePath, (_match, head: string, encoded: string) => `${head}#${nameHash(Buffer.from(encoded, 'base64url').toString('utf8'))}`);
}

interface SerializedRequest {
    readonly id?: string;
    readonly method?: string;
    readonly url?: string;
    readonly remoteAddress?: string;
}

/** A pino logger for a gateway; `destination` defaults to stderr (stdout carries CLI results). */
export function createLogger(options: { level: string; destination?: Pino.DestinationStream }): Pino.Logger {

    return Pino({ level: options.level, base: { service: 'iks' } }, options.destination ?? Pino.destination(2));
}

/**
 * hapi-pino registration for a host that has no request logging yet (`iks serve`,
 * the quickstart). A host with its own hapi-pino keeps it; `nameHash` and
 * `redactPath` are exported so it can apply the same rules.
 */
export function requestLogging(logger: Pino.Logger): { plugin: Plugin<HapiPino.Options>; options: HapiPino.Options } {

    return {
        plugin: HapiPino,
        options: {
            instance: logger,
            logPayload: false,
            logQueryParams: false,
            logPathParams: false,
            serializers: {
                req: (req: SerializedRequest) => ({ id: req.id, method: req.method, url: redactPath(req.url ?? ''), remoteAddress: req.remoteAddress }),
                res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
                // ioredis errors carry the failed command, whose arguments hold names.
                err: (error: Error) => {

                    const { command: _command, ...serialized } = Pino.stdSerializers.err(error) as ReturnType<typeof Pino.stdSerializers.err> & { command?: unknown };
                    return serialized;
                }
            },
            customRequestCompleteMessage: (request: Request, responseTime: number) => `${request.method.toUpperCase()} ${redactPath(request.path)} ${request.raw.res.headersSent ? request.raw.res.statusCode : '-'} (${responseTime}ms)`,
            customRequestErrorMessage: (request: Request) => `${request.method.toUpperCase()} ${redactPath(request.path)} failed`
        }
    };
}
