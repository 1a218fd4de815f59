import * as Fs from 'node:fs';
import { PassThrough } from 'node:stream';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { runUpdater, type UpdaterCommandOptions } from '../../lib/cli/updater';
import { loadConfig } from '../../config';
import { parseSignedZone } from '../../lib/dnssec';
import { activateIncomingKsk, createIncomingKsk, domainKeyPaths, loadedKeyFiles, publishedKsks } from '../../lib/keys';
import { ensureSignedZone, zonePaths } from '../../workers/updater';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';
import { eventually } from '../helpers/eventually';

export const lab = Lab.script();
const { describe, it, beforeEach, afterEach } = lab;

const internals = {
    day: 86400_000,

    /** The RRSIG expiration of the signed zone on disk, ms. */
    zoneExpiration(domain: TestDomain): number {

        return parseSignedZone(Fs.readFileSync(zonePaths(domain.config).signedZone, 'utf8')).expiration * 1000;
    },

    /** The loads of `role`'s private key file since `before` (a length of loadedKeyFiles()). */
    loadsSince(domain: TestDomain, role: 'ksk' | 'zsk', before: number): number {

        const { privatePath } = domainKeyPaths(domain.dataDir, domain.domain, role);
        return loadedKeyFiles().slice(before).filter((entry) => entry.path === privatePath).length;
    }
};

