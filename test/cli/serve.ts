import * as Fs from 'node:fs';
import * as Net from 'node:net';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { nameToUrlForm } from '../../lib/names';
import { eventually } from '../helpers/eventually';
import { childProcesses, freePort, runIks, startIks, type RunningProcess } from '../helpers/process';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

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
