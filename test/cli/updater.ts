import { PassThrough } from 'node:stream';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { runUpdater, type UpdaterCommandOptions } from '../../lib/cli/updater';
import { loadConfig } from '../../config';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';

export const lab = Lab.script();
const { describe, it, beforeEach, afterEach } = lab;

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

    it('refuses to run as a second KSK holder when another strategy is configured', async () => {

        const online = loadConfig({ env: { IKS_DATA_DIR: domain.dataDir, IKS_SIGNING: 'online' } });
        const refused = await run({}, online);
        expect(refused.code).to.equal(2);
        expect(refused.err).to.contain('iks-register plugin holds the KSK');
    });
});
