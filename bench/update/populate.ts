/**
 * bench/update helper: registers N names u0..u<N-1>@example.test (one Ed25519 key each,
 * drawn from a pool) in the store the configuration names, and signs them with one
 * in-process updater — a fast stand-in for `iks import` + `iks updater` when only the
 * resulting store matters (lookup scaling).
 *
 *   IKS_DATA_DIR=… IKS_REDIS_URL=… npx ts-node --transpile-only bench/update/populate.ts N
 */
import { loadConfig } from '../../config';
import { createStore } from '../../lib/store';
import { makeRegistration } from '../../test/helpers/domain';
import { createUpdater } from '../../workers/updater';

async function main(): Promise<void> {

    const count = Number(process.argv[2] ?? 10000);
    const config = loadConfig();
    const store = createStore({ redisUrl: config.redisUrl, dataDir: config.dataDir });
    const pool = Array.from({ length: 100 }, () => makeRegistration('x@example.test'));
    for (let i = 0; i < count; i += 1000) {
        await store.putRegistrations(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ ...pool[(i + j) % pool.length]!, name: `u${i + j}@example.test` })));
    }

    await store.enqueue([config.domain]);
    const { processed } = await createUpdater({ ...config, updater: { ...config.updater, batchSize: 1000 } }, store).drain();
    console.log(`registered and signed ${processed} names`);
    await store.close();
}

void main();
