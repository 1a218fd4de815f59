/**
 * bench/soak — not a test. A bounded soak on loopback (issue 7): one quickstart process
 * (gateway, DNS plugin, in-process updater) takes mixed lookups, user-key registrations
 * and DNS queries for `--seconds`; prints counts, errors (must be 0), p99 latencies and
 * the gateway's resident-memory growth after a warm-up.
 *
 *   npx ts-node --transpile-only bench/soak/run.ts [--redis] [--seconds 180]
 */
import { hasRedis, makeEntities, option, rssMb, startGateway } from '../register/harness';
import { percentile, runTrafficMix, type KindResult } from '../../test/helpers/traffic-mix';

async function main(): Promise<void> {

    const redis = process.argv.includes('--redis');
    if (redis && !hasRedis()) {
        throw new Error('--redis needs redis-server on the PATH');
    }

    const seconds = option('seconds', 180);
    const gateway = await startGateway({ redis, env: { IKS_REGISTER_MAX_KEYS_PER_NAME: '1000' } });
    const store = gateway.openStore();
    try {
        // Enough entities that no name comes near its key limit.
        const entities = await makeEntities(store, Math.max(16, Math.ceil(seconds * 2)), 'soak');
        const options = { base: gateway.base, dnsPort: gateway.dnsPort, entities, lanes: { lookup: 8, register: 4, dns: 4 } };
        await runTrafficMix({ ...options, durationMs: 5000 });
        const rssBefore = rssMb(gateway.pid);
        const samples: number[] = [rssBefore];
        const sampler = setInterval(() => samples.push(rssMb(gateway.pid)), 5000);
        const result = await runTrafficMix({ ...options, durationMs: seconds * 1000 });
        clearInterval(sampler);
        const rssAfter = rssMb(gateway.pid);

        const line = (kind: string, r: KindResult) => `${kind.padEnd(13)} ${String(r.count).padStart(8)} requests  ${(r.count / seconds).toFixed(0).padStart(6)}/s  errors ${r.errors}  p50 ${percentile(r.latencies, 50).toFixed(1)} ms  p99 ${percentile(r.latencies, 99).toFixed(1)} ms`;
        console.log(`store: ${redis ? 'Redis (AOF, appendfsync always)' : 'embedded (SQLite WAL)'}; ${seconds} s after a 5 s warm-up`);
        console.log(line('lookups', result.lookup));
        console.log(line('registrations', result.register));
        console.log(line('DNS queries', result.dns));
        console.log(`gateway RSS: ${rssBefore.toFixed(0)} MB → ${rssAfter.toFixed(0)} MB (max ${Math.max(...samples, rssAfter).toFixed(0)} MB)`);
        if (result.firstErrors.length > 0) {
            console.log(`first errors:\n  ${result.firstErrors.join('\n  ')}`);
        }

        process.exitCode = result.lookup.errors + result.register.errors + result.dns.errors === 0 ? 0 : 1;
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
