import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { Redis } from 'ioredis';

import { RedisStore } from '../../lib/store';
import { makeRegistration } from '../helpers/domain';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster';
import { storeContract } from './contract';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

let cluster: RedisCluster;
let counter = 0;

before(async () => {

    cluster = await startRedisCluster();
});

after(async () => {

    await cluster.stop();
});

// The whole contract on a 3-master cluster: every multi-key step must stay in one slot.
storeContract(lab, 'redis cluster', async () => {

    // A unique prefix per test; the cluster is this file's own and is removed afterwards.
    const store = new RedisStore({ url: cluster.url, cluster: true, keyPrefix: `iks-cluster-${process.pid}-${++counter}` });
    return { store, cleanup: () => store.close() };
});

describe('RedisStore on a cluster', () => {

    it('spreads names over the masters and still finds every one', async () => {

        const store = new RedisStore({ url: cluster.url, cluster: true, keyPrefix: 'iks-spread' });
        const names = Array.from({ length: 60 }, (_, i) => `user${i}@example.test`);
        const key = makeRegistration('x@example.test');
        await store.putRegistrations(names.map((name) => ({ ...key, name })));

        const found: string[] = [];
        for await (const name of store.scanNames()) {
            found.push(name);
        }

        expect(found.sort()).to.equal([...names].sort());
        const perMaster = await Promise.all(cluster.ports.map(async (port) => {

            const node = new Redis(port, '127.0.0.1');
            const keys = await node.dbsize();
            node.disconnect();
            return keys;
        }));
        expect(perMaster.every((keys) => keys > 0)).to.be.true();
        // Registered names are due now (the intent enqueue was overtaken), each once.
        expect((await store.claim(100, 60_000)).map((job) => job.name).sort()).to.equal([...names].sort());
        await store.close();
    });
});
