/**
 * bench/register — not a test. Issue 4: registrations/s with user-key authentication
 * against the quickstart (one process: gateway + in-process updater) or, with
 * `--layout split`, the production layout (`iks serve --workers N` and `iks updater` in
 * its own process), and the delay from an acknowledgement to what a client can see:
 *   - register ack → the served key list names the new key,
 *   - revoke ack → the served per-key document is the signed revocation.
 *
 *   npx ts-node --transpile-only bench/register/run.ts [--redis] [--layout split]
 *       [--workers N] [--seconds 10] [--concurrency 32] [--samples 300]
 *       [--poll-interval MS] [--everysec] [--generator wrk|node]
 *
 * The load comes from wrk when it is installed (bench/register/wrk-register.lua sends each
 * prepared request once), else from this process: on a 2-core machine the generator's CPU
 * is taken from the server, and wrk takes about a tenth of what node:http takes.
 *
 * Delays are measured by polling the query route every 2 ms (their resolution), with
 * `--samples` registrations kept 4 in flight, so they are delays under light load.
 */
import { generateKeyPairSync, sign } from 'node:crypto';

import type { Store } from '../../lib/store/types';
import { gatewayLoad, hasWrk, measureDelays, wrkLoad } from './measure';
import { cpuMs, hasRedis, redisCounters, type Layout, makeEntities, option, percentile, registerRequest, rssMb, send, startGateway, type PreparedRequest } from './harness';

/**
 * A fixed piece of CPU work timed in this process (ECDSA P-256 signatures, µs each). The
 * host's speed drifts by up to 2× within an hour (other tenants of the machine), so each
 * run says how fast the machine was before and after its load; compare runs whose
 * calibrations agree.
 */
function calibrate(): number {

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const message = Buffer.alloc(256, 1);
    const rounds = 2000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; ++i) {
        sign('sha256', message, privateKey);
    }

    return Number(process.hrtime.bigint() - start) / rounds / 1000;
}

