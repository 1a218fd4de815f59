/**
 * The `iks` command. Every subcommand reads the same configuration as the server
 * (IKS_* variables, IKS_CONFIG file), so a shell set up like the server needs no flags.
 */
import * as Fs from 'node:fs';

import { Command, CommanderError } from 'commander';

import { loadConfig, type IksConfig } from '../../config';
import { ensureSignedZone, zonePaths } from '../../workers/updater';
import { dsRecord, parseSignedZone } from '../dnssec';
import { IksError } from '../errors';
import { exportZoneText } from '../zone/export';
import { keyAlgorithm, positiveInteger, timeoutMs } from './arguments';
import { storeFor, storeLabel, withStore } from './store';
import { runImport } from './import';
import { runUpdater, type UpdaterCommandOptions } from './updater';
import { addKeyCommands, initDomain } from './keys';
import { runLookup, type LookupOptions } from './lookup';
import { consoleOutput, describeError, type Output } from './output';
import { checkDemoTarget, quickstartCommands, startQuickstart } from './quickstart';
import { runServe, type ServeOptions } from './serve';
import { addRegistrationCommands } from './registration';

interface GlobalOptions {
    config?: string;
    domain?: string;
    dataDir?: string;
    redisUrl?: string;
}

const internals = {
    exit: { ok: 0, noKeys: 1, failed: 2 }
};

function configFrom(program: Command, overrides: Record<string, unknown> = {}): IksConfig {

    const globalOptions = program.opts<GlobalOptions>();
    return loadConfig({
        ...(globalOptions.config !== undefined ? { file: globalOptions.config } : {}),
        overrides: { domain: globalOptions.domain, dataDir: globalOptions.dataDir, redisUrl: globalOptions.redisUrl, ...overrides }
    });
}

/** Which store a command could not reach, from the same configuration it used. */
function storeNamed(program: Command): string {

    try {
        return `store: ${storeLabel(configFrom(program))}`;
    }
    catch {
        return 'store: see IKS_REDIS_URL';
    }
}

/** Resolves when SIGINT/SIGTERM arrives. */
function untilSignal(): Promise<string> {

    return new Promise((resolve) => {

        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
    });
}

