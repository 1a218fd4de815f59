/**
 * `iks updater`: the off-line signer (paper §6, `offline` strategy), the only process
 * that loads the KSK. Runs until stopped, or with --once processes what is due and exits
 * (a signer run from cron on a separate host); --resign-all re-signs every name with a
 * progress bar; --failed lists the jobs given up after too many attempts and
 * --retry-failed queues them again (neither loads the KSK).
 */
import { SingleBar, Presets } from 'cli-progress';

import type { IksConfig } from '../../config';
import { createUpdater, ensureSignedZone, queueEveryName, startZoneRefresh, type BatchResult } from '../../workers/updater';
import { IksMetrics, startMetricsServer } from '../observability';
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
    exit: { ok: 0, failed: 2 }
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

/** Runs `iks updater`; resolves with the exit code (or when stopped, for the long-running form). */
export async function runUpdater(config: IksConfig, store: Store, options: UpdaterCommandOptions, io: Output, untilStopped: () => Promise<string>): Promise<number> {

    if (options.failed || options.retryFailed) {
        return manageFailed(store, options, io);
    }

    // Paper §6: in the other strategies a gateway plugin holds the KSK and runs the loop;
    // a second holder here would widen the KSK's exposure for nothing.
    if (config.signing !== 'offline') {
        io.err(`signing is "${config.signing}": the ${config.signing === 'ondemand' ? 'iks-query' : 'iks-register'} plugin holds the KSK and signs; \`iks updater\` runs only with signing "offline"`);
        return internals.exit.failed;
    }

    let bar: SingleBar | null = null;
    let done = 0;
    const onBatch = (batch: BatchResult) => {

        done += batch.processed + batch.failed;
        bar?.update(done);
    };

    // The long-running signer may serve its own /metrics (signing latency, queue); config updater.metricsPort.
    const metrics = !options.once && !options.resignAll && config.updater.metricsPort !== undefined ? new IksMetrics() : null;
    metrics?.watchQueue(config.domain, store, { refreshBefore: config.refreshBefore * 1000 });
    // --resign-all is a deliberate full re-sign: no current document is kept.
    const updater = createUpdater(config, store, { reuse: !options.resignAll, onError: (error, name) => io.err(`${name}: ${describeError(error)}`), onBatch, ...(metrics ? { onSigned: metrics.signingObserver(config.domain) } : {}) });
    if (!options.once && !options.resignAll) {
        const metricsServer = metrics ? await startMetricsServer(metrics, { host: config.updater.metricsHost, port: config.updater.metricsPort! }) : null;
        await store.enqueue([config.domain]);
        const stopZoneRefresh = startZoneRefresh(config, io.err);
        updater.start();
        io.out(`updater for ${config.domain} running${metricsServer ? `; metrics on ${metricsServer.url}` : ''}`);
        io.err(`stopping on ${await untilStopped()}`);
        stopZoneRefresh();
        await updater.stop();
        await metricsServer?.close();
        return internals.exit.ok;
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
    return totals.failed > 0 ? internals.exit.failed : internals.exit.ok;
}
