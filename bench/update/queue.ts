/**
 * Queue benchmark (not a test): the store's own Redis queue (sorted set + Lua, lib/store)
 * against BullMQ on the same private redis-server, for the updater's job shape: one job
 * per name, no payload. Measures enqueue and claim+ack throughput, Redis memory per
 * waiting job, and the two semantics the updater depends on (coalescing a change made
 * while the name is being signed; an earlier due time overriding a scheduled re-sign).
 *
 *   npm install --prefix /tmp/iks-bench bullmq@6.7.0      # kept out of package.json
 *   BULLMQ=/tmp/iks-bench/node_modules/bullmq npx ts-node --transpile-only bench/update/queue.ts 20000
 */
import { Redis } from 'ioredis';

import { RedisStore } from '../../lib/store';
import { startRedisServer } from '../../test/helpers/redis-server';

interface BullJob { readonly id?: string }
interface BullQueue {
    addBulk(jobs: Array<{ name: string; data: unknown; opts?: Record<string, unknown> }>): Promise<unknown>;
    add(name: string, data: unknown, opts?: Record<string, unknown>): Promise<BullJob>;
    getJobCounts(...types: string[]): Promise<Record<string, number>>;
    close(): Promise<void>;
}
interface BullWorker { close(): Promise<void>; on(event: string, listener: (...args: unknown[]) => void): void }
interface BullModule {
    Queue: new (name: string, options: Record<string, unknown>) => BullQueue;
    Worker: new (name: string, processor: (job: BullJob) => Promise<void>, options: Record<string, unknown>) => BullWorker;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rate = (count: number, ms: number) => Math.round(count / (ms / 1000));

async function usedMemory(redis: Redis): Promise<number> {

    const info = await redis.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function ours(url: string, names: string[], workers: number, raw: Redis): Promise<Record<string, number>> {

    const store = new RedisStore({ url, keyPrefix: 'bench-ours' });
    const before = await usedMemory(raw);
    let started = Date.now();
    for (let i = 0; i < names.length; i += 1000) {
        await store.enqueue(names.slice(i, i + 1000));
    }

    const enqueueMs = Date.now() - started;
    const bytesPerJob = (await usedMemory(raw) - before) / names.length;

    // Like the updater: each worker claims a batch, acks each job as it finishes.
    started = Date.now();
    let done = 0;
    await Promise.all(Array.from({ length: workers }, async () => {

        for (;;) {
            const jobs = await store.claim(200, 60_000);
            if (jobs.length === 0) {
                return;
            }

            await Promise.all(jobs.map((job) => store.ack(job)));
            done += jobs.length;
        }
    }));
    const processMs = Date.now() - started;

    // Semantics: a change enqueued while the name is leased is kept (one more delivery).
    await store.enqueue(['bob@example.test']);
    const [job] = await store.claim(1, 60_000);
    await store.enqueue(['bob@example.test']);
    await store.ack(job!);
    const changeKept = (await store.claim(10, 60_000)).length;
    // Semantics: a change overrides a re-sign scheduled far ahead (earlier due time wins).
    await store.enqueue(['carol@example.test'], Date.now() + 6 * 86400_000);
    await store.enqueue(['carol@example.test']);
    const changeDueNow = (await store.claim(10, 60_000)).length;
    await store.close();
    return { enqueuePerSecond: rate(names.length, enqueueMs), processedPerSecond: rate(done, processMs), bytesPerJob: Math.round(bytesPerJob), changeKept, changeDueNow };
}

async function bullmq(bull: BullModule, port: number, names: string[], concurrency: number, raw: Redis): Promise<Record<string, number>> {

    // BullMQ 6 takes ioredis as an optional peer: hand it the project's client.
    const connection = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
    const queue = new bull.Queue('bench', { connection, prefix: '{bench-bull}' });
    const before = await usedMemory(raw);
    let started = Date.now();
    for (let i = 0; i < names.length; i += 1000) {
        // jobId = name: BullMQ's way to keep one job per name.
        await queue.addBulk(names.slice(i, i + 1000).map((name) => ({ name: 'sign', data: {}, opts: { jobId: name, removeOnComplete: true } })));
    }

    const enqueueMs = Date.now() - started;
    const bytesPerJob = (await usedMemory(raw) - before) / names.length;

    started = Date.now();
    let done = 0;
    const worker = new bull.Worker('bench', async () => {

        done++;
    }, { connection, prefix: '{bench-bull}', concurrency });
    while (done < names.length) {
        await sleep(5);
    }

    const processMs = Date.now() - started;
    await worker.close();

    // Semantics: a change added while the job is active.
    let deliveries = 0;
    const slow = new bull.Worker('semantics', async () => {

        deliveries++;
        await sleep(200);
    }, { connection, prefix: '{bench-bull}', concurrency: 1 });
    const semantics = new bull.Queue('semantics', { connection, prefix: '{bench-bull}' });
    await semantics.add('sign', {}, { jobId: 'bob', removeOnComplete: true });
    await sleep(100);
    await semantics.add('sign', {}, { jobId: 'bob', removeOnComplete: true });
    await sleep(600);
    const changeKept = deliveries - 1;

    // Semantics: a re-sign scheduled in six days, then a change for the same name.
    await semantics.add('sign', {}, { jobId: 'carol', delay: 6 * 86400_000, removeOnComplete: true });
    await semantics.add('sign', {}, { jobId: 'carol', removeOnComplete: true });
    const counts = await semantics.getJobCounts('wait', 'delayed');
    const changeDueNow = counts.wait ?? 0;
    await slow.close();
    await semantics.close();
    await queue.close();
    connection.disconnect();
    return { enqueuePerSecond: rate(names.length, enqueueMs), processedPerSecond: rate(done, processMs), bytesPerJob: Math.round(bytesPerJob), changeKept, changeDueNow };
}

async function main(): Promise<void> {

    const count = Number(process.argv[2] ?? 20000);
    const names = Array.from({ length: count }, (_, i) => `user${i}@example.test`);
    const server = await startRedisServer();
    const raw = new Redis(server.url);
    try {
        const results: Record<string, Record<string, number>> = {};
        results['store queue (zset + Lua), 4 workers × batch 200'] = await ours(server.url, names, 4, raw);
        const path = process.env.BULLMQ ?? 'bullmq';
        let bull: BullModule | null = null;
        try {
            bull = require(path) as BullModule;
        }
        catch {
            console.error(`bullmq not found at ${path}; see the header of this file`);
        }

        if (bull) {
            results['BullMQ 6, jobId = name, concurrency 50'] = await bullmq(bull, server.port, names, 50, raw);
        }

        console.log(`${count} jobs, redis-server ${(await raw.info('server')).match(/redis_version:(\S+)/)![1]}`);
        console.table(results);
    }
    finally {
        raw.disconnect();
        await server.stop();
    }
}

void main();
