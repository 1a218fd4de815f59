/**
 * At-least-once delivery through a real crash: a running `iks updater` is killed with
 * SIGKILL while it holds leases (mid-batch); after a restart every affected name has a
 * fresh, valid document.
 */
import { createPublicKey } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import { Redis } from 'ioredis';

import { loadDomainPublicKey } from '../../../lib/keys';
import { RedisStore } from '../../../lib/store';
import { verifyDocument } from '../../../lib/xmldsig';
import { makeDomain, makeRegistration, type TestDomain } from '../../helpers/domain';
import { runIks, startIks } from '../../helpers/process';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('updater crash (SIGKILL mid-batch, Redis store)', () => {

    let redis: RedisServer;
    let domain: TestDomain;
    let store: RedisStore;
    let raw: Redis;

    before(async () => {

        redis = await startRedisServer();
        // The CLI's own key prefix (`iks`): this server is ours alone.
        store = new RedisStore({ url: redis.url });
        raw = new Redis(redis.url);
        domain = await makeDomain({ store });
    });

    after(async () => {

        raw.disconnect();
        await store.close();
        await domain.cleanup();
        await redis.stop();
    });

    it('re-delivers the names a killed updater held, and every name ends with a fresh valid document', async () => {

        const count = 2000;
        const key = makeRegistration('x@example.test');
        const registeredAt = Date.now();
        const names = Array.from({ length: count }, (_, i) => `crash${i}@example.test`);
        for (let i = 0; i < count; i += 500) {
            await store.putRegistrations(names.slice(i, i + 500).map((name) => ({ ...key, name, registeredAt })));
        }

        const env = { IKS_DATA_DIR: domain.dataDir, IKS_REDIS_URL: redis.url, IKS_UPDATER_BATCH_SIZE: '50', IKS_UPDATER_LEASE: '1000', IKS_LOG_LEVEL: 'silent' };
        const updater = startIks(['updater'], env);

        // Kill it as soon as it has signed something and holds leases: mid-batch.
        const { leased, pending } = store.keys;
        let held: string[] = [];
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
            const due = await raw.zcount(pending, '-inf', String(Date.now()));
            held = await raw.zrange(leased, '0', '-1');
            if (due < count && held.length > 0) {
                break;
            }

            await sleep(2);
        }

        await updater.stop('SIGKILL');
        const heldAtDeath = await raw.zrange(leased, '0', '-1');
        expect(heldAtDeath.length).to.be.above(0);
        expect(updater.child.signalCode).to.equal('SIGKILL');

        // Restart once the dead worker's leases have lapsed: --once takes what is due, re-delivered names included.
        const lapseAt = Number(await raw.zscore(leased, heldAtDeath[heldAtDeath.length - 1]!));
        await sleep(Math.max(0, lapseAt - Date.now() + 50));
        const restart = runIks(['updater', '--once'], env);
        expect(restart.status, restart.stderr).to.equal(0);
        expect(await raw.zcard(leased)).to.equal(0);
        expect(restart.stdout).to.match(/signed \d+ name\(s\), 0 failed/);

        // Every name: a document signed after registration, still valid; those held at death verified in full.
        const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
        const publicKey = createPublicKey(ksk.pem);
        const now = Date.now();
        for (const name of names) {
            const document = await store.getDocument(name, 'list');
            expect(document, name).to.exist();
            expect(document!.signedAt).to.be.at.least(Math.floor(registeredAt / 1000) * 1000);
            expect(document!.notAfter).to.be.above(now);
        }

        for (const name of new Set([...heldAtDeath, ...names.filter((_, i) => i % 200 === 0)])) {
            verifyDocument((await store.getDocument(name, 'list'))!.body, { publicKey, keyName: ksk.keyName, type: 'KeyList', name, now });
        }
    });
});
