/**
 * What bench/register and bench/soak share (not a test): a quickstart gateway in its own
 * process (embedded store, or Redis with every write fsynced), bench entities holding an
 * iks-auth key, and ready-to-send user-key-signed SOAP requests (test/helpers), built
 * before they are timed: the generator measures the server, not its own signing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as Fs from 'node:fs';
import * as Net from 'node:net';
import * as Os from 'node:os';
import * as Path from 'node:path';

import { nameToUrlForm } from '../../lib/names';
import { createStore } from '../../lib/store';
import type { Store } from '../../lib/store/types';
import { childProcesses } from '../../test/helpers/process';

export { makeEntities, post, registerRequest, revokeRequest, send, type Entity, type PreparedRequest } from '../../test/helpers/registration-requests';

export interface Gateway {
    readonly base: string;
    readonly dnsPort: number;
    readonly dataDir: string;
    /** The gateway process (with the in-process updater in the quickstart layout). */
    readonly pid: number;
    /** Every IKS process of the layout: the gateway, and `iks updater` in the split layout. */
    readonly pids: readonly number[];
    readonly redisUrl: string | undefined;
    /** The private redis-server, when the store is Redis. */
    readonly redisPid: number | undefined;
    /** Opens the gateway's store from this process (SQLite WAL or Redis, both shareable). */
    openStore(): Store;
    stop(): Promise<void>;
}

export const root = Path.join(__dirname, '..', '..');

