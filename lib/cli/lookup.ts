/**
 * `iks lookup NAME`: the whole paper §5.1 procedure from a DNS server address and a
 * trust-anchor file — both defaulting from the configuration, so it works with no flags
 * next to the quickstart. Exit 0: verified keys, at least one matching the filters; 1:
 * verified "no keys" (an RSK-signed negative answer, or DNSSEC proof that the domain
 * takes no part in IKS); 2: a link failed, and the output names it; 3: the name's keys
 * verified, but none matches --algorithm/--usage/--min-size.
 */
import * as Fs from 'node:fs';

import type { IksConfig } from '../../config';
import { zonePaths } from '../../workers/updater/zone';
import { DnsDiscovery, IksClient, type KeyCriteria, type LookupResult, type VerifiedLink } from '../client';
import { markLink } from '../client/links';
import { parseDnsServer, type DnsServer } from '../dns/stub';
import { InvalidTrustAnchor, parseTrustAnchors, type TrustAnchor } from '../dnssec/trust-anchor';
import { IksError, NotParticipating } from '../errors';
import type { KeyAlgorithm } from '../keys';
import { parseName } from '../names';
import { describeError, type Output } from './output';

export interface LookupOptions {
    readonly url?: string;
    readonly dnsServer?: string;
    readonly trustAnchor?: string;
    readonly algorithm?: KeyAlgorithm;
    readonly usage?: string;
    readonly minSize?: number;
    readonly json?: boolean;
    /** Milliseconds per DNS exchange and per HTTP request. */
    readonly timeout?: number;
}

export const lookupExit = { ok: 0, noKeys: 1, failed: 2, noneSelected: 3 } as const;

/** The configured DNS listener as an address to ask (a wildcard listen address means this host). */
export function defaultDnsServer(config: IksConfig): DnsServer {

    const host = config.dns.host === '0.0.0.0' ? '127.0.0.1' : config.dns.host === '::' ? '::1' : config.dns.host;
    return { host, port: config.dns.port };
}

/** The trust anchors in `file` (delv format), with a message naming the option when unreadable. */
export function readAnchors(file: string): TrustAnchor[] {

    let text: string;
    try {
        text = Fs.readFileSync(file, 'utf8');
    }
    catch (err) {
        throw new InvalidTrustAnchor(`cannot read the trust-anchor file ${file}: ${(err as Error).message} (use --trust-anchor FILE)`, { cause: err });
    }

    return parseTrustAnchors(text);
}

/** The filters as the command line gave them, for messages. */
function describeCriteria(options: LookupOptions): string {

    return [
        options.algorithm !== undefined ? `--algorithm ${options.algorithm}` : null,
        options.usage !== undefined ? `--usage ${options.usage}` : null,
        options.minSize !== undefined ? `--min-size ${options.minSize}` : null
    ].filter(Boolean).join(' ');
}

function printResult(io: Output, outcome: LookupResult, options: LookupOptions): void {

    if (outcome.found && outcome.selected.length === 0) {
        io.out(`${outcome.name}: ${outcome.keys.length} verified key(s), none matching ${describeCriteria(options)}`);
        return;
    }

    io.out(outcome.found ? `${outcome.name}: ${outcome.selected.length} verified key(s)` : `${outcome.name}: no keys (verified negative answer)`);
    for (const key of outcome.selected) {
        io.out(`  ${key.id}  ${key.algorithm}/${key.size}  ${key.format}  usage=${key.usage.join(',')}  sha256:${key.fingerprint}`);
    }
}

/** Runs one lookup and reports it on `io`; resolves with the exit code. */
export async function runLookup(input: string, options: LookupOptions, config: IksConfig, io: Output): Promise<number> {

    const links: VerifiedLink[] = [];
    const onLink = (link: VerifiedLink) => {

        links.push(link);
        if (!options.json) {
            io.out(`✓ ${link.link}: ${link.detail}`);
        }
    };

    const criteria: KeyCriteria = {
        ...(options.algorithm !== undefined ? { algorithm: options.algorithm } : {}),
        ...(options.usage !== undefined ? { usage: options.usage } : {}),
        ...(options.minSize !== undefined ? { minSize: options.minSize } : {})
    };

    let name = input;
    try {
        const { name: canonical, domain } = parseName(input);
        name = canonical;
        const server = options.dnsServer !== undefined ? parseDnsServer(options.dnsServer) : defaultDnsServer(config);
        const anchorFile = options.trustAnchor ?? zonePaths({ dataDir: config.dataDir, domain }).trustAnchor;
        let anchors: TrustAnchor[];
        try {
            anchors = readAnchors(anchorFile);
        }
        catch (err) {
            throw markLink(err, 'trust-anchor');
        }

        const timeout = options.timeout ?? 5000;
        const discovery = new DnsDiscovery({ server, anchors, timeoutMs: Math.min(timeout, 2000) });
        const client = new IksClient({ discovery, onLink, timeout, ...(options.url !== undefined ? { baseUrl: options.url } : {}) });
        const outcome = await client.lookup(input, criteria);
        // Keys that verified but that the filters all leave out are not keys to use: not exit 0.
        const noneSelected = outcome.found && outcome.selected.length === 0;
        if (options.json) {
            io.out(JSON.stringify({ verified: true, ...outcome, matched: outcome.selected.length > 0, selected: outcome.selected.map(({ container: _container, spki: _spki, ...rest }) => rest) }, null, 2));
        }
        else {
            printResult(io, outcome, options);
        }

        return noneSelected ? lookupExit.noneSelected : outcome.found ? lookupExit.ok : lookupExit.noKeys;
    }
    catch (error) {
        if (error instanceof NotParticipating) {
            // DNSSEC proved it: there are verifiably no keys for any name of the domain.
            if (options.json) {
                io.out(JSON.stringify({ verified: true, name, found: false, participating: false, reason: error.message, keys: [], selected: [], links }, null, 2));
            }
            else {
                io.out(`${name}: no keys (${error.message})`);
            }

            return lookupExit.noKeys;
        }

        const link = error instanceof IksError ? error.link : undefined;
        if (options.json) {
            io.out(JSON.stringify({ verified: false, failedLink: link ?? null, code: error instanceof IksError ? error.code : null, error: describeError(error), links }, null, 2));
        }

        io.err(`lookup failed${link ? ` at ${link}` : ''}: ${describeError(error)}`);
        return lookupExit.failed;
    }
}
