/**
 * CI-sized soak (issue 7): `iks quickstart` in its own process takes mixed lookups,
 * registrations and DNS queries for ~12 s. Asserts no errors and a generous bound on
 * the gateway's memory growth; latency is bench/soak's business, not a test's.
 */
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { createStore } from '../../lib/store';
import type { Store } from '../../lib/store/types';
import { freePort, startIks, type RunningProcess } from '../helpers/process';
import { makeEntities } from '../helpers/registration-requests';
import { runTrafficMix } from '../helpers/traffic-mix';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const internals = {
    durationMs: 12_000,
    /** Resident-set growth allowed over the soak: generous, it only catches a leak per request. */
    rssGrowthBoundMb: 150
};

function rssMb(pid: number): number {

    return Number(/VmRSS:\s+(\d+) kB/.exec(Fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

describe('soak: mixed traffic against one quickstart process', () => {

    let quickstart: RunningProcess;
    let store: Store;
    let base: string;
    let dnsPort: number;
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-soak-'));

    before(async () => {

        dnsPort = await freePort();
        quickstart = startIks(['quickstart'], { IKS_DATA_DIR: dataDir, IKS_HTTP_PORT: String(await freePort()), IKS_DNS_PORT: String(dnsPort), IKS_REDIS_URL: '', IKS_LOG_LEVEL: 'warn', IKS_REGISTER_MAX_KEYS_PER_NAME: '1000' });
        base = (await quickstart.waitFor(/http:\/\/127\.0\.0\.1:\d+/)).trim();
        await quickstart.waitFor(/--auth-key alice\.key/);
        store = createStore({ redisUrl: undefined, dataDir });
    });

    after(async () => {

        await store?.close();
        expect(await quickstart?.stop()).to.equal(0);
        Fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('serves lookups, registrations and DNS queries for a while with no error and bounded memory', { timeout: 60_000 }, async () => {

        const entities = await makeEntities(store, 8, 'soak');
        const options = { base, dnsPort, entities, lanes: { lookup: 2, register: 2, dns: 1 }, pauseMs: 2 };

        // A short warm-up first, so JIT and caches do not count as growth.
        const warmUp = await runTrafficMix({ ...options, durationMs: 2000 });
        expect(warmUp.firstErrors).to.equal([]);
        const before = rssMb(quickstart.child.pid!);

        const result = await runTrafficMix({ ...options, durationMs: internals.durationMs });
        const growth = rssMb(quickstart.child.pid!) - before;

        expect(result.firstErrors).to.equal([]);
        expect(result.lookup.errors + result.register.errors + result.dns.errors).to.equal(0);
        expect(result.lookup.count).to.be.above(50);
        expect(result.register.count).to.be.above(10);
        expect(result.dns.count).to.be.above(50);
        expect(growth).to.be.below(internals.rssGrowthBoundMb);
        expect(quickstart.child.exitCode).to.equal(null);
    });
});