/** Builds the program; `io` lets tests capture output. */
export function buildProgram(io: Output = consoleOutput): { program: Command; result: { code: number } } {

    const result = { code: internals.exit.ok };
    const program = new Command('iks')
        .description('Internet Key Service: publish and look up DNSSEC-anchored public keys')
        .option('-c, --config <file>', 'JSON configuration file (default: $IKS_CONFIG)')
        .option('--domain <domain>', 'domain served (default: $IKS_DOMAIN or example.test)')
        .option('--data-dir <dir>', 'state directory (default: $IKS_DATA_DIR or ./.iks)')
        .option('--redis-url <url>', 'use Redis instead of the embedded store (default: $IKS_REDIS_URL)')
        .exitOverride()
        .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) });

    program.command('init')
        .description('create the domain\'s keys (KSK, RSK, encryption key, zone key) with safe permissions, sign the zone, print the records and DS to publish')
        .action(() => {

            for (const line of initDomain(configFrom(program))) {
                io.out(line);
            }
        });

    program.command('quickstart')
        .description('run a complete demo domain in one process (what `npm start` runs); refuses a domain that is not a reserved example domain')
        .option('--allow-real-domain', 'seed the demo keys and demo users (known passwords) even in a domain that is not a reserved example domain')
        .action(async (options: { allowRealDomain?: boolean }) => {

            const config = configFrom(program, { 'updater.inProcess': true });
            checkDemoTarget(config, options).forEach((warning) => io.err(warning));
            const store = storeFor(config);
            const running = await startQuickstart(config, store, io.err).catch(async (error: unknown) => {

                await store.close();
                throw error;
            });
            io.out(`IKS quickstart for ${config.domain} on ${running.url} (store: ${store.kind}, signing: ${config.signing})`);
            io.out('Try:');
            for (const command of quickstartCommands(config)) {
                io.out(`  ${command}`);
            }

            io.err(`stopping on ${await untilSignal()}`);
            await running.stop();
            await store.close();
        });

    program.command('serve')
        .description('run the gateway (query, registration and DNS plugins); the KSK stays with `iks updater` unless updater.inProcess is set')
        .option('--workers <n>', 'gateway processes sharing the HTTP and DNS ports (needs Redis; default: $IKS_HTTP_WORKERS or 1)', (value) => Number(value))
        .action(async (options: ServeOptions) => {

            result.code = await runServe(configFrom(program), options, io, untilSignal);
        });

    program.command('updater')
        .description('sign queued names with the KSK (signing "offline": the only process that loads it); with "ondemand"/"online", sign only the DNS zone')
        .option('--once', 'process what is due now, then exit (for a signer run from cron)')
        .option('--resign-all', 're-sign every name now with a progress bar, then exit')
        .option('--failed', 'list the jobs given up after too many attempts (loads no key)')
        .option('--retry-failed', 'queue the failed jobs again (loads no key)')
        .action(async (options: UpdaterCommandOptions) => {

            const config = configFrom(program);
            result.code = await withStore(config, (store) => runUpdater(config, store, options, io, untilSignal));
        });

    const zone = program.command('zone').description('the domain\'s DNSSEC-signed IKS zone (SRV delegation and KSK commitments)');

    zone.command('sign')
        .description('sign the zone if it is missing, changed or due (the signer holds the zone key)')
        .option('--force', 'sign even if nothing changed')
        .action((options: { force?: boolean }) => {

            const config = configFrom(program);
            const outcome = ensureSignedZone(config, { force: options.force ?? false });
            const validUntil = `valid until ${new Date(outcome.zone.expiration * 1000).toISOString()}`;
            io.out(outcome.signed ? `signed ${config.domain} (${outcome.reason}); ${validUntil}` : `${config.domain}: ${outcome.reason}; ${validUntil}`);
            io.out(`trust anchor: ${zonePaths(config).trustAnchor}`);
        });

    const readZone = (config: IksConfig) => {

        const file = zonePaths(config).signedZone;
        if (!Fs.existsSync(file)) {
            throw new Error(`no signed zone at ${file}; run \`iks zone sign\` where the zone key is`);
        }

        return parseSignedZone(Fs.readFileSync(file, 'utf8'));
    };

    zone.command('export')
        .description('print the signed zone in master-file format (for BIND, Knot, NSD)')
        .action(() => {

            io.out(exportZoneText(readZone(configFrom(program))).trimEnd());
        });

    zone.command('ds')
        .description('print the DS record to publish in the parent zone')
        .action(() => {

            io.out(dsRecord(readZone(configFrom(program))));
        });

    program.command('import')
        .description('register keys from a JSON-lines file: {"name", "key", "usage": [...], "expires"?}')
        .argument('<file>', 'JSON-lines file, or - for standard input')
        .option('--skip-invalid', 'import the valid lines even if some are invalid')
        .action(async (file: string, options: { skipInvalid?: boolean }) => {

            const config = configFrom(program);
            const importOptions = { domain: config.domain, skipInvalid: options.skipInvalid ?? false, progress: process.stderr.isTTY === true, maxKeySize: config.register.maxKeySize, maxKeysPerName: config.register.maxKeysPerName };
            result.code = await withStore(config, (store) => runImport(file, store, importOptions, io, storeLabel(config)));
        });

    program.command('lookup')
        .description('look up a name and verify every link of paper §5.1 from DNSSEC; exit 0 = verified keys, 1 = verified "no keys", 2 = a link failed (named), 3 = keys verified but none matches the filters')
        .argument('<name>', 'entity@domain')
        .option('--dns-server <address>', 'DNS server to ask: IP, IP:PORT or [IPv6]:PORT (default: $IKS_DNS_HOST:$IKS_DNS_PORT, i.e. 127.0.0.1:5300)')
        .option('--trust-anchor <file>', 'delv-format trust-anchor file for the domain (default: <data-dir>/<domain>/public/trust-anchor.conf)')
        .option('--url <url>', 'query service base URL, skipping SRV discovery (the KSK is still checked against its DNSSEC commitment)')
        .option('--algorithm <alg>', 'select keys of this algorithm: rsa, ec, ed25519, x25519, ed448, x448', keyAlgorithm)
        .option('--usage <usage>', 'select keys with this permitted use')
        .option('--min-size <bits>', 'select keys of at least this size, in bits', positiveInteger(65_536))
        .option('--timeout <ms>', 'per DNS exchange (at most 2000) and HTTP request, 1 to 600000 (default 5000)', timeoutMs)
        .option('--json', 'machine-readable result: every verified link, the selected keys, or the failed link')
        .action(async (name: string, options: LookupOptions) => {

            result.code = await runLookup(name, options, configFrom(program), io);
        });

    addRegistrationCommands(program, { io, result, config: () => configFrom(program) });
    // `iks keys NAME` (listing, registration.ts) gains the subcommand `iks keys rotate ksk`.
    addKeyCommands(program.commands.find((command) => command.name() === 'keys')!, { io, result, config: () => configFrom(program), withStore });

    return { program, result };
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: Output = consoleOutput): Promise<number> {

    const { program, result } = buildProgram(io);
    try {
        await program.parseAsync(argv as string[]);
        return result.code;
    }
    catch (error) {
        if (error instanceof CommanderError) {
            return error.exitCode === 0 ? 0 : internals.exit.failed;
        }

        io.err(`iks: ${describeError(error)}${error instanceof IksError && error.code === 'STORE_UNAVAILABLE' ? ` (${storeNamed(program)})` : ''}`);
        return internals.exit.failed;
    }
}