export async function freePort(): Promise<number> {

    const server = Net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as Net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

function waitForOutput(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<string> {

    return new Promise((resolve, reject) => {

        let seen = '';
        const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
        const onData = (chunk: Buffer) => {

            seen += chunk.toString();
            const match = pattern.exec(seen);
            if (match) {
                clearTimeout(timer);
                resolve(match[0]);
            }
        };

        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', (code) => reject(new Error(`${what} exited (${code}):\n${seen}`)));
    });
}

/**
 * The process layouts a bench can run:
 *   - `quickstart`: one `iks quickstart` process, gateway and updater together (`npm start`);
 *   - `split`: the production layout, `iks serve` with `workers` HTTP worker processes and
 *     `iks updater` as its own process, the only one holding the KSK.
 */
export type Layout = 'quickstart' | 'split';

export interface GatewayOptions {
    readonly redis: boolean;
    readonly appendfsync?: 'always' | 'everysec';
    readonly layout?: Layout;
    /** HTTP worker processes of `iks serve` (split layout). */
    readonly workers?: number;
    readonly env?: NodeJS.ProcessEnv;
}

let built = false;

/**
 * Benches run what production runs, the compiled build (`npm run build`, rebuilt here so it
 * matches the sources), unless IKS_FROM_SOURCE=1 asks for the TypeScript sources through ts-node.
 */
function buildOnce(): void {

    if (built || process.env.IKS_FROM_SOURCE === '1') {
        return;
    }

    process.stderr.write('building dist/ (npm run build)…\n');
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) {
        throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }

    built = true;
}

/** Starts redis-server (AOF, by default fsynced on every write: no acknowledged write lost) and the IKS processes of `layout` on free loopback ports. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {

    buildOnce();
    const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-bench-'));
    const dataDir = Path.join(work, 'iks');
    let redis: ChildProcess | undefined;
    let redisUrl: string | undefined;
    if (options.redis) {
        const port = await freePort();
        redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'always', '--dir', work], { stdio: ['ignore', 'pipe', 'pipe'] });
        await waitForOutput(redis, /Ready to accept connections/, 'redis-server');
        redisUrl = `redis://127.0.0.1:${port}`;
    }

    const httpPort = await freePort();
    const dnsPort = await freePort();
    // The young-generation size the Docker image and `npm start` use (docs/operations.md);
    // NODE_OPTIONS set by the caller, even empty, replaces it.
    const env = { ...process.env, NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--max-semi-space-size=64', IKS_FROM_SOURCE: process.env.IKS_FROM_SOURCE === '1' ? '1' : '0', IKS_DATA_DIR: dataDir, IKS_HTTP_PORT: String(httpPort), IKS_DNS_PORT: String(dnsPort), IKS_LOG_LEVEL: 'warn', IKS_REDIS_URL: redisUrl ?? '', ...options.env };
    // IKS_BENCH_PROFILE=DIR writes a CPU profile of each IKS process there (node --cpu-prof).
    const profile = process.env.IKS_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.IKS_BENCH_PROFILE] : [];
    const iks = (args: string[]) => spawn(process.execPath, [...profile, Path.join(root, 'bin', 'iks.js'), ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });

    const children: ChildProcess[] = [];
    let base: string;
    if ((options.layout ?? 'quickstart') === 'quickstart') {
        const child = iks(['quickstart']);
        children.push(child);
        base = (await waitForOutput(child, /http:\/\/127\.0\.0\.1:\d+/, 'iks quickstart')).trim();
        await waitForOutput(child, /--auth-key alice\.key/, 'iks quickstart');
    }
    else {
        const init = spawnSync(process.execPath, [Path.join(root, 'bin', 'iks.js'), 'init'], { cwd: work, env });
        if (init.status !== 0) {
            throw new Error(`iks init failed:\n${init.stderr}`);
        }

        const gateway = iks(['serve', '--workers', String(options.workers ?? 1)]);
        const updater = iks(['updater']);
        children.push(gateway, updater);
        base = (await waitForOutput(gateway, /http:\/\/127\.0\.0\.1:\d+/, 'iks serve')).trim();
        await waitForOutput(updater, /updater for/i, 'iks updater');
    }

    return {
        base,
        dnsPort,
        dataDir,
        pid: children[0]!.pid!,
        pids: children.map((child) => child.pid!),
        redisUrl,
        redisPid: redis?.pid,
        openStore: () => createStore({ redisUrl, dataDir }),
        async stop() {

            await Promise.all(children.map((child) => {

                const exited = new Promise((resolve) => child.once('exit', resolve));
                child.kill('SIGTERM');
                return exited;
            }));
            if (redis) {
                const gone = new Promise((resolve) => redis!.once('exit', resolve));
                redis.kill('SIGTERM');
                await gone;
            }

            Fs.rmSync(work, { recursive: true, force: true });
        }
    };
}

export function lookupUrl(base: string, name: string, keyId?: string): string {

    return `${base}/ikqs/v1/n/${nameToUrlForm(name)}${keyId !== undefined ? `/k/${keyId}` : ''}`;
}

export { percentile } from '../../test/helpers/traffic-mix';

/** The number after `--<name>` on the command line, or `fallback`. */
export function option(name: string, fallback: number): number {

    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/** Resident set size of a process and its live children (cluster workers), MB (Linux /proc). */
export function rssMb(pid: number): number {

    const status = Fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const own = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
    return own + childProcesses(pid).reduce((sum, child) => sum + rssMb(child), 0);
}

/** CPU time a process and its live children (cluster workers) have used so far, ms (user + system, Linux /proc). */
export function cpuMs(pid: number): number {

    // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name: utime, stime.
    const fields = Fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    const own = (Number(fields[11]) + Number(fields[12])) * 1000 / 100;
    return own + childProcesses(pid).reduce((sum, child) => sum + cpuMs(child), 0);
}

/** What a redis-server has done so far (INFO stats and commandstats): the bench reports them per registration. */
export interface RedisCounters {
    readonly commands: number;
    /** Reads from client sockets: commands pipelined together arrive in one. */
    readonly reads: number;
    readonly byCommand: ReadonlyMap<string, number>;
}

export function redisCounters(url: string): RedisCounters {

    const { hostname, port } = new URL(url);
    const info = spawnSync('redis-cli', ['-h', hostname, '-p', port, 'info', 'all'], { encoding: 'utf8', timeout: 10_000 });
    if (info.status !== 0) {
        throw new Error(`redis-cli info failed: ${info.stderr}`);
    }

    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info.stdout)?.[1] ?? NaN);
    const byCommand = new Map<string, number>();
    for (const [, command, calls] of info.stdout.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        byCommand.set(command!, Number(calls));
    }

    return { commands: field('total_commands_processed'), reads: field('total_reads_processed'), byCommand };
}

export function hasRedis(): boolean {

    return spawnSync('redis-server', ['--version']).status === 0;
}
