/**
 * `iks updater`: the off-line signer (paper §6, `offline` strategy), the only process
 * that loads the KSK. Runs until stopped, or with --once processes what is due and exits
 * (a signer run from cron on a separate host); --resign-all re-signs every name with a
 * progress bar; --failed lists the jobs given up after too many attempts and
 * --retry-failed queues them again (neither loads the KSK). In `ondemand`/`online` a
 * gateway plugin holds the KSK, and the updater signs only the zone (ARCHITECTURE.md §2).
 */
import { SingleBar, Presets } from 'cli-progress';

import type { IksConfig } from '../../config';
import { KskRetired } from '../errors';
import { createUpdater, ensureSignedZone, queueEveryName, startZoneRefresh, type BatchResult } from '../../workers/updater';
import { IksMetrics, nameHash, startMetricsServer } from '../observability';
import type { Store } from '../store/types';
import { describeError, type Output } from './output';

export interface UpdaterCommandOptions {
    readonly once?: boolean;
    readonly resignAll?: boolean;
    readonly failed?: boolean;
    readonly retryFailed?: boolean;
    /** Draw a progress bar (default: when stderr is a terminal). */
    readonly progress?: boolean;
    /** Where the bar is drawn (default stderr). */
    readonly progressStream?: NodeJS.WritableStream;
}

const internals = {
    exit: { ok: 0, failed: 2 },
    kskHolder: { ondemand: 'iks-query', online: 'iks-register' } as const
};

/** Lists or requeues dead letters; no key is loaded. */
async function manageFailed(store: Store, options: UpdaterCommandOptions, io: Output): Promise<number> {

    if (options.retryFailed) {
        io.out(`queued ${await store.retryFailed()} failed name(s) again`);
        return internals.exit.ok;
    }

    const failed = await store.failedJobs();
    for (const job of failed) {
        io.out(`${new Date(job.failedAt).toISOString()}  ${job.name}  after ${job.attempts} attempt(s): ${job.reason}`);
    }

    io.err(`${failed.length} failed job(s)${failed.length > 0 ? '; `iks updater --retry-failed` queues them again' : ''}`);
    return failed.length > 0 ? internals.exit.failed : internals.exit.ok;
}

/**
 * `ondemand`/`online` (paper §6): a gateway plugin holds the KSK and runs the queue loop,
 * and a second KSK holder here would widen its exposure for nothing. The zone key must
 * stay out of the gateway all the same, so this process still keeps the zone signed.
 */
async function signZoneOnly(config: IksConfig, store: Store, signing: keyof typeof internals.kskHolder, options: UpdaterCommandOptions, io: Output, untilStopped: () => Promise<string>): Promise<number> {

    const holder = `the ${internals.kskHolder[signing]} plugin holds the KSK`;
    if (options.resignAll) {
        io.err(`signing is "${signing}": ${holder}, so \`iks updater --resign-all\` cannot re-sign documents here; it runs only with signing "offline"`);
        return internals.exit.failed;
    }

    io.err(`signing is "${signing}": ${holder} and signs the documents; this updater signs only the zone`);
    if (options.once) {
        const outcome = ensureSignedZone(config);
        io.out(`zone: ${outcome.signed ? `signed (${outcome.reason})` : outcome.reason}`);
        return internals.exit.ok;
    }

    // No signing latency here, but the queue gauges still show whether the plugin keeps up,
    // and a health check may poll this endpoint whatever the strategy (docker-compose.yml).
    return await runUntilStopped(config, io, untilStopped, 'zone signer', queueMetrics(config, store));
}

/** The queue's gauges, when the long-running signer serves /metrics (config updater.metricsPort). */
function queueMetrics(config: IksConfig, store: Store): IksMetrics | null {

    if (config.updater.metricsPort === undefined) {
        return null;
    }

    const metrics = new IksMetrics();
    metrics.watchQueue(config.domain, store, { refreshBefore: config.refreshBefore * 1000 });
    return metrics;
}

