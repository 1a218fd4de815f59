/**
 * bench/register — not a test. Issue 4: registrations/s with user-key authentication
 * against one gateway process (the quickstart: gateway + in-process updater), and the
 * delay from an acknowledgement to what a client can see:
 *   - register ack → the served key list names the new key,
 *   - revoke ack → the served per-key document is the signed revocation.
 *
 *   npx ts-node --transpile-only bench/register/run.ts [--redis] [--seconds 10]
 *       [--concurrency 32] [--samples 300] [--poll-interval MS] [--everysec]
 *
 * Delays are measured by polling the query route every 2 ms (their resolution), with
 * `--samples` registrations kept 4 in flight, so they are delays under light load.
 */
import { gatewayLoad, measureDelays } from './measure';
import { cpuMs, hasRedis, makeEntities, option, percentile, registerRequest, send, startGateway, type PreparedRequest } from './harness';

async function main(): Promise<void> {

    const redis = process.argv.includes('--redis');
    if (redis && !hasRedis()) {
        throw new Error('--redis needs redis-server on the PATH');
    }

    const seconds = option('seconds', 10);
    const concurrency = option('concurrency', 32);
    const samples = option('samples', 300);
    const pollInterval = option('poll-interval', 0);
    const appendfsync = process.argv.includes('--everysec') ? 'everysec' as const : 'always' as const;
    const gateway = await startGateway({ redis, appendfsync, env: { IKS_REGISTER_MAX_KEYS_PER_NAME: '1000', ...(pollInterval > 0 ? { IKS_UPDATER_POLL_INTERVAL: String(pollInterval) } : {}) } });
    const store = gateway.openStore();
    try {
        // Throughput: ~40 keys per entity stays far below the per-name limit.
        const expected = Math.ceil(seconds * 4000);
        const entities = await makeEntities(store, Math.max(concurrency, Math.ceil(expected / 40)));
        process.stderr.write(`preparing ${expected} signed requests…\n`);
        const prepared: PreparedRequest[] = [];
        for (let i = 0; i < expected; ++i) {
            prepared.push(registerRequest(entities[i % entities.length]!));
        }

        // Warm up JIT and connections; not counted.
        await Promise.all(prepared.splice(0, 200).map((request) => send(gateway.base, request)));
        const cpuBefore = cpuMs(gateway.pid);
        const load = await gatewayLoad(gateway.base, prepared, concurrency, seconds * 1000);
        const cpuUsed = cpuMs(gateway.pid) - cpuBefore;

        const delayEntities = await makeEntities(store, 16, 'delay');
        const delays = await measureDelays(gateway.base, delayEntities, samples, 4);
        const fmt = (values: number[]) => `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${percentile(values, 100).toFixed(1)} ms`;

        const store_ = redis ? `Redis (AOF, appendfsync ${appendfsync})` : 'embedded (SQLite WAL)';
        console.log(`store: ${store_}; updater poll interval: ${pollInterval > 0 ? `${pollInterval} ms` : 'default'}`);
        console.log(`registrations/s (user-key auth, ${concurrency} in flight, ${(load.elapsedMs / 1000).toFixed(1)} s): ${(load.accepted / load.elapsedMs * 1000).toFixed(0)}  (accepted ${load.accepted}, refused ${load.refused}, errors ${load.errors})`);
        console.log(`  gateway CPU (handlers + in-process updater): ${(cpuUsed / load.elapsedMs * 100).toFixed(0)} % of one core, ${(cpuUsed / Math.max(1, load.accepted)).toFixed(2)} ms per registration`);
        console.log(`  request latency under that load: p50 ${percentile(load.latencies, 50).toFixed(1)} ms, p99 ${percentile(load.latencies, 99).toFixed(1)} ms`);
        console.log(`register ack → key listed (${delays.listed.length} samples): ${fmt(delays.listed)}`);
        console.log(`revoke ack → signed revocation served (${delays.revoked.length} samples): ${fmt(delays.revoked)}`);
        if (load.firstError) {
            console.log(`first error: ${load.firstError}`);
        }
    }
    finally {
        await store.close();
        await gateway.stop();
    }
}

main().catch((error) => {

    console.error(error);
    process.exitCode = 1;
});
