import { spawn } from 'node:child_process';
import * as Dgram from 'node:dgram';
import * as Fs from 'node:fs';
import * as Net from 'node:net';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { nameToUrlForm } from '../../lib/names';
import { eventually } from '../helpers/eventually';
import { childProcesses, freePort, iksBin, runIks, startIks, type RunningProcess } from '../helpers/process';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

/** Runs `iks ...` without blocking this process; a command still running after `deadlineMs` is killed and reported as hanging. */
function runIksWithin(args: readonly string[], env: NodeJS.ProcessEnv, deadlineMs: number): Promise<{ status: number | null; output: string; hung: boolean }> {

    return new Promise((resolve) => {

        const child = spawn(process.execPath, [iksBin, ...args], { env: { ...process.env, IKS_FROM_SOURCE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        let hung = false;
        const timer = setTimeout(() => (hung = true, child.kill('SIGKILL')), deadlineMs);
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('close', (status) => (clearTimeout(timer), resolve({ status, output, hung })));
    });
}

/** Holds a TCP or UDP port on 127.0.0.1 until released. */
async function occupy(kind: 'tcp' | 'udp'): Promise<{ port: number; release: () => Promise<void> }> {

    if (kind === 'tcp') {
        const server = Net.createServer();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return { port: (server.address() as Net.AddressInfo).port, release: () => new Promise((resolve) => server.close(() => resolve())) };
    }

    const socket = Dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return { port: socket.address().port, release: () => new Promise((resolve) => socket.close(resolve)) };
}

describe('iks serve (one process)', () => {

    let dir: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {

        dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-serve-one-'));
        // The in-process signer too: its timers must not keep a gateway that could not start alive.
        env = { IKS_DATA_DIR: dir, IKS_REDIS_URL: '', IKS_HTTP_PORT: String(await freePort()), IKS_DNS_PORT: String(await freePort()), IKS_UPDATER_IN_PROCESS: 'true', IKS_LOG_LEVEL: 'warn' };
        expect(runIks(['init'], env).status).to.equal(0);
    });

    after(() => {

        Fs.rmSync(dir, { recursive: true, force: true });
    });

    it('exits 2 naming the HTTP port and its setting when the port is taken, instead of hanging', { timeout: 60_000 }, async () => {

        const taken = await occupy('tcp');
        try {
            const result = await runIksWithin(['serve'], { ...env, IKS_HTTP_PORT: String(taken.port) }, 30_000);
            expect(result.hung, result.output).to.be.false();
            expect(result.status).to.equal(2);
            expect(result.output).to.contain(`iks: LISTEN_FAILED: cannot listen for HTTP on 127.0.0.1:${taken.port}: the port is in use (EADDRINUSE); set IKS_HTTP_PORT (http.port)`);
            // The DNS listener it had bound is free again.
            const dns = Net.createServer();
            await new Promise<void>((resolve, reject) => (dns.once('error', reject), dns.listen(Number(env.IKS_DNS_PORT), '127.0.0.1', resolve)));
            await new Promise((resolve) => dns.close(resolve));
        }
        finally {
            await taken.release();
        }
    });

    it('exits 2 naming the DNS port and its setting when that one is taken', { timeout: 60_000 }, async () => {

        const taken = await occupy('udp');
        try {
            const result = await runIksWithin(['serve'], { ...env, IKS_DNS_PORT: String(taken.port) }, 30_000);
            expect(result.hung, result.output).to.be.false();
            expect(result.status).to.equal(2);
            expect(result.output).to.contain(`iks: LISTEN_FAILED: cannot listen for DNS on 127.0.0.1:${taken.port}: the port is in use (EADDRINUSE); set IKS_DNS_PORT (dns.port)`);
        }
        finally {
            await taken.release();
        }
    });
});

describe('iks serve --workers', () => {

    let redis: RedisServer;
    let dir: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {

        redis = await startRedisServer();
        dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-serve-'));
        env = { IKS_DATA_DIR: Path.join(dir, 'iks'), IKS_REDIS_URL: redis.url, IKS_HTTP_PORT: String(await freePort()), IKS_DNS_PORT: String(await freePort()), IKS_LOG_LEVEL: 'warn' };
        expect(runIks(['init'], env).status).to.equal(0);
    });

    after(async () => {

        await redis.stop();
        Fs.rmSync(dir, { recursive: true, force: true });
    });

    it('runs N gateway processes on one port, adds up their metrics, replaces a dead one and stops cleanly', { timeout: 120_000 }, async () => {

        let serve: RunningProcess | undefined;
        try {
            serve = startIks(['serve', '--workers', '2'], env);
            const base = (await serve.waitFor(/http:\/\/127\.0\.0\.1:\d+/)).trim();
            expect(serve.output()).to.contain('with 2 worker processes');
            const primary = serve.child.pid!;
            const first = childProcesses(primary);
            expect(first).to.have.length(2);

            // Every connection is new, so the primary hands them round the workers; each answer is counted once.
            const url = `${base}/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`;
            for (let i = 0; i < 20; ++i) {
                const response = await fetch(url, { headers: { connection: 'close' } });
                expect(response.status).to.equal(404);
                await response.arrayBuffer();
            }

            const metrics = await (await fetch(`${base}/metrics`)).text();
            expect(metrics).to.contain('iks_lookups_total{domain="example.test",document="list",outcome="negative"} 20');
            // Gauges of the shared store are merged, not added up across the workers.
            expect(metrics).to.contain('iks_store_up{domain="example.test"} 1');

            process.kill(first[0]!, 'SIGKILL');
            await serve.waitFor(/gateway worker \d+ exited \(SIGKILL\); starting another/);
            await eventually(() => childProcesses(primary).length === 2 && !childProcesses(primary).includes(first[0]!), 30_000, 'a new worker replacing the dead one');
            for (let i = 0; i < 6; ++i) {
                const response = await fetch(url, { headers: { connection: 'close' } });
                expect(response.status).to.equal(404);
                await response.arrayBuffer();
            }

            const workers = childProcesses(primary);
            expect(await serve.stop('SIGTERM')).to.equal(0);
            serve = undefined;
            for (const pid of workers) {
                expect(Fs.existsSync(`/proc/${pid}`)).to.be.false();
            }
        }
        finally {
            await serve?.stop('SIGKILL');
        }
    });

    it('stops with an error when its workers cannot start, instead of restarting them forever', { timeout: 60_000 }, async () => {

        const taken = Net.createServer();
        await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
        try {
            const port = (taken.address() as Net.AddressInfo).port;
            const result = runIks(['serve', '--workers', '2'], { ...env, IKS_HTTP_PORT: String(port) });
            expect(result.status).to.equal(2);
            expect(result.stderr).to.contain('EADDRINUSE');
            expect(result.stderr).to.match(/gateway worker \d+ could not start \(its error is above\); stopping/);
        }
        finally {
            taken.close();
        }
    });

    it('refuses several workers on the embedded store, and a worker count out of range', { timeout: 60_000 }, () => {

        const embedded = runIks(['serve', '--workers', '2'], { ...env, IKS_REDIS_URL: '' });
        expect(embedded.status).to.equal(2);
        expect(embedded.stderr).to.contain('--workers 2 needs the Redis store (IKS_REDIS_URL)');

        const zero = runIks(['serve', '--workers', '0'], env);
        expect(zero.status).to.equal(2);
        expect(zero.stderr).to.contain('--workers must be a whole number from 1 to 64, not 0');
    });
});
