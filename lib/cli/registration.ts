/**
 * `iks register`, `iks revoke`, `iks keys` (paper §5.2, §5.3) and `iks user` (the
 * password users of the registration service). Registration commands find the
 * registration service through DNSSEC-validated `_ikrs._tcp` SRV records (or --url),
 * like `iks lookup`, and report success only after the RSK-signed answer verified up
 * to the KSK, itself checked against its DNSSEC-validated commitment; `iks user` writes
 * the store directly, which works while the server runs (the embedded store is shared
 * safely, Redis anyway).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import * as Fs from 'node:fs';

import type { Command } from 'commander';
import Sshpk from 'sshpk';

import type { IksConfig } from '../../config';
import { zonePaths } from '../../workers/updater/zone';
import { DnsDiscovery } from '../client/discovery';
import { RegistrationClient, type Credentials, type RegistrationReceipt } from '../client/registration';
import { markLink } from '../client/links';
import { parseDnsServer } from '../dns/stub';
import type { TrustAnchor } from '../dnssec/trust-anchor';
import { IksError, InvalidInput, InvalidKey, RegistrationRefused } from '../errors';
import { parsePublicKey } from '../keys';
import { canonicalName, parseName } from '../names';
import { checkPassword, hashPassword } from '../registration/password';
import { PASSWORD_FAILURE_KINDS } from '../registration/authority';
import { commandLineName, decodeUtf8, timeoutMs } from './arguments';
import { withStore } from './store';
import { defaultDnsServer, readAnchors } from './lookup';
import { describeError, type Output } from './output';

interface AuthOptions {
    passwordStdin?: boolean;
    authKey?: string;
    assertion?: string;
    user?: string;
    url?: string;
    dnsServer?: string;
    trustAnchor?: string;
    timeout?: number;
    json?: boolean;
}

export interface RegistrationCommandContext {
    readonly io: Output;
    readonly result: { code: number };
    readonly config: () => IksConfig;
    /** Reads all of standard input (tests substitute it). */
    /** Standard input, as bytes (decoded as strict UTF-8) or already text. */
    readonly readStdin?: () => Uint8Array | string;
}

const internals = {
    exit: { ok: 0, failed: 2 },
    // RegistrationRefused's code → the signed answer's outcome (lib/client/registration.ts maps the other way).
    refusals: { AUTHENTICATION_FAILED: 'authentication-failed', NOT_AUTHORIZED: 'not-authorized', LOCKED_OUT: 'locked', REQUEST_REFUSED: 'refused' } as const,
    usage: /^[a-z0-9][a-z0-9-]{0,31}$/,
    minPasswordLength: 12
};

/** `input` as a canonical name of `domain`, the only domain whose users this service authenticates. */
function userOfDomain(input: string, domain: string): string {

    const parsed = parseName(input);
    if (parsed.domain !== domain) {
        throw new InvalidInput('INVALID_NAME', `"${parsed.name}" is not in the domain ${domain} (the configured domain; --domain or IKS_DOMAIN to manage another)`);
    }

    return parsed.name;
}

/** The password on standard input, without the line end a shell or `echo` adds. */
function passwordFrom(text: string): string {

    const password = text.replace(/\r?\n$/, '');
    checkPassword(password);
    return password;
}

/** A private key file: PEM (PKCS#8, SEC1, PKCS#1) or an OpenSSH private key (ssh-keygen's format). */
export function readPrivateKey(file: string): KeyObject {

    const text = Fs.readFileSync(file, 'utf8');
    try {
        return createPrivateKey(text);
    }
    catch {
        try {
            return createPrivateKey(Sshpk.parsePrivateKey(text, 'auto').toString('pkcs8'));
        }
        catch {
            throw new InvalidInput('INVALID_KEY', `${file} is not an unencrypted private key (PEM or OpenSSH)`);
        }
    }
}

/**
 * `--json` after a failure. `ok` and `verified` are false whatever happened; a refusal
 * the service signed says so in `answerVerified` and names its `outcome`, so that no
 * script mistakes a verified "no" for a yes.
 */
