/**
 * `iks serve`: the gateway. One process by default; with `--workers N` (http.workers) a
 * node:cluster primary runs N gateway processes on the same HTTP and DNS ports, because
 * one hapi process uses one core (BENCHMARKS.md) and gateways share nothing but the
 * store. The primary serves no requests: it restarts workers that die and, when
 * updater.inProcess is set, runs the one updater, so even then the workers that face
 * clients hold no KSK (ARCHITECTURE.md §2).
 */
import Cluster, { type Worker } from 'node:cluster';

import type { IksConfig } from '../../config';
import { createUpdater, startZoneRefresh } from '../../workers/updater';
import { InvalidInput } from '../errors';
import { createGateway } from '../gateway';
import { aggregateWorkerMetrics, IksMetrics, serveWorkerMetrics } from '../observability';
import { nameHash } from '../observability/logging';
import { listenFailure } from './listen';
import { describeError } from './output';
import type { Output } from './output';
import { storeFor } from './store';

export interface ServeOptions {
    /** HTTP worker processes; overrides http.workers. */
    readonly workers?: number;
}

type WorkerMessage = { readonly iks: 'listening'; readonly uri: string } | { readonly iks: 'shutdown' };

const internals = {
    // A worker that keeps dying is restarted at most this often, so a broken configuration cannot spin.
    restartDelayMs: 1_000,
    stopTimeoutMs: 10_000
};

/** Runs the gateway until SIGINT/SIGTERM; resolves with the exit code. */
export async function runServe(config: IksConfig, options: ServeOptions, io: Output, untilSignal: () => Promise<string>): Promise<number> {

    if (Cluster.isWorker) {
        return await serveWorker(config);
    }

    const workers = options.workers ?? config.http.workers;
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
        throw new InvalidInput('SERVE_WORKERS', `--workers must be a whole number from 1 to 64, not ${String(workers)}`);
    }

    if (workers === 1) {
        return await serveOne(config, io, untilSignal);
    }

    if (config.redisUrl === undefined) {
        // The embedded store wakes the updater only within its own process, and SQLite serialises writers.
        throw new InvalidInput('SERVE_WORKERS', `--workers ${workers} needs the Redis store (IKS_REDIS_URL); the embedded store is for one process`);
    }

    return await servePrimary(config, workers, io, untilSignal);
}