/** The long-running form: serves `metrics`, keeps the zone signed and runs `work` until stopped. */
async function runUntilStopped(config: IksConfig, io: Output, untilStopped: () => Promise<string>, role: string, metrics: IksMetrics | null, work?: { start(): void; stop(): Promise<void> }): Promise<number> {

    const metricsServer = metrics ? await startMetricsServer(metrics, { host: config.updater.metricsHost, port: config.updater.metricsPort! }) : null;
    const stopZoneRefresh = startZoneRefresh(config, io.err);
    work?.start();
    io.out(`${role} for ${config.domain} running${metricsServer ? `; metrics on ${metricsServer.url}` : ''}`);
    io.err(`stopping on ${await untilStopped()}`);
    stopZoneRefresh();
    await work?.stop();
    await metricsServer?.close();
    return internals.exit.ok;
}

/** Runs `iks updater`; resolves with the exit code (or when stopped, for the long-running form). */
export async function runUpdater(config: IksConfig, store: Store, options: UpdaterCommandOptions, io: Output, untilStopped: () => Promise<string>): Promise<number> {

    if (options.failed || options.retryFailed) {
        return manageFailed(store, options, io);
    }

    if (config.signing !== 'offline') {
        return await signZoneOnly(config, store, config.signing, options, io, untilStopped);
    }

    let bar: SingleBar | null = null;
    let done = 0;
    const onBatch = (batch: BatchResult) => {

        done += batch.processed + batch.failed;
        bar?.update(done);
    };

    // The long-running signer may serve its own /metrics (signing latency, queue).
    const metrics = !options.once && !options.resignAll ? queueMetrics(config, store) : null;
    // A rollover activated since the KSK was loaded: stop (and exit non-zero, so a supervisor
    // restarts it with the new KSK) rather than fail every name until someone notices.
    let retired: KskRetired | null = null;
    let stopRetired = (_reason: string) => {};
    const retiredStop = new Promise<string>((resolve) => {

        stopRetired = resolve;
    });
    const onError = (error: unknown, name: string) => {

        if (error instanceof KskRetired) {
            // Once, not once per name.
            if (retired === null) {
                retired = error;
                io.err(describeError(error));
                stopRetired(error.code);
            }

            return;
        }

        io.err(`#${nameHash(name)}: ${describeError(error)}`);
    };

    // --resign-all is a deliberate full re-sign: no current document is kept.
    const updater = createUpdater(config, store, { reuse: !options.resignAll, onError, onBatch, ...(metrics ? { onSigned: metrics.signingObserver(config.domain) } : {}) });
    if (!options.once && !options.resignAll) {
        await store.enqueue([config.domain]);
        const code = await runUntilStopped(config, io, () => Promise.race([untilStopped(), retiredStop]), 'updater', metrics, updater);
        return retired ? internals.exit.failed : code;
    }

    const zoneOutcome = ensureSignedZone(config, { force: options.resignAll ?? false });
    io.out(`zone: ${zoneOutcome.signed ? `signed (${zoneOutcome.reason})` : zoneOutcome.reason}`);

    const queued = options.resignAll ? await queueEveryName(store, config.domain) : (await store.enqueue([config.domain]), 0);
    if (options.resignAll && (options.progress ?? process.stderr.isTTY === true)) {
        bar = new SingleBar({ format: 're-sign [{bar}] {percentage}% {value}/{total} names | {eta_formatted} left', etaBuffer: 50, stream: options.progressStream ?? process.stderr, noTTYOutput: options.progress === true }, Presets.shades_classic);
        bar.start(queued, 0);
    }

    const started = Date.now();
    const totals = await updater.drain();
    bar?.update(done);
    bar?.stop();
    const seconds = (Date.now() - started) / 1000;
    io.out(`signed ${totals.processed} name(s), ${totals.failed} failed${options.resignAll ? ` (${queued} queued for re-signing) in ${seconds.toFixed(1)} s` : ''}`);
    return totals.failed > 0 || retired ? internals.exit.failed : internals.exit.ok;
}
