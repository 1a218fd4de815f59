/**
 * Updater throughput (not a test): one updater (one process, this one) re-signing N names
 * on a private redis-server, as `iks updater --resign-all` does. Prints wall-clock and
 * CPU-time rates: on a shared machine the CPU-time figure (documents per CPU-second of
 * this process) is the stable one.
 *
 *   npx ts-node --transpile-only bench/update/updater.ts 20000
 */
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import { loadConfig } from '../../config';
import { ensureDomainKeys } from '../../lib/keys';
import { RedisStore } from '../../lib/store';
import { startRedisServer } from '../../test/helpers/redis-server';
import { makeRegistration } from '../../test/helpers/domain';
import { createUpdater, queueEveryName } from '../../workers/updater';

async function main(): Promise<void> {

    const count = Number(process.argv[2] ?? 20000);
    const redis = await startRedisServer();
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-bench-'));
    ensureDomainKeys(dataDir, 'example.test');
    const config = loadConfig({ env: { IKS_DATA_DIR: dataDir } });
    const store = new RedisStore({ url: redis.url });
    try {
        const key = makeRegistration('x@example.test');
        for (let i = 0; i < count; i += 1000) {
            await store.putRegistrations(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ ...key, name: `u${i + j}@example.test` })));
        }

        for (const batchSize of [200, 1000]) {
            const updater = createUpdater({ ...config, updater: { ...config.updater, batchSize } }, store, { reuse: false });
            await queueEveryName(store, config.domain);
            const started = Date.now();
            const cpu = process.cpuUsage();
            const { processed } = await updater.drain();
            const used = process.cpuUsage(cpu);
            const wall = (Date.now() - started) / 1000;
            const cpuSeconds = (used.user + used.system) / 1e6;
            // Two documents per name: the key list and the one key's document.
            console.log(`batch ${batchSize}: ${processed} names in ${wall.toFixed(1)} s wall = ${Math.round(2 * processed / wall)} documents/s; ${cpuSeconds.toFixed(1)} CPU-s = ${Math.round(2 * processed / cpuSeconds)} documents per CPU-second`);
        }
    }
    finally {
        await store.close();
        await redis.stop();
        Fs.rmSync(dataDir, { recursive: true, force: true });
    }
}

void main();
