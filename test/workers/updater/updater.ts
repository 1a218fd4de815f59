import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { loadDomainSigningKey } from '../../../lib/keys';
import type { Store } from '../../../lib/store/types';
import { NameSigner, Updater, createUpdater, publishedDomainKeys } from '../../../workers/updater';
import { makeDomain, makeRegistration, overrideStore, type TestDomain } from '../../helpers/domain';

export const lab = Lab.script();
const { describe, it, beforeEach, afterEach } = lab;

describe('Updater', () => {

    let domain: TestDomain;

    beforeEach(async () => {

        domain = await makeDomain();
    });

    afterEach(async () => {

        await domain.cleanup();
    });

    const signerFor = (store: Store, policy = { validity: 3600_000, refreshBefore: 600_000, retention: 86400_000 }, reuse = true) => new NameSigner({
        store,
        domain: domain.domain,
        ksk: loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk'),
        published: publishedDomainKeys(domain.dataDir, domain.domain),
        policy,
        reuse
    });

    const updaterFor = (store: Store, extra: Partial<ConstructorParameters<typeof Updater>[0]> = {}) => new Updater({
        store,
        signer: signerFor(store),
        batchSize: 10,
        lease: 30_000,
        pollInterval: 10,
        ...extra
    });

    it('signs queued names, then schedules their re-sign instead of leaving them due', async () => {

        const { store } = domain;
        await store.putRegistrations([makeRegistration('alice@example.test'), makeRegistration('bob@example.test')]);
        await store.enqueue([domain.domain]);

        const updater = updaterFor(store);
        expect(await updater.drain()).to.equal({ processed: 3, failed: 0 });
        expect(await store.getDocument('alice@example.test', 'list')).to.exist();
        expect(await store.getDocument(domain.domain, 'rsk')).to.exist();
        expect(await store.getDocument(domain.domain, 'enc')).to.exist();

        // Nothing is due now; the re-signs wait in the queue for their time.
        expect(await updater.runBatch()).to.equal({ processed: 0, failed: 0 });
        expect(await store.queueDepth()).to.equal(3);
    });

    it('is idempotent and removes the documents of a name whose keys are gone', async () => {

        const { store } = domain;
        const registration = makeRegistration('bob@example.test');
        await store.putRegistrations([registration]);
        const updater = updaterFor(store);
        await updater.processName('bob@example.test');
        await updater.processName('bob@example.test');
        expect(await store.getDocument('bob@example.test', `key:${registration.keyId}`)).to.exist();

        await store.purgeRegistrations('bob@example.test', [registration.keyId], (await store.readForSigning('bob@example.test')).version);
        await updater.drain();
        expect(await store.getDocument('bob@example.test', 'list')).to.be.null();
        expect(await store.getDocument('bob@example.test', `key:${registration.keyId}`)).to.be.null();
    });

    it('never purges a registration made again while its name was being signed, and publishes it', async () => {

        const { store } = domain;
        const name = 'dora@example.test';
        const second = Math.floor(Date.now() / 1000) * 1000;
        // Expired long enough ago that its retention (1 s here) is over: due to be purged.
        const expired = makeRegistration(name, 'ed25519', { expiresAt: second - 5000 });
        await store.putRegistrations([expired]);
        // Its owner registers it again (no expiry now) between the signer's read and its purge.
        const again = { ...expired, registeredAt: second };
        delete (again as { expiresAt?: number }).expiresAt;
        const racing = overrideStore(store, {
            purgeRegistrations: async (...args: Parameters<Store['purgeRegistrations']>) => {

                await store.putRegistrations([again]);
                return await store.purgeRegistrations(...args);
            }
        });

        const result = await signerFor(racing, { validity: 3600_000, refreshBefore: 600_000, retention: 1000 }).sign(name);
        expect(result.superseded).to.be.false();
        expect(await store.getRegistrations(name)).to.equal([again]);
        expect((await store.getDocument(name, 'list'))!.body).to.contain(expired.keyId);
    });

    it('re-signs only the documents a change touches, and all of them when asked to (--resign-all)', async () => {

        const { store } = domain;
        const first = makeRegistration('bob@example.test');
        await store.putRegistrations([first]);
        const updater = updaterFor(store);
        await updater.drain();
        const firstDocument = await store.getDocument('bob@example.test', `key:${first.keyId}`);
        const firstList = await store.getDocument('bob@example.test', 'list');

        // A second key, a second later (documents state whole seconds).
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const second = makeRegistration('bob@example.test', 'ec');
        await store.putRegistrations([second]);
        await updater.drain();
        expect(await store.getDocument('bob@example.test', `key:${first.keyId}`)).to.equal(firstDocument);
        expect((await store.getDocument('bob@example.test', 'list'))!.signedAt).to.be.above(firstList!.signedAt);
        expect(await store.getDocument('bob@example.test', `key:${second.keyId}`)).to.exist();

        // A signer without reuse signs every document again.
        const full = updaterFor(store, { signer: signerFor(store, undefined, false) });
        await full.processName('bob@example.test');
        expect((await store.getDocument('bob@example.test', `key:${first.keyId}`))!.signedAt).to.be.above(firstDocument!.signedAt);
    });

    it('publishes a name without a stored registration no document can carry, and reports it', async () => {

        const { store } = domain;
        const good = makeRegistration('carl@example.test');
        // What an older version or a damaged store may hold: a comment with a line separator.
        const bad = { ...makeRegistration('carl@example.test', 'ec'), container: 'ssh-ed25519 AAAA me\u2028host' };
        await store.putRegistrations([good, bad]);

        const errors: string[] = [];
        const updater = updaterFor(store, { onError: (error, name) => errors.push(`${name}: ${(error as Error).message}`) });
        expect(await updater.drain()).to.equal({ processed: 1, failed: 0 });
        expect(errors).to.have.length(1);
        expect(errors[0]!).to.startWith(`carl@example.test: key ${bad.keyId} is left out of the published documents: Document field key.container contains a character`);

        const list = (await store.getDocument('carl@example.test', 'list'))!;
        expect(list.body).to.contain(good.keyId);
        expect(list.body).to.not.contain(bad.keyId);
        expect(await store.getDocument('carl@example.test', `key:${good.keyId}`)).to.exist();
        expect(await store.getDocument('carl@example.test', `key:${bad.keyId}`)).to.be.null();
        expect(await store.failedJobs()).to.equal([]);
    });

    it('gives failed names back to the queue with a backoff and reports the error', async () => {

        const { store } = domain;
        await store.putRegistrations([makeRegistration('bob@example.test')]);
        const errors: string[] = [];
        const broken: Store = overrideStore(store, {
            updateDocuments: () => Promise.reject(new Error('disk full')),
            fail: () => Promise.reject(new Error('store gone'))
        });

        const failing = updaterFor(broken, { onError: (error, name) => errors.push(`${name}: ${(error as Error).message}`) });
        expect(await failing.runBatch()).to.equal({ processed: 0, failed: 1 });
        expect(errors).to.equal(['bob@example.test: disk full']);

        // fail() failed too: the name stays leased, still in the queue, and comes back when the lease lapses.
        expect(await store.claim(10, 1000)).to.equal([]);
        expect(await store.queueDepth()).to.equal(1);
    });

    it('backs off with fail() when processing throws', async () => {

        const { store } = domain;
        await store.putRegistrations([makeRegistration('bob@example.test')]);
        const broken: Store = overrideStore(store, { readForSigning: () => Promise.reject(new Error('boom')) });
        const updater = updaterFor(broken);
        expect(await updater.runBatch()).to.equal({ processed: 0, failed: 1 });
        // Not due again immediately: the retry waits for its backoff.
        expect(await store.claim(10, 1000)).to.equal([]);
        expect(await store.queueDepth()).to.equal(1);
    });

    it('claims nothing while its KSK is retired and cannot be replaced, reports that once, gives up no name, and resumes when the new KSK loads', async () => {

        const { store } = domain;
        await store.putRegistrations([makeRegistration('alice@example.test')]);
        let active = 'ksk-current';
        let reloaded: ReturnType<typeof loadDomainSigningKey> | undefined;
        const ksk = loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk');
        const signer = new NameSigner({
            store,
            domain: domain.domain,
            ksk: { ...ksk, keyName: 'ksk-current' },
            published: publishedDomainKeys(domain.dataDir, domain.domain),
            policy: { validity: 3600_000, refreshBefore: 600_000, retention: 86400_000 },
            activeKsk: () => active,
            reloadKsk: () => reloaded ?? { ...ksk, keyName: 'ksk-current' }
        });
        const errors: string[] = [];
        const updater = updaterFor(store, { signer, maxAttempts: 1, onError: (error, name) => errors.push(`${name}: ${(error as Error).message}`) });

        active = 'ksk-next';
        for (let i = 0; i < 3; ++i) {
            expect(await updater.runBatch()).to.equal({ processed: 0, failed: 0 });
        }

        expect(errors).to.have.length(1);
        expect(errors[0]).to.match(/^\*: this signer holds KSK ksk-current, but ksk-next is the active KSK now/);
        expect(await store.failedJobs()).to.equal([]);
        expect((await store.claim(10, 1)).map((job) => job.name)).to.equal(['alice@example.test']);
        await new Promise((resolve) => setTimeout(resolve, 5));

        // The new KSK arrives in the key file: the signer takes it and the name is published.
        reloaded = { ...ksk, keyName: 'ksk-next' };
        expect(await updater.drain()).to.equal({ processed: 1, failed: 0 });
        expect((await store.getDocument('alice@example.test', 'list'))!.body).to.contain('<ds:KeyName>ksk-next</ds:KeyName>');
        expect(errors).to.have.length(1);
    });

    it('runs in the background until stopped and wakes up when poked', async () => {

        const { store } = domain;
        const updater = updaterFor(store, { pollInterval: 60_000 });
        updater.start();
        updater.start();
        await store.putRegistrations([makeRegistration('carol@example.test')]);
        updater.poke();
        for (let i = 0; i < 200 && !(await store.getDocument('carol@example.test', 'list')); ++i) {
            await new Promise((resolve) => setTimeout(resolve, 10));
        }

        expect(await store.getDocument('carol@example.test', 'list')).to.exist();
        await updater.stop();
    });

    it('keeps running when a batch cannot even be claimed', async () => {

        const { store } = domain;
        const errors: unknown[] = [];
        const broken: Store = overrideStore(store, { claim: () => Promise.reject(new Error('store down'))
    });
        const updater = updaterFor(broken, { onError: (error) => errors.push(error) });
        updater.start();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await updater.stop();
        expect(errors.length).to.be.above(0);
    });

    it('is created from configuration, loading the KSK', () => {

        const updater = createUpdater(domain.config, domain.store);
        expect(updater).to.be.an.instanceof(Updater);
    });
});
