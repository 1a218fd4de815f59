/**
 * The Prometheus metrics of IKS (prom-client). Every IksMetrics owns its own Registry,
 * never prom-client's global default: a host application keeps its metrics apart, two
 * gateways in one process (tests, several domains) do not collide, and nothing is
 * module-level state. The plugins of one gateway share one instance (the `metrics`
 * option), so one `/metrics` shows lookups, registrations and DNS together.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { Store } from '../store/types';

export type LookupDocument = 'list' | 'key';

/** hit: a signed document (200); negative: RSK-signed "no keys" (404); not-modified: 304. */
export type LookupOutcome = 'hit' | 'negative' | 'not-modified' | 'unavailable' | 'bad-request' | 'not-served' | 'error';

/** The part of the store the queue gauges read. */
export type QueueSource = Pick<Store, 'queueDepth' | 'earliestDue'>;

interface WatchedQueue {
    readonly store: QueueSource;
    /** ms; documents are re-signed this long before they lapse (config `refreshBefore`). */
    readonly refreshBefore: number;
}

const internals = {
    // Signing one name takes well under a millisecond per document; a slow store write shows up in the top buckets.
    signingBuckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]
};

export class IksMetrics {

    readonly registry = new Registry();

    readonly lookups = new Counter({
        name: 'iks_lookups_total',
        help: 'Lookups answered, by document (list, key) and outcome (hit, negative, not-modified, unavailable, bad-request, not-served, error)',
        labelNames: ['domain', 'document', 'outcome'] as const,
        registers: [this.registry]
    });

    readonly registrations = new Counter({
        name: 'iks_registrations_total',
        help: 'Registration requests, by operation, authentication method and outcome (fault: refused before authentication)',
        labelNames: ['domain', 'operation', 'method', 'outcome'] as const,
        registers: [this.registry]
    });

    readonly dnsQueries = new Counter({
        name: 'iks_dns_queries_total',
        help: 'DNS queries answered by dns-authority, by transport, query type and response code',
        labelNames: ['zone', 'transport', 'qtype', 'rcode'] as const,
        registers: [this.registry]
    });

    readonly signingDuration = new Histogram({
        name: 'iks_signing_duration_seconds',
        help: 'Time the updater takes to rebuild, sign and store the documents of one name',
        labelNames: ['domain', 'outcome'] as const,
        buckets: internals.signingBuckets,
        registers: [this.registry]
    });

    readonly #queues = new Map<string, WatchedQueue>();
    /** Where render() takes its text from instead of this registry (a cluster worker asks the primary). */
    #source: (() => Promise<string>) | null = null;

    constructor() {

        const queues = this.#queues;

        new Gauge({
            name: 'iks_store_up',
            help: '1 when the store answered the last scrape, 0 otherwise',
            labelNames: ['domain'] as const,
            registers: [this.registry],
            // Every worker of a cluster reads the same store: merging must not add their readings up.
            aggregator: 'min',
            async collect() {

                for (const [domain, { store }] of queues) {
                    this.set({ domain }, await store.queueDepth().then(() => 1, () => 0));
                }
            }
        });

        new Gauge({
            name: 'iks_queue_depth',
            help: 'Names in the update queue, waiting or leased (every signed name waits there for its next re-sign)',
            labelNames: ['domain'] as const,
            registers: [this.registry],
            aggregator: 'max',
            async collect() {

                for (const [domain, { store }] of queues) {
                    await settle(store.queueDepth(), (depth) => this.set({ domain }, depth), () => this.remove({ domain }));
                }
            }
        });

        new Gauge({
            name: 'iks_queue_oldest_age_seconds',
            help: 'How long the earliest due name has waited past its due time (0 when nothing is overdue)',
            labelNames: ['domain'] as const,
            registers: [this.registry],
            aggregator: 'max',
            async collect() {

                for (const [domain, { store }] of queues) {
                    await settle(store.earliestDue(), (due) => this.set({ domain }, due === null ? 0 : Math.max(0, (Date.now() - due) / 1000)), () => this.remove({ domain }));
                }
            }
        });

        new Gauge({
            name: 'iks_signature_expiry_horizon_seconds',
            help: 'Seconds until the earliest queued re-sign plus refreshBefore: when the first signature lapses if the updater stops now (see docs/operations.md)',
            labelNames: ['domain'] as const,
            registers: [this.registry],
            aggregator: 'min',
            async collect() {

                for (const [domain, { store, refreshBefore }] of queues) {
                    await settle(store.earliestDue(), (due) => (due === null ? this.remove({ domain }) : this.set({ domain }, (due + refreshBefore - Date.now()) / 1000)), () => this.remove({ domain }));
                }
            }
        });
    }

    /** Reports the queue of `domain`'s store at every scrape (one entry per domain; the last call wins). */
    watchQueue(domain: string, store: QueueSource, options: { refreshBefore: number }): void {

        this.#queues.set(domain, { store, refreshBefore: options.refreshBefore });
    }

    /** The updater's `onSigned` callback: records signing latency for `domain`. */
    signingObserver(domain: string): (name: string, seconds: number, ok: boolean) => void {

        return (_name, seconds, ok) => this.signingDuration.observe({ domain, outcome: ok ? 'signed' : 'failed' }, seconds);
    }

    /** Prometheus text exposition of everything in this registry. */
    async render(): Promise<{ contentType: string; body: string }> {

        return { contentType: this.registry.contentType, body: this.#source ? await this.#source() : await this.registry.metrics() };
    }

    /** Makes render() serve `source` (lib/observability/cluster-metrics.ts: the whole cluster's metrics). */
    useSource(source: () => Promise<string>): void {

        this.#source = source;
    }
}

/** A scrape must not fail because the store is down: the gauge just has no value then. */
async function settle<T>(promise: Promise<T>, onValue: (value: T) => void, onError: () => void): Promise<void> {

    try {
        onValue(await promise);
    }
    catch {
        onError();
    }
}