function failureJson(error: unknown): Record<string, unknown> {

    const common = { ok: false, verified: false, code: error instanceof IksError ? error.code : null, error: describeError(error) };
    if (error instanceof RegistrationRefused) {
        return {
            ...common,
            outcome: internals.refusals[error.code as keyof typeof internals.refusals] ?? 'refused',
            answerVerified: true,
            acceptedMethods: error.acceptedMethods,
            ...(error.retryAt !== undefined ? { retryAt: error.retryAt } : {})
        };
    }

    return {
        ...common,
        // Refused here, before anything was sent; or a link, the transport or the service failed.
        outcome: error instanceof InvalidInput ? 'invalid-input' : 'failed',
        answerVerified: false,
        ...(error instanceof IksError && error.link !== undefined ? { failedLink: error.link } : {})
    };
}

/** The --key file's text, refused here (naming the file) unless it is one public key: nothing is sent otherwise. */
function readPublicKeyFile(file: string): string {

    let text: string;
    try {
        text = Fs.readFileSync(file, 'utf8');
    }
    catch (error) {
        throw new InvalidKey(`cannot read --key ${file}: ${(error as Error).message}`, { cause: error });
    }

    try {
        parsePublicKey(text);
    }
    catch (error) {
        throw new InvalidKey(`--key ${file}: ${(error as Error).message}; nothing was sent`, { cause: error });
    }

    return text;
}

function credentialsFrom(options: AuthOptions, readPassword: () => string): Credentials {

    const chosen = [options.passwordStdin, options.authKey, options.assertion].filter((option) => option !== undefined && option !== false);
    if (chosen.length !== 1) {
        throw new InvalidInput('INVALID_OPTIONS', 'authenticate with exactly one of --password-stdin, --auth-key FILE or --assertion FILE');
    }

    if (options.passwordStdin) {
        return { password: readPassword(), ...(options.user !== undefined ? { user: canonicalName(options.user) } : {}) };
    }

    if (options.authKey !== undefined) {
        return { authKey: readPrivateKey(options.authKey), ...(options.user !== undefined ? { signer: canonicalName(options.user) } : {}) };
    }

    return { assertion: Fs.readFileSync(options.assertion!, 'utf8') };
}

/**
 * A client for `name`'s domain that finds the registration service through validated
 * `_ikrs._tcp` SRV records (or uses --url) and checks the KSK against its DNSSEC
 * commitment either way, from the same DNS server and trust anchors as `iks lookup`.
 */
function clientFor(config: IksConfig, name: string, options: AuthOptions): RegistrationClient {

    const { domain } = parseName(name);
    const server = options.dnsServer !== undefined ? parseDnsServer(options.dnsServer) : defaultDnsServer(config);
    let anchors: TrustAnchor[];
    try {
        anchors = readAnchors(options.trustAnchor ?? zonePaths({ dataDir: config.dataDir, domain }).trustAnchor);
    }
    catch (error) {
        throw markLink(error, 'trust-anchor');
    }

    const timeout = options.timeout ?? 10_000;
    return new RegistrationClient({
        discovery: new DnsDiscovery({ server, anchors, timeoutMs: Math.min(timeout, 2000) }),
        timeout,
        ...(options.url !== undefined ? { baseUrl: options.url } : {})
    });
}

function withAuthOptions(command: Command): Command {

    return command
        .option('--password-stdin', 'authenticate with the password read from standard input')
        .option('--auth-key <file>', 'authenticate by signing with this private key (registered with usage iks-auth)')
        .option('--assertion <file>', 'authenticate with a third-party assertion (XML)')
        .option('--user <name>', 'who authenticates (default: NAME itself)', commandLineName)
        .option('--url <url>', 'gateway base URL, skipping SRV discovery (the KSK is still checked against its DNSSEC commitment)')
        .option('--dns-server <address>', 'DNS server to ask, IP[:PORT] (default: the configured DNS listener)')
        .option('--trust-anchor <file>', 'trust anchors of the domain, delv format (default: <data-dir>/<domain>/public trust anchor)')
        .option('--timeout <ms>', 'per HTTP request, milliseconds, 1 to 600000 (default 10000)', timeoutMs)
        .option('--json', 'machine-readable result');
}

