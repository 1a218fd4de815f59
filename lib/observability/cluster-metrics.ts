/**
 * `/metrics` of a gateway run as several processes (`iks serve --workers N`). A scrape
 * lands on one worker, but Prometheus must see the whole gateway: the worker asks the
 * primary, the primary collects every worker's registry (and its own: the in-process
 * updater's signing metrics) over the cluster IPC channel, and prom-client's
 * AggregatorRegistry merges them: counters and histograms add up, the store gauges that
 * every worker reads alike use the aggregator their definition names.
 */
import Cluster, { type Worker } from 'node:cluster';

import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

import type { IksMetrics } from './metrics';

type Snapshot = MetricObjectWithValues<MetricValue<string>>[];

type Message =
    | { readonly iks: 'metrics-scrape'; readonly id: number }
    | { readonly iks: 'metrics-request'; readonly id: number }
    | { readonly iks: 'metrics-snapshot'; readonly id: number; readonly snapshot: Snapshot }
    | { readonly iks: 'metrics-reply'; readonly id: number; readonly body?: string; readonly error?: string };

const internals = {
    // A worker that does not answer in time is left out of that scrape rather than failing it.
    collectTimeoutMs: 2_000,
    scrapeTimeoutMs: 5_000,
    // A process at the other end may be going away: a message that cannot be sent is simply
    // not answered (the timeouts above cover it), rather than an 'error' event nobody handles.
    ignoreSendError: () => {}
};

function isMessage(value: unknown): value is Message {

    return typeof value === 'object' && value !== null && typeof (value as { iks?: unknown }).iks === 'string' && typeof (value as { id?: unknown }).id === 'number';
}

/**
 * Worker side: answers the primary's collection requests with this worker's registry and
 * makes `metrics.render()` return the whole cluster's metrics.
 */
export function serveWorkerMetrics(metrics: IksMetrics): void {

    let nextId = 0;
    const pending = new Map<number, { resolve: (body: string) => void; reject: (error: Error) => void }>();
    process.on('message', (message: unknown) => {

        if (!isMessage(message)) {
            return;
        }

        if (message.iks === 'metrics-request') {
            // A worker whose registry cannot be read is left out of the scrape by the primary's timeout.
            metrics.registry.getMetricsAsJSON().then(
                (snapshot) => process.send?.({ iks: 'metrics-snapshot', id: message.id, snapshot }, undefined, undefined, internals.ignoreSendError),
                internals.ignoreSendError
            );
        }
        else if (message.iks === 'metrics-reply') {
            const waiting = pending.get(message.id);
            pending.delete(message.id);
            message.body !== undefined ? waiting?.resolve(message.body) : waiting?.reject(new Error(message.error ?? 'no metrics'));
        }
    });

    metrics.useSource(() => new Promise<string>((resolve, reject) => {

        const id = ++nextId;
        const timer = setTimeout(() => {

            pending.delete(id);
            reject(new Error('the primary process did not answer the metrics scrape'));
        }, internals.scrapeTimeoutMs);
        pending.set(id, {
            resolve: (body) => (clearTimeout(timer), resolve(body)),
            reject: (error) => (clearTimeout(timer), reject(error))
        });
        process.send?.({ iks: 'metrics-scrape', id }, undefined, undefined, (error: Error | null) => error && pending.get(id)?.reject(error));
    }));
}

/** Primary side: answers a worker's scrape with every worker's metrics and the primary's own. */
export function aggregateWorkerMetrics(primary: IksMetrics): void {

    let nextId = 0;
    const collecting = new Map<number, { snapshots: Snapshot[]; expected: number; done: () => void }>();

    const collect = async (): Promise<string> => {

        const workers = Object.values(Cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
        const id = ++nextId;
        const snapshots: Snapshot[] = [];
        await new Promise<void>((resolve) => {

            const timer = setTimeout(resolve, internals.collectTimeoutMs);
            collecting.set(id, { snapshots, expected: workers.length, done: () => (clearTimeout(timer), resolve()) });
            workers.forEach((worker) => worker.send({ iks: 'metrics-request', id }, undefined, undefined, internals.ignoreSendError));
            if (workers.length === 0) {
                collecting.get(id)!.done();
            }
        });
        collecting.delete(id);
        snapshots.push(await primary.registry.getMetricsAsJSON() as Snapshot);
        return await AggregatorRegistry.aggregate(snapshots).metrics();
    };

    Cluster.on('message', (worker: Worker, message: unknown) => {

        if (!isMessage(message)) {
            return;
        }

        if (message.iks === 'metrics-snapshot') {
            const entry = collecting.get(message.id);
            entry?.snapshots.push(message.snapshot);
            if (entry && entry.snapshots.length === entry.expected) {
                entry.done();
            }
        }
        else if (message.iks === 'metrics-scrape') {
            collect().then(
                (body) => worker.send({ iks: 'metrics-reply', id: message.id, body }, undefined, undefined, internals.ignoreSendError),
                (error: Error) => worker.send({ iks: 'metrics-reply', id: message.id, error: error.message }, undefined, undefined, internals.ignoreSendError)
            );
        }
    });
}
