import * as Net from 'node:net';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import { Redis } from 'ioredis';

import { StoreUnavailable } from '../../lib/errors';
import { RedisKeys, RedisStore, createStore } from '../../lib/store';
import { reconnectOnReadOnly } from '../../lib/store/redis';
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

    it('loads the registration script again when a several-name write (MULTI) finds it flushed', async () => {

        const prefix = `iks-noscript-${process.pid}`;
        const store = new RedisStore({ url: redis.url, keyPrefix: prefix });
        const raw = new Redis(redis.url);
        try {
            await store.putRegistrations([makeRegistration('a@example.test'), makeRegistration('b@example.test')]);
            for (let i = 0; i < 2; ++i) {
                // SCRIPT FLUSH (as a restart or a failover to a server that never ran it):
                // ioredis falls back to EVAL for a single call, not inside MULTI.
                await raw.script('FLUSH');
                const registrations = [makeRegistration(`c${i}@example.test`), makeRegistration(`d${i}@example.test`)];
                expect(await store.putRegistrations(registrations)).to.equal([]);
                for (const registration of registrations) {
                    expect(await store.getRegistration(registration.name, registration.keyId)).to.equal(registration);
                }
            }

            expect((await store.claim(10, 60_000)).map((job) => job.name).sort()).to.equal(['a@example.test', 'b@example.test', 'c0@example.test', 'c1@example.test', 'd0@example.test', 'd1@example.test']);
        }
        finally {
            await raw.quit();
            await deleteKeys(prefix);
            await store.close();
        }
    });

    it('answers StoreUnavailable for a several-name write while the server is busy, as for a single call', async () => {

        const store = new RedisStore({ url: redis.url, keyPrefix: `iks-busy-multi-${process.pid}` });
        const raw = new Redis(redis.url);
        const scripting = new Redis(redis.url);
        await store.ping();
        await raw.config('SET', 'busy-reply-threshold', '20');
        const script = scripting.eval('local start = redis.call("TIME") repeat local now = redis.call("TIME") until (now[1] - start[1]) * 1000000 + now[2] - start[2] >= 500000 return 1', 0);
        try {
            await new Promise((resolve) => setTimeout(resolve, 100));
            await expect(store.putRegistrations([makeRegistration('a@example.test'), makeRegistration('b@example.test')])).to.reject(StoreUnavailable, /BUSY/);
        }
        finally {
            await script;
            await raw.config('SET', 'busy-reply-threshold', '5000');
            await Promise.all([raw.quit(), scripting.quit(), store.close()]);
        }
    });

    it('refuses a due time that is not a finite number in the ack and fail scripts themselves, before writing', async () => {

        const prefix = `iks-nan-${process.pid}`;
        const raw = new Redis(redis.url);
        // Given a client, the store defines its scripts on it: call them as a caller skipping the store's checks would.
        const store = new RedisStore({ client: raw, keyPrefix: prefix });
        const scripts = raw as unknown as {
            ackJob(...args: string[]): Promise<number>;
            failJob(...args: string[]): Promise<number>;
        };
        try {
            await store.enqueue(['bob@example.test']);
            const [job] = await store.claim(10, 60_000);
            const { pending, leased, leases, attempts, failed } = store.keys;
            for (const bad of ['NaN', 'nan', 'inf', '-inf', 'Infinity', 'soon', '']) {
                await expect(scripts.ackJob(leased, leases, attempts, failed, pending, job!.name, job!.lease, bad)).to.reject(/finite/);
                await expect(scripts.failJob(pending, leased, leases, job!.name, job!.lease, bad)).to.reject(/finite/);
            }

            // Still leased: not half-finished (lease gone, name not queued again).
            expect(await raw.hget(leases, 'bob@example.test')).to.equal(job!.lease);
            expect(await store.queueDepth()).to.equal(1);
            await store.fail(job!, Date.now());
            const [retry] = await store.claim(10, 60_000);
            expect(retry!.name).to.equal('bob@example.test');
            expect(retry!.attempts).to.equal(2);
            expect(await scripts.ackJob(leased, leases, attempts, failed, pending, retry!.name, retry!.lease, String(Date.now() + 60_000))).to.equal(1);
            expect((await store.earliestDue())!).to.be.above(Date.now());
        }
        finally {
            await deleteKeys(prefix);
            await store.close();
            await raw.quit();
        }
    });

    it('reconnects and resends a command answered READONLY (the connection left on a demoted master), and only then', () => {

        const error = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
        expect(reconnectOnReadOnly(error('READONLY You can\'t write against a read only replica.'))).to.equal(2);
        expect(reconnectOnReadOnly(error('WRONGTYPE Operation against a key holding the wrong kind of value'))).to.be.false();
        expect(reconnectOnReadOnly(error('ERR unknown command'))).to.be.false();
        expect(reconnectOnReadOnly(error('NOSCRIPT No matching script. Please use EVAL.'))).to.be.false();
        expect(reconnectOnReadOnly(error('LOADING Redis is loading the dataset in memory'))).to.be.false();
    });

    it('follows a failover behind one address (DNS name, virtual IP): writes reach the promoted replica', async () => {

        const master = await startRedisServer();
        const replica = await startRedisServer();
        const toMaster = new Redis(master.url);
        const toReplica = new Redis(replica.url);
        await toReplica.replicaof('127.0.0.1', master.port);

        // The address clients use: a TCP proxy to whichever server is master now.
        let target = master.port;
        const sockets = new Set<Net.Socket>();
        const proxy = Net.createServer((client) => {

            const server = Net.connect(target, '127.0.0.1');
            client.pipe(server);
            server.pipe(client);
            client.on('error', () => server.destroy());
            server.on('error', () => client.destroy());
            client.on('close', () => server.destroy());
            server.on('close', () => client.destroy());
            sockets.add(client).add(server);
        });
        await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
        const store = new RedisStore({ url: `redis://127.0.0.1:${(proxy.address() as Net.AddressInfo).port}`, keyPrefix: `iks-failover-${process.pid}`, commandTimeout: 1000 });
        try {
            await store.putRegistrations([makeRegistration('before@example.test')]);

            // Failover: the replica is promoted, the old master becomes its replica, the address leads to the new master.
            await toReplica.replicaof('NO', 'ONE');
            await toMaster.replicaof('127.0.0.1', replica.port);
            target = replica.port;

            const after = makeRegistration('after@example.test');
            const errors: string[] = [];
            for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
                try {
                    await store.putRegistrations([after]);
                    break;
                }
                catch (error) {
                    errors.push((error as Error).message);
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
            }

            // The first write after the failover is resent to the new master, not failed.
            expect(errors).to.equal([]);
            expect(await toReplica.hget(store.keys.registrations(after.name), after.keyId)).to.equal(JSON.stringify(after));
            await store.enqueue(['enqueued@example.test']);
            expect(await toReplica.zscore(store.keys.pending, 'enqueued@example.test')).to.not.be.null();
        }
        finally {
            await store.close();
            toMaster.disconnect();
            toReplica.disconnect();
            for (const socket of sockets) {
                socket.destroy();
            }

            await new Promise((resolve) => proxy.close(resolve));
            await Promise.all([master.stop(), replica.stop()]);
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