describe('iks updater', () => {

    let domain: TestDomain;

    beforeEach(async () => {

        domain = await makeDomain();
    });

    afterEach(async () => {

        await domain.cleanup();
    });

    const run = async (options: UpdaterCommandOptions, config = domain.config) => {

        const out: string[] = [];
        const err: string[] = [];
        const code = await runUpdater(config, domain.store, options, { out: (line) => out.push(line), err: (line) => err.push(line) }, () => Promise.resolve('test'));
        return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('--once signs what is due and exits; --resign-all re-signs every name with a progress bar', async () => {

        const names = Array.from({ length: 30 }, (_, i) => `user${i}@example.test`);
        await domain.store.putRegistrations(names.map((name) => makeRegistration(name)));
        const once = await run({ once: true });
        expect(once.code).to.equal(0);
        expect(once.out).to.contain('signed 31 name(s), 0 failed');
        // Nothing else due: a second run signs only the domain's own documents, which --once always refreshes.
        expect((await run({ once: true })).out).to.contain('signed 1 name(s), 0 failed');

        const before = await domain.store.getDocument('user3@example.test', 'list');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const bar = new PassThrough();
        let drawn = '';
        bar.on('data', (chunk: Buffer) => {

            drawn += chunk.toString();
        });
        const all = await run({ resignAll: true, progress: true, progressStream: bar });
        expect(all.code).to.equal(0);
        expect(all.out).to.match(/signed 31 name\(s\), 0 failed \(31 queued for re-signing\)/);
        expect(drawn).to.contain('31/31 names');
        expect((await domain.store.getDocument('user3@example.test', 'list'))!.signedAt).to.be.above(before!.signedAt);
    });

    it('follows a rollover activated elsewhere: takes the new KSK from private/ksk.pem without a restart', async () => {

        const name = 'bob@example.test';
        await domain.store.putRegistrations([makeRegistration(name)]);
        const err: string[] = [];
        let stop = (_reason: string) => {};
        const stopped = new Promise<string>((resolve) => {

            stop = resolve;
        });
        const signedBy = async () => /<ds:KeyName>([^<]+)<\/ds:KeyName>/.exec((await domain.store.getDocument(name, 'list'))?.body ?? '')?.[1];
        const running = runUpdater({ ...domain.config, updater: { ...domain.config.updater, pollInterval: 20 } }, domain.store, {}, { out: () => {}, err: (line) => err.push(line) }, () => stopped);
        const oldKsk = publishedKsks(domain.dataDir, domain.domain)[0]!.keyName;
        await eventually(async () => await signedBy() === oldKsk);

        createIncomingKsk(domain.dataDir, domain.domain, { now: Date.now() - 60_000 });
        activateIncomingKsk(domain.dataDir, domain.domain, { overlap: 0 });
        const newKsk = publishedKsks(domain.dataDir, domain.domain)[0]!.keyName;
        await domain.store.putRegistrations([makeRegistration(name)]);

        await eventually(async () => await signedBy() === newKsk);
        stop('test');
        expect(await running).to.equal(0);
        expect(err.join('\n')).to.not.contain('KSK_RETIRED');
    });

    it('stops, exiting 2, when a rollover retired its KSK and the new one is not in its private/ksk.pem, signing nothing and giving up no name', async () => {

        const name = 'bob@example.test';
        await domain.store.putRegistrations([makeRegistration(name)]);
        const out: string[] = [];
        const err: string[] = [];
        const signedBy = async () => /<ds:KeyName>([^<]+)<\/ds:KeyName>/.exec((await domain.store.getDocument(name, 'list'))?.body ?? '')?.[1];
        const running = runUpdater({ ...domain.config, updater: { ...domain.config.updater, pollInterval: 20 } }, domain.store, {}, { out: (line) => out.push(line), err: (line) => err.push(line) }, () => new Promise(() => {}));
        const oldKsk = publishedKsks(domain.dataDir, domain.domain)[0]!.keyName;
        await eventually(async () => await signedBy() === oldKsk);

        // Another process (`iks keys rotate ksk`, then `--activate`) makes a new KSK the active
        // one, while this updater still sees the old private key (a single-file mount does that).
        const { privatePath } = domainKeyPaths(domain.dataDir, domain.domain, 'ksk');
        const oldPrivate = Fs.readFileSync(privatePath);
        createIncomingKsk(domain.dataDir, domain.domain, { now: Date.now() - 60_000 });
        activateIncomingKsk(domain.dataDir, domain.domain, { overlap: 0 });
        const newPrivate = Fs.readFileSync(privatePath);
        Fs.writeFileSync(privatePath, oldPrivate, { mode: 0o600 });
        const newKsk = publishedKsks(domain.dataDir, domain.domain)[0]!.keyName;
        await domain.store.putRegistrations([makeRegistration(name)]);

        expect(await running).to.equal(2);
        expect(err.join('\n')).to.contain(`KSK_RETIRED: this signer holds KSK ${oldKsk}, but ${newKsk} is the active KSK now`);
        expect(err.join('\n')).to.contain('stopping on KSK_RETIRED');
        // The change stays queued for an updater holding the new KSK; nothing was given up.
        expect(await signedBy()).to.equal(oldKsk);
        expect(await domain.store.queueDepth()).to.be.above(0);
        expect(await domain.store.failedJobs()).to.equal([]);
        // --once says so too, and fails.
        const once = await run({ once: true });
        expect(once.code).to.equal(2);
        expect(once.err).to.contain('KSK_RETIRED');

        // With the new key in place, the next run signs with it.
        Fs.writeFileSync(privatePath, newPrivate, { mode: 0o600 });
        const restarted = await run({ once: true });
        expect(restarted.code, restarted.err).to.equal(0);
        expect(await signedBy()).to.equal(newKsk);
    });

    it('--failed lists given-up jobs and --retry-failed queues them again, without loading the KSK', async () => {

        await domain.store.enqueue(['stuck@example.test']);
        const [job] = await domain.store.claim(1, 60_000);
        await domain.store.bury(job!, 'disk full');

        const listed = await run({ failed: true });
        expect(listed.code).to.equal(2);
        expect(listed.out).to.match(/stuck@example\.test {2}after 1 attempt\(s\): disk full/);
        expect(listed.err).to.contain('1 failed job(s)');

        expect((await run({ retryFailed: true })).out).to.equal('queued 1 failed name(s) again');
        expect(await run({ failed: true })).to.include({ code: 0, out: '' });
        expect((await domain.store.claim(1, 60_000)).map((claimed) => claimed.name)).to.equal(['stuck@example.test']);
    });

    it('refuses to re-sign documents as a second KSK holder when another strategy is configured', async () => {

        const online = loadConfig({ env: { IKS_DATA_DIR: domain.dataDir, IKS_DOMAIN: domain.domain, IKS_SIGNING: 'online' } });
        const before = loadedKeyFiles().length;
        const refused = await run({ resignAll: true }, online);
        expect(refused.code).to.equal(2);
        expect(refused.err).to.contain('iks-register plugin holds the KSK');
        expect(internals.loadsSince(domain, 'ksk', before)).to.equal(0);

        // Dead letters are the store's, whoever signs: listing them loads no key either.
        expect(await run({ failed: true }, online)).to.include({ code: 0, out: '' });
        expect(loadedKeyFiles()).to.have.length(before);
    });

    for (const [signing, holder] of [['ondemand', 'iks-query'], ['online', 'iks-register']] as const) {

        describe(`with signing "${signing}"`, () => {

            let inline: TestDomain;

            beforeEach(async () => {

                inline = await makeDomain({ env: { IKS_SIGNING: signing, IKS_UPDATER_METRICS_PORT: '0' } });
                // Signed 13.9 days ago: 14-day validity, ~2.4 h left, well inside zone.refreshBefore.
                ensureSignedZone(inline.config, { force: true, now: Date.now() - 13.9 * internals.day });
            });

            afterEach(async () => {

                await inline.cleanup();
            });

            const runInline = async (options: UpdaterCommandOptions, untilStopped: (lines: readonly string[]) => Promise<string>) => {

                const lines: string[] = [];
                const before = loadedKeyFiles().length;
                const code = await runUpdater(inline.config, inline.store, options, { out: (line) => lines.push(line), err: (line) => lines.push(line) }, () => untilStopped(lines));
                return { code, output: lines.join('\n'), kskLoads: internals.loadsSince(inline, 'ksk', before), zskLoads: internals.loadsSince(inline, 'zsk', before) };
            };

            it('--once re-signs a zone close to expiry without loading the KSK', async () => {

                const lapsing = internals.zoneExpiration(inline);
                expect(lapsing).to.be.below(Date.now() + internals.day);

                const once = await runInline({ once: true }, () => Promise.resolve('test'));
                expect(once).to.include({ code: 0, kskLoads: 0, zskLoads: 1 });
                expect(once.output).to.contain(`${holder} plugin holds the KSK and signs the documents; this updater signs only the zone`);
                expect(once.output).to.contain('zone: signed (signatures due for renewal)');
                expect(internals.zoneExpiration(inline)).to.be.above(Date.now() + 13 * internals.day);
                // The documents are the plugin's: nothing was queued for a KSK signer.
                expect(await inline.store.claim(1, 60_000)).to.equal([]);
            });

            it('runs the zone refresh until stopped, without loading the KSK, and serves the queue metrics', async () => {

                let whileRunning = 0;
                let scraped = '';
                let url = '';
                const running = await runInline({}, async (lines) => {

                    whileRunning = internals.zoneExpiration(inline);
                    url = /metrics on (\S+)/.exec(lines.join('\n'))![1]!;
                    scraped = await (await fetch(url)).text();
                    return 'test';
                });
                expect(running).to.include({ code: 0, kskLoads: 0, zskLoads: 1 });
                expect(running.output).to.contain(`zone signer for ${inline.domain} running; metrics on `);
                expect(whileRunning).to.be.above(Date.now() + 13 * internals.day);
                // The queue is the plugin's to run: shown, not touched.
                expect(scraped).to.contain(`iks_queue_depth{domain="${inline.domain}"} 0`);
                expect(await inline.store.claim(1, 60_000)).to.equal([]);
                await expect(fetch(url)).to.reject();
            });
        });
    }
});
