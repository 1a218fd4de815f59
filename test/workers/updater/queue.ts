/**
 * Queue semantics as the updater sees them, on both stores: several workers share one
 * queue without double or lost work, changes to a waiting name coalesce into one
 * signing, and a job that keeps failing is given up visibly (dead letter), not dropped.
 */
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { loadDomainSigningKey } from '../../../lib/keys';
import { EmbeddedStore, RedisStore } from '../../../lib/store';
import type { Store } from '../../../lib/store/types';
import { NameSigner, Updater, publishedDomainKeys } from '../../../workers/updater';
import { makeDomain, makeRegistration, overrideStore, type TestDomain } from '../../helpers/domain';
import { startRedisCluster, type RedisCluster } from '../../helpers/redis-cluster';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Backend {
    /** A new handle on the same queue, as a second worker process would open. */
    handle(): Store;
}

function queueSuite(label: string, makeBackend: (domain: TestDomain) => Promise<Backend & { cleanup(): Promise<void> }>): void {

    describe(`updater queue (${label} store)`, () => {

        let domain: TestDomain;
        let backend: Backend & { cleanup(): Promise<void> };
        const handles: Store[] = [];

        before(async () => {

            domain = await makeDomain();
            backend = await makeBackend(domain);
        });

        after(async () => {

            await Promise.all(handles.map((handle) => handle.close()));
            await backend.cleanup();
            await domain.cleanup();
        });

        const worker = (signings: Map<string, number>, extra: { failing?: Set<string>; maxAttempts?: number } = {}) => {

            const store = backend.handle();
            handles.push(store);
            const signer = new NameSigner({ store, domain: domain.domain, ksk: loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk'), published: publishedDomainKeys(domain.dataDir, domain.domain), policy: { validity: 3600_000, refreshBefore: 600_000, retention: 86400_000 } });
            const sign = signer.sign.bind(signer);
            signer.sign = async (name: string) => {

                if (extra.failing?.has(name)) {
                    throw new Error(`cannot sign ${name}`);
                }

                signings.set(name, (signings.get(name) ?? 0) + 1);
                return sign(name);
            };

            return { store, updater: new Updater({ store, signer, batchSize: 25, lease: 30_000, pollInterval: 10, ...(extra.maxAttempts !== undefined ? { maxAttempts: extra.maxAttempts } : {}) }) };
        };

        it('shares the queue between two workers: each name signed once per change, none lost', async () => {

            const signings = new Map<string, number>();
            const first = worker(signings);
            const second = worker(signings);
            const names = Array.from({ length: 300 }, (_, i) => `user${i}@example.test`);
            const key = makeRegistration('x@example.test');
            await first.store.putRegistrations(names.map((name) => ({ ...key, name })));

            const [a, b] = await Promise.all([first.updater.drain(), second.updater.drain()]);
            expect(a.processed + b.processed).to.equal(300);
            // Both took part, and every name was signed exactly once.
            expect(Math.min(a.processed, b.processed)).to.be.above(0);
            expect(names.map((name) => signings.get(name))).to.equal(names.map(() => 1));
            for (const name of names.slice(0, 5)) {
                expect(await first.store.getDocument(name, 'list')).to.exist();
            }

            // Ten changes to one name while it waits: one more signing, by one worker.
            for (let i = 0; i < 10; ++i) {
                await second.store.putRegistrations([makeRegistration('user7@example.test')]);
            }

            await Promise.all([first.updater.drain(), second.updater.drain()]);
            expect(signings.get('user7@example.test')).to.equal(2);
            expect(names.filter((name) => signings.get(name) !== (name === 'user7@example.test' ? 2 : 1))).to.equal([]);
            // The one signing saw all ten changes.
            const list = (await first.store.getDocument('user7@example.test', 'list'))!.body;
            for (const registration of await first.store.getRegistrations('user7@example.test')) {
                expect(list).to.contain(registration.keyId);
            }
        });

        it('never publishes what a signer read before a newer change (a lapsed lease, a paused process)', async () => {

            // A signer that read a name, then stalled past its lease, must not write over what
            // was published since: here it would bring back a revoked key.
            const current = worker(new Map());
            const paused = backend.handle();
            handles.push(paused);
            let release!: () => void;
            const gate = new Promise<void>((resolve) => {

                release = resolve;
            });
            let stalled!: () => void;
            const atWrite = new Promise<void>((resolve) => {

                stalled = resolve;
            });
            const gated = overrideStore(paused, {
                updateDocuments: async (...args: Parameters<Store['updateDocuments']>) => {

                    stalled();
                    await gate;
                    return await paused.updateDocuments(...args);
                }
            });
            const late = new NameSigner({ store: gated, domain: domain.domain, ksk: loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk'), published: publishedDomainKeys(domain.dataDir, domain.domain), policy: { validity: 3600_000, refreshBefore: 600_000, retention: 86400_000 } });

            const name = 'revoked-meanwhile@example.test';
            const kept = makeRegistration(name);
            const revoked = makeRegistration(name);
            await current.store.putRegistrations([kept]);
            await current.updater.drain();

            // The paused signer reads the second key while it is active, then stalls.
            await current.store.putRegistrations([revoked]);
            const stale = late.sign(name);
            await atWrite;
            await current.store.putRegistrations([{ ...revoked, revokedAt: Date.now() }]);
            await current.updater.drain();
            release();
            const result = await stale;
            expect(result.superseded).to.be.true();

            const list = (await current.store.getDocument(name, 'list'))!.body;
            expect(list).to.contain(kept.keyId);
            expect(list).to.not.contain(revoked.keyId);
            expect((await current.store.getDocument(name, `key:${revoked.keyId}`))!.body).to.contain('<Status>revoked</Status>');
        });

        it('retries with backoff, then gives a job up visibly, and signs it once retried', async () => {

            const signings = new Map<string, number>();
            const failing = new Set(['broken@example.test']);
            const { store, updater } = worker(signings, { failing, maxAttempts: 3 });
            await store.putRegistrations([makeRegistration('broken@example.test')]);

            let outcome = await updater.runBatch();
            expect(outcome).to.equal({ processed: 0, failed: 1 });
            // Backing off: not due again at once, still queued.
            expect(await updater.runBatch()).to.equal({ processed: 0, failed: 0 });

            const deadline = Date.now() + 10_000;
            while ((await store.failedJobs()).length === 0 && Date.now() < deadline) {
                outcome = await updater.runBatch();
                await sleep(50);
            }

            const [failed] = await store.failedJobs();
            expect(failed).to.include({ name: 'broken@example.test', attempts: 3, reason: 'cannot sign broken@example.test' });
            // Given up: out of the queue (no spinning), but listed.
            expect(await store.claim(10, 1000)).to.equal([]);

            failing.clear();
            expect(await store.retryFailed()).to.equal(1);
            expect(await updater.drain()).to.equal({ processed: 1, failed: 0 });
            expect(signings.get('broken@example.test')).to.equal(1);
            expect(await store.failedJobs()).to.equal([]);
        });
    });
}

queueSuite('embedded', async (domain) => {

    const path = Path.join(domain.dataDir, 'queue.sqlite');
    return { handle: () => new EmbeddedStore({ path }), cleanup: async () => {} };
});

let redis: RedisServer | null = null;
queueSuite('redis', async () => {

    redis = await startRedisServer();
    const url = redis.url;
    return {
        handle: () => new RedisStore({ url, keyPrefix: `iks-queue-${process.pid}` }),
        cleanup: async () => {

            await redis?.stop();
        }
    };
});

let cluster: RedisCluster | null = null;
queueSuite('redis cluster', async () => {

    cluster = await startRedisCluster();
    const url = cluster.url;
    return {
        handle: () => new RedisStore({ url, cluster: true, keyPrefix: `iks-queue-${process.pid}` }),
        cleanup: async () => {

            await cluster?.stop();
        }
    };
});