/** The in-process updater (offline signing) and zone refresh, when the configuration asks for them. */
function startInProcessSigner(config: IksConfig, store: ReturnType<typeof storeFor>, metrics: IksMetrics, io: Output) {

    // In `ondemand`/`online` the plugin that holds the KSK runs the queue loop itself.
    // Its errors go to stderr as `iks updater` prints them (names as hashes): a signer that
    // fails silently would leave acknowledged registrations unpublished unseen.
    const onError = (error: unknown, name: string) => io.err(`updater: ${name === '*' ? '' : `#${nameHash(name)}: `}${describeError(error)}`);
    const updater = config.updater.inProcess && config.signing === 'offline' ? createUpdater(config, store, { onError, onSigned: metrics.signingObserver(config.domain) }) : null;
    const stopZoneRefresh = config.updater.inProcess ? startZoneRefresh(config, io.err) : () => {};
    updater?.start();
    return {
        running: updater !== null,
        async stop() {

            stopZoneRefresh();
            await updater?.stop();
        }
    };
}

async function serveOne(config: IksConfig, io: Output, untilSignal: () => Promise<string>): Promise<number> {

    const store = storeFor(config);
    // One registry for the gateway and the in-process updater: /metrics shows signing latency too.
    const metrics = new IksMetrics();
    let server: Awaited<ReturnType<typeof createGateway>> | undefined;
    let signer: ReturnType<typeof startInProcessSigner> | undefined;
    try {
        server = await createGateway(config, { store, metrics });
        signer = startInProcessSigner(config, store, metrics, io);
        await server.start();
    }
    catch (error) {
        // What did start (the DNS listener, the signer's timers, the store) would keep the process alive.
        await server?.stop({ timeout: 1000 }).catch(() => {});
        await signer?.stop();
        await store.close();
        throw listenFailure(error, config);
    }

    io.out(`IKS gateway for ${config.domain} on ${server.info.uri}${signer.running ? ' with an in-process updater' : ''}`);
    io.err(`stopping on ${await untilSignal()}`);
    await server.stop({ timeout: 5000 });
    await signer.stop();
    await store.close();
    return 0;
}

async function serveWorker(config: IksConfig): Promise<number> {

    const store = storeFor(config);
    try {
        const metrics = new IksMetrics();
        serveWorkerMetrics(metrics);
        const server = await createGateway(config, { store, metrics });
        try {
            await server.start();
        }
        catch (error) {
            await server.stop({ timeout: 1000 }).catch(() => {});
            throw listenFailure(error, config);
        }

        process.send?.({ iks: 'listening', uri: server.info.uri } satisfies WorkerMessage);

        // The primary decides when the gateway stops and tells its workers. A terminal's Ctrl-C
        // reaches every process of the group: workers leave it to the primary, so none is
        // restarted on the way down. SIGTERM sent to one worker stops it (and the primary
        // starts another); a primary that dies disconnects its workers, which then stop.
        process.on('SIGINT', () => {});
        await new Promise<void>((resolve) => {

            process.on('message', (message: WorkerMessage) => message?.iks === 'shutdown' && resolve());
            process.once('disconnect', resolve);
            process.once('SIGTERM', resolve);
        });
        await server.stop({ timeout: 5000 });
        return 0;
    }
    finally {
        await store.close();
        // The IPC channel would keep a worker that failed to start alive.
        if (process.connected) {
            process.disconnect();
        }
    }
}

async function servePrimary(config: IksConfig, count: number, io: Output, untilSignal: () => Promise<string>): Promise<number> {

    const store = storeFor(config);
    const metrics = new IksMetrics();
    aggregateWorkerMetrics(metrics);
    const signer = startInProcessSigner(config, store, metrics, io);
    let stopping = false;
    let announced = false;
    const listening = new Set<number>();
    // A worker that dies before it listens (a port in use, a bad key file) would die again:
    // the primary stops instead of restarting it forever. Its error is on stderr.
    let failedStart: (reason: string) => void = () => {};
    const startFailure = new Promise<string>((resolve) => {

        failedStart = resolve;
    });

    const fork = (): void => {

        const worker = Cluster.fork();
        let started = false;
        // An IPC failure with a dying worker must not take the primary down; its exit is handled below.
        worker.on('error', (error: Error) => io.err(`gateway worker ${worker.process.pid}: ${error.message}`));
        worker.on('message', (message: WorkerMessage) => {

            if (message?.iks !== 'listening') {
                return;
            }

            started = true;
            listening.add(worker.id);
            if (!announced && listening.size === count) {
                announced = true;
                io.out(`IKS gateway for ${config.domain} on ${message.uri} with ${count} worker processes${signer.running ? ' and an in-process updater in the primary' : ''}`);
            }
        });
        worker.once('exit', (code, signal) => {

            listening.delete(worker.id);
            if (!stopping && !started) {
                failedStart(`gateway worker ${worker.process.pid} could not start (its error is above)`);
            }
            else if (!stopping) {
                io.err(`gateway worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
                setTimeout(() => !stopping && fork(), internals.restartDelayMs);
            }
        });
    };

    for (let i = 0; i < count; ++i) {
        fork();
    }

    const stoppedBy = await Promise.race([untilSignal().then((signal) => ({ signal })), startFailure.then((failure) => ({ failure }))]);
    io.err('signal' in stoppedBy ? `stopping on ${stoppedBy.signal}` : `${stoppedBy.failure}; stopping`);
    stopping = true;
    const workers = Object.values(Cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {

        if (worker.isDead()) {
            return resolve();
        }

        const timer = setTimeout(() => worker.process.kill('SIGKILL'), internals.stopTimeoutMs);
        worker.once('exit', () => (clearTimeout(timer), resolve()));
        worker.send({ iks: 'shutdown' } satisfies WorkerMessage, undefined, undefined, () => {});
    })));
    await signer.stop();
    await store.close();
    return 'signal' in stoppedBy ? 0 : 2;
}