/** Waits until the updater has nothing due (at most 2 min); resolves with how long that took, ms. */
async function drained(store: Store): Promise<number> {

    const start = Date.now();
    while (((await store.earliestDue()) ?? Infinity) <= Date.now() && Date.now() - start < 120_000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
    }

    return Date.now() - start;
}

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
    const layout: Layout = process.argv.includes('split') ? 'split' : 'quickstart';
    const workers = option('workers', 1);
    const generatorIndex = process.argv.indexOf('--generator');
    const generator = generatorIndex >= 0 ? process.argv[generatorIndex + 1] : hasWrk() ? 'wrk' : 'node';
    if (generator !== 'wrk' && generator !== 'node') {
        throw new Error('--generator is wrk or node');
    }

    const gateway = await startGateway({ redis, appendfsync, layout, workers, env: { IKS_REGISTER_MAX_KEYS_PER_NAME: '1000', ...(pollInterval > 0 ? { IKS_UPDATER_POLL_INTERVAL: String(pollInterval) } : {}) } });
    const store = gateway.openStore();
    try {
        // Throughput: at most 4 new keys per entity, as users have a few keys each. Every change
        // reads all of a name's registrations and re-signs its key list, so piling hundreds of
        // keys on a few names would measure that instead (BENCHMARKS.md).
        const expected = Math.ceil(seconds * 4000);
        const entities = await makeEntities(store, Math.max(concurrency, Math.ceil(expected / 4)));
        await drained(store);
        process.stderr.write(`preparing ${expected} signed requests…\n`);
        const prepared: PreparedRequest[] = [];
        for (let i = 0; i < expected; ++i) {
            prepared.push(registerRequest(entities[i % entities.length]!));
        }

        const speedBefore = calibrate();
        // Warm up JIT and connections; not counted.
        await Promise.all(prepared.splice(0, 200).map((request) => send(gateway.base, request)));
        const measured = [...gateway.pids, ...(gateway.redisPid !== undefined ? [gateway.redisPid] : [])];
        const cpuBefore = measured.map(cpuMs);
        const redisBefore = gateway.redisUrl !== undefined ? redisCounters(gateway.redisUrl) : null;
        const load = await (generator === 'wrk' ? wrkLoad : gatewayLoad)(gateway.base, prepared, concurrency, seconds * 1000);
        const cpuUsed = measured.map((pid, i) => cpuMs(pid) - cpuBefore[i]!);
        const residentMb = gateway.pids.map(rssMb);
        const redisAfter = gateway.redisUrl !== undefined ? redisCounters(gateway.redisUrl) : null;

        // The delays are those of a quiet service: let the updater finish the load's backlog first.
        const drainMs = await drained(store);
        const speedAfter = calibrate();
        // One entity per sample: each round sees a name with its auth key and the key it adds.
        const delayEntities = await makeEntities(store, samples, 'delay');
        await drained(store);
        const delays = await measureDelays(gateway.base, delayEntities, samples, 4);
        const fmt = (values: number[]) => `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${percentile(values, 100).toFixed(1)} ms`;

        const store_ = redis ? `Redis (AOF, appendfsync ${appendfsync})` : 'embedded (SQLite WAL)';
        const processes = layout === 'split' ? `iks serve --workers ${workers} + iks updater` : 'iks quickstart (gateway + in-process updater)';
        console.log(`store: ${store_}; processes: ${processes}; updater poll interval: ${pollInterval > 0 ? `${pollInterval} ms` : 'default'}`);
        console.log(`host speed: one P-256 signature took ${speedBefore.toFixed(1)} µs before the load, ${speedAfter.toFixed(1)} µs after (lower is faster)`);
        console.log(`registrations/s (user-key auth, ${concurrency} in flight, ${(load.elapsedMs / 1000).toFixed(1)} s): ${(load.accepted / load.elapsedMs * 1000).toFixed(0)}  (accepted ${load.accepted}, refused ${load.refused}, errors ${load.errors})`);
        const roles = [...(layout === 'split' ? ['gateway (all workers)', 'updater'] : ['gateway + in-process updater']), 'redis-server'];
        const perRegistration = (used: number) => used / Math.max(1, load.accepted);
        cpuUsed.forEach((used, i) => console.log(`  CPU of ${roles[i]}: ${(used / load.elapsedMs * 100).toFixed(0)} % of one core, ${perRegistration(used).toFixed(2)} ms per registration`));
        const serverMs = perRegistration(cpuUsed.reduce((sum, used) => sum + used, 0));
        console.log(`  server side in all: ${serverMs.toFixed(2)} ms of CPU per registration, so 2,000/s needs ${(2 * serverMs).toFixed(1)} cores for the server alone`);
        if (redisBefore !== null && redisAfter !== null) {
            const per = (after: number, before: number) => ((after - before) / Math.max(1, load.accepted)).toFixed(1);
            const top = [...redisAfter.byCommand].map(([command, calls]) => [command, calls - (redisBefore.byCommand.get(command) ?? 0)] as const)
                .filter(([, calls]) => calls > 0).sort((a, b) => b[1] - a[1]).slice(0, 8);
            console.log(`  Redis per registration: ${per(redisAfter.commands, redisBefore.commands)} commands (those run by scripts included) in ${per(redisAfter.reads, redisBefore.reads)} socket reads; ${top.map(([command, calls]) => `${command} ${(calls / Math.max(1, load.accepted)).toFixed(2)}`).join(', ')}`);
        }

        console.log(`  resident memory after the load: ${residentMb.map((mb, i) => `${roles[i]} ${mb.toFixed(0)} MB`).join(', ')}`);
        console.log(`  CPU of the load generator (${load.generator === 'wrk' ? 'wrk' : 'node:http in this process'}): ${(load.generatorCpuMs / load.elapsedMs * 100).toFixed(0)} % of one core`);
        console.log(`  request latency under that load: p50 ${load.p50Ms.toFixed(1)} ms, p99 ${load.p99Ms.toFixed(1)} ms`);
        console.log(`  updater backlog left when the load stopped: drained in ${drainMs} ms`);
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