/** Adds register, revoke, keys and user to the program. */
export function addRegistrationCommands(program: Command, context: RegistrationCommandContext): void {

    const { io, result } = context;
    // Bytes, decoded strictly: a lenient decode turns different invalid passwords into the same U+FFFD text.
    const readStdin = context.readStdin ?? (() => Fs.readFileSync(0));
    // A password typed at a terminal would be echoed (and read only up to Ctrl-D): refused before reading.
    const readPassword = (example: string) => () => {

        if (process.stdin.isTTY === true) {
            throw new InvalidInput('INVALID_OPTIONS', `standard input is a terminal; pipe the password on stdin (e.g. \`iks ${example} < password-file\`)`);
        }

        return passwordFrom(decodeUtf8(readStdin(), 'the password on standard input'));
    };

    const run = async (what: string, name: string, options: AuthOptions, send: (client: RegistrationClient, credentials: Credentials) => Promise<RegistrationReceipt>, describe: (receipt: RegistrationReceipt) => string[]) => {

        try {
            const config = context.config();
            const receipt = await send(clientFor(config, name, options), credentialsFrom(options, readPassword(`${what} … --password-stdin`)));
            if (options.json) {
                io.out(JSON.stringify({ ok: true, verified: true, answerVerified: true, ...receipt.answer }, null, 2));
            }
            else {
                for (const link of receipt.links) {
                    io.out(`✓ ${link.link}: ${link.detail}`);
                }

                describe(receipt).forEach((line) => io.out(line));
            }

            result.code = internals.exit.ok;
        }
        catch (error) {
            if (options.json) {
                io.out(JSON.stringify(failureJson(error), null, 2));
            }

            io.err(`${what} failed: ${describeError(error)}`);
            if (error instanceof RegistrationRefused && error.acceptedMethods.length > 0) {
                io.err(`accepted authentication methods: ${error.acceptedMethods.join(', ')}`);
            }

            if (error instanceof RegistrationRefused && error.retryAt !== undefined) {
                io.err(`retry after ${new Date(error.retryAt).toISOString()}`);
            }

            result.code = internals.exit.failed;
        }
    };

    withAuthOptions(program.command('register')
        .description('register a public key for a name (paper §5.2); succeeds only on a verified RSK-signed acceptance')
        .argument('<name>', 'entity@domain', commandLineName)
        .requiredOption('--key <file>', 'the public key: PEM (PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE) or an OpenSSH .pub line')
        .option('--usage <usage...>', 'permitted uses, e.g. sign encrypt iks-auth (default: any, which lookups take for every use but the iks-* ones)')
        .option('--expires <date>', 'expiry, ISO 8601 (e.g. 2027-01-31T00:00:00Z)'))
        .action(async (name: string, options: AuthOptions & { key: string; usage?: string[]; expires?: string }) => {

            await run('register', name, options, (client, credentials) => {

                const usage = (options.usage ?? ['any']).flatMap((entry) => entry.split(',')).filter(Boolean);
                const bad = usage.find((entry) => !internals.usage.test(entry));
                if (bad !== undefined) {
                    throw new InvalidInput('INVALID_OPTIONS', `usage "${bad}" must be lowercase letters, digits and hyphens`);
                }

                const expiresAt = options.expires === undefined ? undefined : Date.parse(options.expires);
                if (expiresAt !== undefined && Number.isNaN(expiresAt)) {
                    throw new InvalidInput('INVALID_OPTIONS', `--expires "${options.expires}" is not an ISO 8601 date`);
                }

                return client.register(name, { container: readPublicKeyFile(options.key), usage, ...(expiresAt !== undefined ? { expiresAt } : {}) }, credentials);
            }, ({ answer }) => [`registered: key ${answer.keyId} of ${answer.name} is ${answer.state} (published at the updater's next run)`]);
        });

    withAuthOptions(program.command('revoke')
        .description('revoke a key of a name (paper §5.3); its key document becomes a signed revocation')
        .argument('<name>', 'entity@domain', commandLineName)
        .argument('<keyId>', 'the key id (16 hex digits, as `iks lookup` shows)')
        .option('--reason <reason>', 'why, e.g. keyCompromise, superseded'))
        .action(async (name: string, keyId: string, options: AuthOptions & { reason?: string }) => {

            await run('revoke', name, options, (client, credentials) => client.revoke(name, keyId, options.reason, credentials),
                ({ answer }) => [`revoked: key ${answer.keyId} of ${answer.name} (the signed revocation is published at the updater's next run)`]);
        });

    withAuthOptions(program.command('keys')
        .description('list every key registered for a name, with its state (authenticated)')
        .argument('<name>', 'entity@domain', commandLineName))
        .action(async (name: string, options: AuthOptions) => {

            await run('keys', name, options, (client, credentials) => client.listMyKeys(name, credentials), ({ answer }) => [
                `${answer.name}: ${answer.keys?.length ?? 0} key(s)`,
                ...(answer.keys ?? []).map((key) => `  ${key.id}  ${key.state}  ${key.algorithm}/${key.size}  usage=${key.usage.join(',')}${key.revocationReason ? `  reason=${key.revocationReason}` : ''}`)
            ]);
        });

    const user = program.command('user').description('password users of the registration service (username/password method)');

    user.command('add')
        .description('create a user of the configured domain, or with --replace set a new password and lift its lockout; the password (at least 12 characters) is read from standard input')
        .argument('<name>', 'entity@domain', commandLineName)
        .option('--replace', 'replace the password of an existing user (and enable it)')
        .action(async (input: string, options: { replace?: boolean }) => {

            const config = context.config();
            const name = userOfDomain(input, config.domain);
            const password = readPassword(`user add ${name}${options.replace ? ' --replace' : ''}`)();
            // Counted in characters, as people choose them; the quickstart's demo passwords have 16.
            if ([...password].length < internals.minPasswordLength) {
                throw new InvalidInput('INVALID_PASSWORD', `the password has ${[...password].length} character(s); a user's password needs at least ${internals.minPasswordLength}`);
            }

            const passwordHash = await hashPassword(password);
            await withStore(config, async (store) => {

                const existing = await store.getUser(name);
                if (existing && !options.replace) {
                    io.err(`user ${name} exists; use --replace to set a new password`);
                    result.code = internals.exit.failed;
                    return;
                }

                await store.putUser({ name, passwordHash, disabled: false, createdAt: existing?.createdAt ?? Date.now() });
                if (existing) {
                    // A new password ends the lockout its predecessor ran into (the per-address count stays).
                    const { perEntity, window, lockout } = config.register.passwordFailures;
                    await store.failureLimiter({ kind: PASSWORD_FAILURE_KINDS.entity, maxFailures: perEntity, windowSeconds: window, lockoutSeconds: lockout }).reset(name);
                }

                io.out(existing ? `password of ${name} replaced; its password lockout, if any, is lifted` : `user ${name} created`);
            });
        });

    for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
        user.command(verb)
            .description(disabled ? 'refuse password authentication for a user (registered keys stay)' : 'allow password authentication again')
            .argument('<name>', 'entity@domain', commandLineName)
            .action(async (input: string) => {

                const config = context.config();
                const name = userOfDomain(input, config.domain);
                await withStore(config, async (store) => {

                    const existing = await store.getUser(name);
                    if (!existing) {
                        io.err(`no user ${name}`);
                        result.code = internals.exit.failed;
                        return;
                    }

                    await store.putUser({ ...existing, disabled });
                    io.out(`user ${name} ${verb}d`);
                });
            });
    }
}
