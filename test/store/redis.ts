import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { StoreUnavailable } from '../../lib/errors';
import { RedisKeys, RedisStore, createStore } from '../../lib/store';
import { makeRegistration } from '../helpers/domain';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { storeContract } from './contract';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

let redis: RedisServer;
let counter = 0;

before(async () => {

    redis = await startRedisServer();
});

after(async () => {

    await redis.stop();
});

/** Deletes every key under `prefix` on the test's own redis-server. */
async function deleteKeys(prefix: string): Promise<void> {

    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    const keys = await raw.keys(`${prefix}:*`);
    if (keys.length > 0) {
        await raw.del(...keys);
    }

    await raw.quit();
}

storeContract(lab, 'redis', async () => {

    // A unique prefix per test; cleanup deletes only that prefix's keys.
    const prefix = `iks-contract-${process.pid}-${++counter}`;
    const store = new RedisStore({ url: redis.url, keyPrefix: prefix });
    return {
        store,
        async cleanup() {

            await deleteKeys(prefix);
            await store.close();
        }
    };
});

describe('RedisStore', () => {

    it('wakes queue listeners of another client when a name is queued for now', async () => {

        const prefix = `iks-signal-${process.pid}`;
        const updaterSide = new RedisStore({ url: redis.url, keyPrefix: prefix });
        const gatewaySide = new RedisStore({ url: redis.url, keyPrefix: prefix });
        const otherDomain = new RedisStore({ url: redis.url, keyPrefix: `${prefix}-other` });
        let calls = 0;
        updaterSide.onQueued(() => {

            calls++;
        });

        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        for (const deadline = Date.now() + 5000; calls === 0 && Date.now() < deadline;) {
            await gatewaySide.putRegistrations([makeRegistration('bob@example.test')]);
            await sleep(20);
        }

        expect(calls).to.be.above(0);
        await sleep(100);
        const base = calls;

        // Another prefix (another deployment on the same server) does not wake it; the
        // barrier's signal arrives after any the other prefix would have caused.
        await otherDomain.enqueue(['bob@example.test']);
        await otherDomain.putRegistrations([makeRegistration('bob@example.test')]);
        await gatewaySide.enqueue(['barrier@example.test']);
        for (const deadline = Date.now() + 5000; calls === base && Date.now() < deadline;) {
            await sleep(5);
        }

        await sleep(100);
        expect(calls).to.equal(base + 1);
        await Promise.all([updaterSide.close(), gatewaySide.close(), otherDomain.close()]);
    });

    it('signals a burst of queued names once or twice, always after the last of them', async () => {

        const prefix = `iks-burst-${process.pid}`;
        const updaterSide = new RedisStore({ url: redis.url, keyPrefix: prefix });
        const gatewaySide = new RedisStore({ url: redis.url, keyPrefix: prefix });
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        let calls = 0;
        let lastSignal = 0;
        updaterSide.onQueued(() => {

            calls++;
            lastSignal = Date.now();
        });

        for (const deadline = Date.now() + 5000; calls === 0 && Date.now() < deadline;) {
            await gatewaySide.enqueue(['warm-up@example.test']);
            await sleep(20);
        }

        await sleep(100);
        const base = calls;
        await Promise.all(Array.from({ length: 50 }, (_, i) => gatewaySide.putRegistrations([makeRegistration(`burst-${i}@example.test`)])));
        const written = Date.now();
        for (const deadline = Date.now() + 5000; lastSignal < written && Date.now() < deadline;) {
            await sleep(5);
        }

        await sleep(100);
        // One signal in flight, one more for everything queued while it was (a few, if the
        // replies to the writes arrive in several reads): not fifty.
        expect(calls - base).to.be.within(1, 5);
        expect(lastSignal).to.be.at.least(written);
        await Promise.all([updaterSide.close(), gatewaySide.close()]);
    });

    it('throws, rather than reporting success, when a registration of a several-name write fails', async () => {

        const prefix = `iks-wrongtype-${process.pid}`;
        const store = new RedisStore({ url: redis.url, keyPrefix: prefix });
        const { Redis } = await import('ioredis');
        const raw = new Redis(redis.url);
        try {
            // b's registrations key holds a string: HSET fails inside the transaction's second script call.
            await raw.set(store.keys.registrations('b@example.test'), 'not a hash');
            await expect(store.putRegistrations([makeRegistration('a@example.test'), makeRegistration('b@example.test')])).to.reject(/WRONGTYPE/);
            await expect(store.putRegistrations([makeRegistration('b@example.test')])).to.reject(/WRONGTYPE/);
        }
        finally {
            await raw.quit();
            await deleteKeys(prefix);
            await store.close();
        }
    });

    it('answers StoreUnavailable, to be retried, while the server is busy with a script, as while it loads or fails over', async () => {

        const store = new RedisStore({ url: redis.url, keyPrefix: `iks-busy-${process.pid}` });
        const { Redis } = await import('ioredis');
        const raw = new Redis(redis.url);
        const scripting = new Redis(redis.url);
        await raw.config('SET', 'busy-reply-threshold', '20');
        // A script that keeps the server for half a second: other clients get BUSY meanwhile.
        const script = scripting.eval('local start = redis.call("TIME") repeat local now = redis.call("TIME") until (now[1] - start[1]) * 1000000 + now[2] - start[2] >= 500000 return 1', 0);
        try {
            await new Promise((resolve) => setTimeout(resolve, 100));
            await expect(store.getRegistrations('a@example.test')).to.reject(StoreUnavailable, /BUSY/);
        }
        finally {
            await script;
            await raw.config('SET', 'busy-reply-threshold', '5000');
            await Promise.all([raw.quit(), scripting.quit(), store.close()]);
        }
    });

    it('needs a URL or a client', () => {

        expect(() => new RedisStore({})).to.throw(StoreUnavailable, /url or a client/);
    });

    it('is what createStore makes when a Redis URL is configured', async () => {

        const store = createStore({ redisUrl: redis.url, dataDir: '/nonexistent', keyPrefix: `iks-create-${process.pid}` });
        expect(store.kind).to.equal('redis');
        await store.ping();
        await store.close();
    });

    it('uses one hash tag per name so each name\'s keys share a cluster slot', () => {

        const keys = new RedisKeys('iks');
        expect(keys.registrations('bob@example.test')).to.equal('iks:{bob@example.test}:reg');
        expect(keys.documents('bob@example.test')).to.equal('iks:{bob@example.test}:doc');
        expect(keys.nameOfRegistrations(keys.registrations('bob@example.test'))).to.equal('bob@example.test');
        expect([keys.pending, keys.leased, keys.leases, keys.attempts].every((key) => key.includes('{queue}'))).to.be.true();
    });

    it('fails fast with StoreUnavailable while Redis is down and recovers when it returns', async () => {

        const server = await startRedisServer();
        const store = new RedisStore({ url: server.url, keyPrefix: 'iks-fault', commandTimeout: 500 });
        await store.putRegistrations([makeRegistration('bob@example.test')]);
        await server.kill();

        await expect(store.ping()).to.reject(StoreUnavailable);
        await expect(store.getDocument('bob@example.test', 'list')).to.reject(StoreUnavailable);

        await server.start();
        let recovered = false;
        for (let i = 0; i < 100 && !recovered; ++i) {
            recovered = await store.ping().then(() => true, () => false);
            if (!recovered) {
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
        }

        expect(recovered).to.be.true();
        await store.close();
        await server.stop();
    });
});
