/**
 * The store contract (lib/store/types.ts), one suite run against every backend.
 */
import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { RegistrationsChanged } from '../../lib/errors';
import type { Store, StoredDocument } from '../../lib/store/types';
import { makeRegistration } from '../helpers/domain';

export interface ContractBackend {
    readonly store: Store;
    cleanup(): Promise<void>;
}

// A fixed signing time keeps expected and stored documents equal whenever they are built.
const signedAt = Date.now();
const document = (body: string, notAfter = signedAt + 60_000): StoredDocument => ({ body, etag: `"${body.length}"`, signedAt, notAfter });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function storeContract(lab: ReturnType<typeof Lab.script>, label: string, makeStore: () => Promise<ContractBackend>): void {

    const { describe, it, beforeEach, afterEach } = lab;

    describe(`store contract (${label})`, () => {

        let backend: ContractBackend;
        let store: Store;

        beforeEach(async () => {

            backend = await makeStore();
            store = backend.store;
        });

        afterEach(async () => {

            await backend.cleanup();
        });

        it('answers ping', async () => {

            await store.ping();
        });

        it('round-trips registrations with and without optional fields, and enqueues their names', async () => {

            const plain = makeRegistration('bob@example.test');
            const full = makeRegistration('bob@example.test', 'ec', { expiresAt: Date.now() + 1000, revokedAt: Date.now(), revocationReason: 'superseded', usage: ['sign', 'iks-auth'] });
            await store.putRegistrations([plain, full]);
            await store.putRegistrations([]);
            const stored = await store.getRegistrations('bob@example.test');
            expect(stored.sort((a, b) => a.keyId.localeCompare(b.keyId))).to.equal([plain, full].sort((a, b) => a.keyId.localeCompare(b.keyId)));
            expect(await store.getRegistration('bob@example.test', full.keyId)).to.equal(full);
            expect(await store.getRegistration('bob@example.test', '0000000000000000')).to.be.null();
            expect(await store.getRegistrations('nobody@example.test')).to.equal([]);
            expect((await store.claim(10, 1000)).map((job) => job.name)).to.equal(['bob@example.test']);
        });

        it('never overwrites a revoked registration, alone or among others, and says which it left', async () => {

            const active = makeRegistration('bob@example.test');
            const revoked = { ...active, revokedAt: Date.now() - 1000, revocationReason: 'keyCompromise' };
            const other = makeRegistration('carol@example.test');
            expect(await store.putRegistrations([active])).to.equal([]);
            expect(await store.putRegistrations([revoked])).to.equal([]);

            // A registration read before the revocation, written after it (a racing re-register).
            expect(await store.putRegistrations([{ ...active, usage: ['sign', 'iks-auth'] }])).to.equal([{ ...active, usage: ['sign', 'iks-auth'] }]);
            // A second revocation: the first one stands.
            const again = { ...revoked, revokedAt: Date.now(), revocationReason: 'superseded' };
            expect(await store.putRegistrations([again])).to.equal([again]);
            expect(await store.getRegistration('bob@example.test', active.keyId)).to.equal(revoked);

            // Several names in one write (an import): the others are written.
            const bobsNew = makeRegistration('bob@example.test', 'ec');
            expect(await store.putRegistrations([other, active, bobsNew])).to.equal([active]);
            expect(await store.getRegistration('carol@example.test', other.keyId)).to.equal(other);
            expect(await store.getRegistration('bob@example.test', bobsNew.keyId)).to.equal(bobsNew);
            expect(await store.getRegistration('bob@example.test', active.keyId)).to.equal(revoked);
        });

        it('purges registrations at the version read, enqueues the name only when any existed, and never deletes a change made since', async () => {

            const name = 'bob@example.test';
            const [first, second, third] = [makeRegistration(name), makeRegistration(name), makeRegistration(name)];
            await store.putRegistrations([first, second, third]);
            const [job] = await store.claim(10, 1000);
            await store.ack(job!);
            const { version } = await store.readForSigning(name);
            expect(await store.purgeRegistrations(name, [first.keyId, second.keyId, '0000000000000000'], version)).to.equal(2);
            expect(await store.getRegistrations(name)).to.equal([third]);
            expect(await store.queueDepth()).to.equal(1);

            // Nothing to remove: no new version, nothing queued.
            const [again] = await store.claim(10, 1000);
            await store.ack(again!);
            const after = (await store.readForSigning(name)).version;
            expect(await store.purgeRegistrations(name, [first.keyId], after)).to.equal(0);
            expect(await store.purgeRegistrations(name, [], after)).to.equal(0);
            expect((await store.readForSigning(name)).version).to.equal(after);
            expect(await store.queueDepth()).to.equal(0);

            // A re-registration of a key id between the read and the purge stays.
            await store.putRegistrations([first]);
            expect(await store.purgeRegistrations(name, [first.keyId, third.keyId], after)).to.be.null();
            expect(await store.getRegistrations(name)).to.equal([first, third].sort((a, b) => a.keyId.localeCompare(b.keyId)));
        });

        it('reads a name for signing in one step, and stores its documents only at the version they were built from', async () => {

            const name = 'bob@example.test';
            const sourced = (body: string, source: string) => ({ document: document(body), source });
            expect(await store.readForSigning(name)).to.equal({ registrations: [], version: 0, sources: new Map() });

            const first = makeRegistration(name);
            await store.putRegistrations([first]);
            const read = await store.readForSigning(name);
            expect(read.registrations).to.equal([first]);
            expect(read.version).to.be.above(0);
            expect(await store.updateDocuments(name, new Map([['list', sourced('<l1/>', 'src-l1')]]), [], read.version)).to.be.true();
            expect((await store.readForSigning(name)).sources).to.equal(new Map([['list', { source: 'src-l1', notAfter: signedAt + 60_000 }]]));

            // Every change advances the version; documents built before it are not stored.
            const second = makeRegistration(name);
            await store.putRegistrations([second]);
            const changed = (await store.readForSigning(name)).version;
            expect(changed).to.be.above(read.version);
            expect(await store.updateDocuments(name, new Map([['list', sourced('<stale/>', 'src-stale')]]), [], read.version)).to.be.false();
            expect((await store.getDocument(name, 'list'))!.body).to.equal('<l1/>');

            // A write that changes nothing (a revoked key stays as it is) leaves the version.
            await store.putRegistrations([{ ...first, revokedAt: Date.now() }]);
            const revoked = (await store.readForSigning(name)).version;
            expect(revoked).to.be.above(changed);
            expect(await store.putRegistrations([first])).to.equal([first]);
            expect((await store.readForSigning(name)).version).to.equal(revoked);

            // A purge advances it, a purge of nothing does not, and it never goes back to one
            // handed out before, not even once the name has no registrations left.
            expect(await store.purgeRegistrations(name, [first.keyId], revoked)).to.equal(1);
            expect(await store.purgeRegistrations(name, [first.keyId], revoked + 1)).to.equal(0);
            expect(await store.purgeRegistrations(name, [second.keyId], revoked + 1)).to.equal(1);
            const empty = await store.readForSigning(name);
            expect(empty.registrations).to.equal([]);
            expect(empty.version).to.equal(revoked + 2);
            expect(await store.updateDocuments(name, new Map(), [], revoked)).to.be.false();
            expect(await store.updateDocuments(name, new Map(), [], empty.version)).to.be.true();
            expect(await store.getDocument(name, 'list')).to.be.null();

            // Names are counted apart.
            expect((await store.readForSigning('carol@example.test')).version).to.equal(0);
        });

        it('writes registrations decided on a read only at the version read, and nothing after a change (nothing due for signing)', async () => {

            const name = 'bob@example.test';
            expect(await store.readRegistrations(name)).to.equal({ registrations: [], version: 0 });
            const first = makeRegistration(name);
            expect(await store.putRegistrations([first], { ifVersion: 0 })).to.equal([]);
            const read = await store.readRegistrations(name);
            expect(read.registrations).to.equal([first]);
            expect(read.version).to.equal((await store.readForSigning(name)).version);
            const [job] = await store.claim(10, 1000);
            await store.ack(job!);

            // A change lands between the read and the conditional write: nothing is written.
            const second = makeRegistration(name);
            await store.putRegistrations([second]);
            const [changed] = await store.claim(10, 1000);
            await store.ack(changed!);
            const third = makeRegistration(name);
            await expect(store.putRegistrations([third], { ifVersion: read.version })).to.reject(RegistrationsChanged);
            expect(await store.getRegistration(name, third.keyId)).to.be.null();
            // (A cluster queues its intent ahead, then the write: see putRegistrations in redis.ts.)
            expect(await store.claim(10, 1000)).to.equal([]);
            const now = await store.readRegistrations(name);
            expect(now.version).to.be.above(read.version);
            expect(now.registrations).to.equal([first, second].sort((a, b) => a.keyId.localeCompare(b.keyId)));

            // At the version read now it lands, and advances it; a revoked key still stays revoked.
            expect(await store.putRegistrations([third], { ifVersion: now.version })).to.equal([]);
            expect((await store.readRegistrations(name)).version).to.equal(now.version + 1);
            await store.putRegistrations([{ ...first, revokedAt: Date.now() }]);
            const revoked = await store.readRegistrations(name);
            expect(await store.putRegistrations([first], { ifVersion: revoked.version })).to.equal([first]);

            // One name only.
            await expect(store.putRegistrations([makeRegistration(name), makeRegistration('carol@example.test')], { ifVersion: 0 })).to.reject(/one name/);
        });

        it('lists every name with registrations', async () => {

            await store.putRegistrations([makeRegistration('a@example.test'), makeRegistration('b@example.test'), makeRegistration('b@example.test')]);
            const names: string[] = [];
            for await (const name of store.scanNames()) {
                names.push(name);
            }

            expect(names.sort()).to.equal(['a@example.test', 'b@example.test']);
        });

        it('stores documents, replaces the whole set of a name, and removes it with an empty map', async () => {

            await store.putDocument('bob@example.test', 'list', document('<old/>'));
            await store.putDocument('bob@example.test', 'key:1', document('<k1/>'));
            expect(await store.getDocument('bob@example.test', 'list')).to.equal(document('<old/>', (await store.getDocument('bob@example.test', 'list'))!.notAfter));

            const body = '<KeyList>\nline two\n</KeyList>';
            const list = document(body);
            await store.replaceDocuments('bob@example.test', new Map([['list', list], ['key:2', document('<k2/>')]]));
            expect(await store.getDocument('bob@example.test', 'list')).to.equal(list);
            expect(await store.getDocument('bob@example.test', 'key:1')).to.be.null();
            expect(await store.getDocument('bob@example.test', 'key:2')).to.exist();

            await store.replaceDocuments('bob@example.test', new Map());
            expect(await store.getDocument('bob@example.test', 'list')).to.be.null();
            expect(await store.getDocument('nobody@example.test', 'list')).to.be.null();
        });

        it('updates a name\'s documents in place: new ones with their sources, kept ones untouched, the rest removed', async () => {

            const name = 'carol@example.test';
            const sourced = (body: string, source: string) => ({ document: document(body), source });
            // carol has no registrations: version 0.
            await store.updateDocuments(name, new Map([['list', sourced('<l1/>', 'src-l1')], ['key:1', sourced('<k1/>', 'src-k1')], ['key:2', sourced('<k2/>', 'src-k2')]]), [], 0);
            const k1 = await store.getDocument(name, 'key:1');
            expect((await store.readForSigning(name)).sources.get('key:1')).to.equal({ source: 'src-k1', notAfter: k1!.notAfter });
            expect([...(await store.readForSigning(name)).sources.keys()].sort()).to.equal(['key:1', 'key:2', 'list']);

            // A new list and key:3; key:1 kept as it is; key:2 neither written nor kept: removed.
            await store.updateDocuments(name, new Map([['list', sourced('<l2/>', 'src-l2')], ['key:3', sourced('<k3/>', 'src-k3')]]), ['key:1'], 0);
            expect((await store.getDocument(name, 'list'))!.body).to.equal('<l2/>');
            expect(await store.getDocument(name, 'key:1')).to.equal(k1);
            expect(await store.getDocument(name, 'key:2')).to.be.null();
            const sources = (await store.readForSigning(name)).sources;
            expect([...sources.keys()].sort()).to.equal(['key:1', 'key:3', 'list']);
            expect(sources.get('list')!.source).to.equal('src-l2');

            // Documents written any other way carry no source, so they are never reused.
            await store.putDocument(name, 'key:1', document('<k1b/>'));
            expect((await store.readForSigning(name)).sources.has('key:1')).to.be.false();
            await store.replaceDocuments(name, new Map([['list', document('<l3/>')]]));
            expect((await store.readForSigning(name)).sources).to.equal(new Map());
            expect(await store.getDocument(name, 'key:3')).to.be.null();

            // Keeping nothing and writing nothing removes every document.
            await store.updateDocuments(name, new Map(), [], 0);
            expect(await store.getDocument(name, 'list')).to.be.null();
            expect((await store.readForSigning('nobody@example.test')).sources).to.equal(new Map());
        });

        it('coalesces a name enqueued many times into one job', async () => {

            for (let i = 0; i < 10; ++i) {
                await store.enqueue(['bob@example.test']);
            }

            await store.enqueue([]);
            const jobs = await store.claim(10, 1000);
            expect(jobs.map((job) => [job.name, job.attempts])).to.equal([['bob@example.test', 1]]);
            expect(await store.claim(10, 1000)).to.equal([]);
        });

        it('keeps the earlier due time and does not hand out names before they are due', async () => {

            await store.enqueue(['later@example.test'], Date.now() + 60_000);
            await store.enqueue(['sooner@example.test'], Date.now() + 60_000);
            await store.enqueue(['sooner@example.test'], Date.now() - 1);
            await store.enqueue(['sooner@example.test'], Date.now() + 120_000);
            expect((await store.claim(10, 1000)).map((job) => job.name)).to.equal(['sooner@example.test']);
            expect(await store.queueDepth()).to.equal(2);
        });

        it('reports the earliest due time among names waiting, leased ones aside (monitoring)', async () => {

            expect(await store.earliestDue()).to.be.null();
            const now = Date.now();
            await store.enqueue(['later@example.test'], now + 60_000);
            await store.enqueue(['overdue@example.test'], now - 5_000);
            expect(await store.earliestDue()).to.equal(now - 5_000);
            expect((await store.claim(10, 60_000)).map((job) => job.name)).to.equal(['overdue@example.test']);
            expect(await store.earliestDue()).to.equal(now + 60_000);
        });

        it('claims at most max names', async () => {

            await store.enqueue(['a@example.test', 'b@example.test', 'c@example.test']);
            expect(await store.claim(2, 1000)).to.have.length(2);
            expect(await store.claim(2, 1000)).to.have.length(1);
        });

        it('delivers a name again when its lease lapses, counting attempts', async () => {

            await store.enqueue(['bob@example.test']);
            const [first] = await store.claim(10, 30);
            expect(await store.claim(10, 30)).to.equal([]);
            await sleep(60);
            const [second] = await store.claim(10, 1000);
            expect(second!.name).to.equal('bob@example.test');
            expect(second!.attempts).to.equal(2);

            // The first worker's lease is gone: its ack changes nothing.
            await store.ack(first!);
            expect(await store.queueDepth()).to.equal(1);
            await store.ack(second!);
            expect(await store.queueDepth()).to.equal(0);
        });

        it('keeps a name queued when it was enqueued again while leased', async () => {

            await store.enqueue(['bob@example.test']);
            const [job] = await store.claim(10, 60_000);
            await store.enqueue(['bob@example.test'], Date.now() + 50);
            // Not handed to a second worker while the first still holds it.
            expect(await store.claim(10, 60_000)).to.equal([]);
            await store.ack(job!);
            expect(await store.queueDepth()).to.equal(1);
            await sleep(80);
            const [again] = await store.claim(10, 1000);
            expect(again!.name).to.equal('bob@example.test');
            expect(again!.attempts).to.equal(1);
        });

        it('gives a failed job back at its retry time', async () => {

            await store.enqueue(['bob@example.test']);
            const [job] = await store.claim(10, 60_000);
            await store.fail(job!, Date.now() + 50);
            expect(await store.claim(10, 1000)).to.equal([]);
            await sleep(80);
            const [retry] = await store.claim(10, 1000);
            expect(retry!.attempts).to.equal(2);
            await store.fail({ ...retry!, lease: 'not-the-lease' }, Date.now());
            expect(await store.claim(10, 1000)).to.equal([]);
        });

        it('refuses a due time that is not a finite number before writing: the job stays leased and can be given back', async () => {

            await store.enqueue(['bob@example.test']);
            const [job] = await store.claim(10, 60_000);
            for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
                await expect(store.ack(job!, bad)).to.reject(RangeError, /finite/);
                await expect(store.enqueue(['bob@example.test', 'carol@example.test'], bad)).to.reject(RangeError, /finite/);
                await expect(store.fail(job!, bad)).to.reject(RangeError, /finite/);
            }

            // Still leased (not half-finished, not queued at a NaN time): only its holder can give it back.
            expect(await store.queueDepth()).to.equal(1);
            expect(await store.claim(10, 60_000)).to.equal([]);
            await store.fail(job!, Date.now());
            const [retry] = await store.claim(10, 60_000);
            expect(retry!.name).to.equal('bob@example.test');
            expect(retry!.attempts).to.equal(2);
            await store.ack(retry!);
            expect(await store.queueDepth()).to.equal(0);
        });

        it('leases one name on request, consuming its waiting job and keeping changes made meanwhile', async () => {

            await store.enqueue(['bob@example.test'], Date.now() + 60_000);
            const job = await store.claimName('bob@example.test', 60_000);
            expect(job).to.include({ name: 'bob@example.test', attempts: 1 });
            // Held: neither the loop nor another inline signer gets it.
            expect(await store.claimName('bob@example.test', 60_000)).to.be.null();
            expect(await store.claim(10, 1000)).to.equal([]);
            await store.ack(job!);
            expect(await store.queueDepth()).to.equal(0);

            // A name that was not queued at all can be leased too; a change during the lease survives the ack.
            const fresh = await store.claimName('carol@example.test', 60_000);
            await store.enqueue(['carol@example.test']);
            await store.ack(fresh!);
            expect((await store.claim(10, 1000)).map((claimed) => claimed.name)).to.equal(['carol@example.test']);

            // A lapsed lease can be taken over.
            await store.claimName('dave@example.test', 20);
            await sleep(40);
            expect(await store.claimName('dave@example.test', 60_000)).to.include({ name: 'dave@example.test', attempts: 2 });
        });

        it('lists buried jobs until they are retried, and keeps a change made while the job was leased', async () => {

            await store.enqueue(['bob@example.test', 'carol@example.test']);
            const jobs = await store.claim(10, 60_000);
            const bob = jobs.find((job) => job.name === 'bob@example.test')!;
            const carol = jobs.find((job) => job.name === 'carol@example.test')!;
            await store.bury({ ...bob, lease: 'not-the-lease' }, 'ignored');
            expect(await store.failedJobs()).to.equal([]);

            await store.bury(bob, 'KSK unreadable');
            await store.enqueue(['carol@example.test']);
            await store.bury(carol, 'disk full');
            const failed = await store.failedJobs();
            expect(failed.map((job) => [job.name, job.attempts, job.reason])).to.equal([['bob@example.test', 1, 'KSK unreadable'], ['carol@example.test', 1, 'disk full']]);
            expect(failed[0]!.failedAt).to.be.about(Date.now(), 5000);

            // bob left the queue; carol's later change is still queued.
            expect((await store.claim(10, 60_000)).map((job) => job.name)).to.equal(['carol@example.test']);
            expect(await store.retryFailed()).to.equal(2);
            expect(await store.failedJobs()).to.equal([]);
            const [again] = await store.claim(10, 60_000);
            expect(again!.name).to.equal('bob@example.test');

            // A later success clears the dead letter.
            await store.bury(again!, 'still failing');
            await store.enqueue(['bob@example.test']);
            const [last] = await store.claim(10, 60_000);
            await store.ack(last!);
            expect(await store.failedJobs()).to.equal([]);
        });

        it('never gives one name to two concurrent claimers', async () => {

            const names = Array.from({ length: 50 }, (_, i) => `user${i}@example.test`);
            await store.enqueue(names);
            const batches = await Promise.all([store.claim(30, 60_000), store.claim(30, 60_000), store.claim(30, 60_000)]);
            const claimed = batches.flat().map((job) => job.name);
            expect(claimed).to.have.length(50);
            expect(new Set(claimed).size).to.equal(50);
        });

        it('remembers a nonce per name until it expires, refusing it meanwhile', async () => {

            expect(await store.rememberNonce('bob@example.test', 'n0nce-aaaaaaaaaaaa', Date.now() + 60_000)).to.be.true();
            expect(await store.rememberNonce('bob@example.test', 'n0nce-aaaaaaaaaaaa', Date.now() + 60_000)).to.be.false();
            // The same nonce of another name is another request.
            expect(await store.rememberNonce('alice@example.test', 'n0nce-aaaaaaaaaaaa', Date.now() + 60_000)).to.be.true();

            expect(await store.rememberNonce('bob@example.test', 'short-lived-nonce', Date.now() + 30)).to.be.true();
            await sleep(60);
            expect(await store.rememberNonce('bob@example.test', 'short-lived-nonce', Date.now() + 60_000)).to.be.true();
            expect(await store.rememberNonce('bob@example.test', 'short-lived-nonce', Date.now() + 60_000)).to.be.false();
        });

        it('gives exactly one of many concurrent deliveries of a nonce', async () => {

            const results = await Promise.all(Array.from({ length: 20 }, () => store.rememberNonce('bob@example.test', 'concurrent-nonce-1', Date.now() + 60_000)));
            expect(results.filter(Boolean)).to.have.length(1);
        });

        it('counts attempts per subject, gives refunded ones back, and locks out past the limit until reset', async () => {

            const limiter = store.failureLimiter({ kind: 'test', maxFailures: 2, windowSeconds: 60, lockoutSeconds: 120 });
            expect(await limiter.lockedFor('bob@example.test')).to.equal(0);
            expect(await limiter.attempt('bob@example.test')).to.equal(0);
            await limiter.refund('bob@example.test');          // a success gives its attempt back
            expect(await limiter.attempt('bob@example.test')).to.equal(0);
            expect(await limiter.attempt('bob@example.test')).to.equal(0);
            expect(await limiter.lockedFor('bob@example.test')).to.equal(0);

            const lockout = await limiter.attempt('bob@example.test');
            expect(lockout).to.be.above(100_000).and.at.most(120_000);
            expect(await limiter.lockedFor('bob@example.test')).to.be.above(100_000);
            expect(await limiter.lockedFor('alice@example.test')).to.equal(0);

            // Counters of another kind are separate; another handle on the store sees the same counter.
            expect(await store.failureLimiter({ kind: 'other', maxFailures: 2, windowSeconds: 60, lockoutSeconds: 120 }).lockedFor('bob@example.test')).to.equal(0);
            expect(await store.failureLimiter({ kind: 'test', maxFailures: 2, windowSeconds: 60, lockoutSeconds: 120 }).lockedFor('bob@example.test')).to.be.above(0);

            await limiter.reset('bob@example.test');
            expect(await limiter.lockedFor('bob@example.test')).to.equal(0);
        });

        it('counts every one of many concurrent attempts: no more than the limit get through', async () => {

            const limiter = store.failureLimiter({ kind: 'burst', maxFailures: 3, windowSeconds: 60, lockoutSeconds: 120 });
            const lockouts = await Promise.all(Array.from({ length: 40 }, () => limiter.attempt('carol@example.test')));
            expect(lockouts.filter((ms) => ms === 0)).to.have.length(3);
        });

        it('tells queue listeners when a name is queued for now, and stops when asked', async () => {

            let calls = 0;
            const stop = store.onQueued(() => {

                calls++;
            });

            // Redis subscribes in the background: queue until the first signal arrives,
            // then let any signal still in flight land before counting.
            for (const deadline = Date.now() + 5000; calls === 0 && Date.now() < deadline;) {
                await store.enqueue(['first@example.test']);
                await sleep(20);
            }

            expect(calls).to.be.above(0);
            await sleep(100);
            const base = calls;

            // Signals arrive in order: when the registration's shows, a signal for the
            // name queued for later would have shown before it.
            await store.enqueue(['later@example.test'], Date.now() + 60_000);
            const registration = makeRegistration('bob@example.test');
            await store.putRegistrations([registration]);
            for (const deadline = Date.now() + 5000; calls === base && Date.now() < deadline;) {
                await sleep(5);
            }

            await sleep(100);
            expect(calls).to.equal(base + 1);

            stop();
            await store.purgeRegistrations('bob@example.test', [registration.keyId], (await store.readForSigning('bob@example.test')).version);
            await store.enqueue(['after@example.test']);
            await sleep(100);
            expect(calls).to.equal(base + 1);
        });

        it('round-trips users', async () => {

            const user = { name: 'alice@example.test', passwordHash: 'scrypt$abc', disabled: false, createdAt: Date.now() };
            expect(await store.getUser(user.name)).to.be.null();
            await store.putUser(user);
            expect(await store.getUser(user.name)).to.equal(user);
            await store.putUser({ ...user, disabled: true });
            expect((await store.getUser(user.name))!.disabled).to.be.true();
        });
    });
}
