/**
 * Issue 7 fault tests with real processes: `iks quickstart` (gateway, DNS plugin and
 * in-process updater) on a private redis-server with AOF and `appendfsync always`
 * (docs/operations.md), which the test kills with SIGKILL while traffic runs.
 */
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';
import { performance } from 'node:perf_hooks';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { DnsStub } from '../../lib/dns/stub';
import { RrType } from '../../lib/dns/types';
import { nameToUrlForm } from '../../lib/names';
import { RedisStore } from '../../lib/store';
import { freePort, startIks, type RunningProcess } from '../helpers/process';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { makeEntities, post, registerRequest, type Entity } from '../helpers/registration-requests';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const internals = {
    /** "Does not hang": far above the store's 2 s command timeout, far below lab's 60 s. */
    hangDeadlineMs: 8000,
    /** Recovery is polled until this deadline; on an idle machine it takes well under a second. */
    recoveryDeadlineMs: 20_000
};

async function until<T>(deadlineMs: number, attempt: () => Promise<T | undefined>): Promise<T | undefined> {

    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
        const value = await attempt().catch(() => undefined);
        if (value !== undefined) {
            return value;
        }

        await new Promise((resolve) => setTimeout(resolve, 50));
    }

    return undefined;
}

describe('faults: redis-server killed under lookups and registrations (real processes)', () => {

    let redis: RedisServer;
    let quickstart: RunningProcess;
    let base: string;
    let dnsPort: number;
    let store: RedisStore;
    let entity: Entity;
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-faults-'));
    const acknowledged: string[] = [];

    const timed = async <T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> => {

        const start = performance.now();
        const value = await action();
        return { value, ms: performance.now() - start };
    };

    const lookupStatus = async (name: string) => (await fetch(`${base}/ikqs/v1/n/${nameToUrlForm(name)}`, { signal: AbortSignal.timeout(internals.hangDeadlineMs) })).status;

    /** One registration; its key id is remembered when the signed answer says accepted. */
    const register = async () => {

        const request = registerRequest(entity);
        const answer = await post(base, request, internals.hangDeadlineMs);
        if (answer.status === 200 && answer.outcome === 'accepted') {
            acknowledged.push(request.keyId);
        }

        return answer;
    };

    before(async () => {

        redis = await startRedisServer({ appendonly: true });
        dnsPort = await freePort();
        // A name the updater had leased when Redis died is handed out again when its lease
        // ends (workers/updater): a short lease keeps that recovery inside the deadline.
        const env = { IKS_DATA_DIR: dataDir, IKS_HTTP_PORT: String(await freePort()), IKS_DNS_PORT: String(dnsPort), IKS_REDIS_URL: redis.url, IKS_LOG_LEVEL: 'warn', IKS_UPDATER_LEASE: '3000' };
        quickstart = startIks(['quickstart'], env);
        base = (await quickstart.waitFor(/http:\/\/127\.0\.0\.1:\d+/)).trim();
        await quickstart.waitFor(/--auth-key alice\.key/);
        store = new RedisStore({ url: redis.url, commandTimeout: 1000 });
        entity = (await makeEntities(store, 1, 'fault'))[0]!;
        for (let i = 0; i < 5; ++i) {
            expect((await register()).outcome).to.equal('accepted');
        }
    });

    after(async () => {

        await store?.close();
        expect(await quickstart?.stop()).to.equal(0);
        await redis?.stop();
        Fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers 503 fast while Redis is down, keeps serving DNS, and recovers by itself', async () => {

        await redis.kill('SIGKILL');

        // Lookups and registrations in parallel, several rounds: each answers, and answers fast.
        const statuses = { lookup: new Set<number>(), register: new Set<number>() };
        let slowest = 0;
        for (let round = 0; round < 3; ++round) {
            const results = await Promise.all([
                timed(() => lookupStatus('alice@example.test')).then((result) => statuses.lookup.add(result.value) && result.ms),
                timed(() => lookupStatus('nobody@example.test')).then((result) => statuses.lookup.add(result.value) && result.ms),
                timed(register).then((result) => statuses.register.add(result.value.status) && result.ms)
            ]);
            slowest = Math.max(slowest, ...results);
        }

        expect(slowest).to.be.below(internals.hangDeadlineMs);
        expect([...statuses.register]).to.equal([503]);
        // A lookup may be served from the plugin's memo of signed documents; never a 500.
        expect([...statuses.lookup].every((status) => status === 503 || status === 200)).to.be.true();
        expect(statuses.lookup.has(503)).to.be.true();

        // The gateway process and the DNS plugin keep running.
        expect((await fetch(`${base}/healthz`)).status).to.equal(200);
        expect((await fetch(`${base}/readyz`)).status).to.equal(503);
        const srv = await new DnsStub({ server: { host: '127.0.0.1', port: dnsPort }, timeoutMs: 2000 }).query('_ikqs._tcp.example.test', RrType.SRV);
        expect(srv.answers.some((record) => record.type === RrType.SRV)).to.be.true();
        expect(quickstart.child.exitCode).to.equal(null);

        // Back on the same port (AOF replayed): service returns without a restart of the gateway.
        await redis.start();
        const recovered = await until(internals.recoveryDeadlineMs, async () => ((await register()).outcome === 'accepted' ? true : undefined));
        expect(recovered).to.be.true();
        expect((await fetch(`${base}/readyz`)).status).to.equal(200);

        // The updater recovers too: the key acknowledged last is published.
        const last = acknowledged[acknowledged.length - 1]!;
        const published = await until(internals.recoveryDeadlineMs, async () => {

            const body = await (await fetch(`${base}/ikqs/v1/n/${nameToUrlForm(entity.name)}`)).text();
            return body.includes(`id="${last}"`) ? true : undefined;
        });
        expect(published, quickstart.output()).to.be.true();
    });

    it('loses no acknowledged registration when Redis is killed right after the acknowledgement', async () => {

        const answer = await register();
        expect(answer.outcome).to.equal('accepted');
        await redis.kill('SIGKILL');
        await redis.start();

        const stored = await until(internals.recoveryDeadlineMs, async () => (await store.getRegistrations(entity.name)).map((registration) => registration.keyId));
        expect(stored).to.exist();
        expect(stored).to.include(acknowledged);
        expect(acknowledged.length).to.be.at.least(7);
    });
});
