/**
 * The updater (paper §6.2, ARCHITECTURE.md §2): the queue loop of the signer. In the
 * `offline` strategy it runs in the only process that holds the KSK; in `ondemand` and
 * `online` it runs inside the plugin that holds it. It takes due names from the store's
 * queue (changes, scheduled re-signs, expiries, purges), has the NameSigner rebuild
 * them, and acknowledges. Delivery is at least once: a worker that dies mid-batch loses
 * its leases and the names are delivered again; signing a name twice is harmless.
 */
import { KskRetired, UnpublishableRegistration } from '../../lib/errors';
import type { QueueJob, Store } from '../../lib/store/types';
import type { NameDocuments } from './documents';
import type { NameSigner } from './signer';

export interface UpdaterOptions {
    readonly store: Store;
    readonly signer: NameSigner;
    readonly batchSize: number;
    /** How long a claimed name stays leased to this worker, ms. */
    readonly lease: number;
    /** Idle poll interval, ms. */
    readonly pollInterval: number;
    /** Deliveries of one job before it is given up (dead letter, `iks updater --failed`); default 10. */
    readonly maxAttempts?: number;
    readonly now?: () => number;
    readonly onError?: (error: unknown, name: string) => void;
    /** Called after each batch with the names signed in it (progress bars, metrics). */
    readonly onBatch?: (result: BatchResult) => void;
    /** Called after each name with how long signing and storing it took, seconds (metrics). */
    readonly onSigned?: (name: string, seconds: number, ok: boolean) => void;
}

export interface BatchResult {
    readonly processed: number;
    readonly failed: number;
}

const internals = {
    maxBackoff: 60_000,
    maxAttempts: 10
};

export class Updater {

    readonly #options: UpdaterOptions;
    readonly #now: () => number;
    #running = false;
    #timer: NodeJS.Timeout | null = null;
    #loop: Promise<void> | null = null;
    #wake: (() => void) | null = null;
    // A poke that arrives while a batch runs must not be lost to the next sleep.
    #poked = false;
    #stopWatching: (() => void) | null = null;
    #retired: KskRetired | null = null;

    constructor(options: UpdaterOptions) {

        this.#options = options;
        this.#now = options.now ?? Date.now;
    }

    get signer(): NameSigner {

        return this.#options.signer;
    }

    /** Rebuilds and stores every document of one name (or of the domain itself). */
    processName(name: string): Promise<NameDocuments> {

        return this.#options.signer.sign(name);
    }

    /** Processes what is due now, one batch. */
    async runBatch(): Promise<BatchResult> {

        const { store, batchSize, lease } = this.#options;
        // A signer whose KSK a rollover retired claims nothing: the names stay queued for one
        // that holds the new KSK (or for this one, once it can load it), rather than failing
        // here until they are given up. Reported once per retirement, not once per poll.
        const retired = this.#options.signer.retired();
        if (retired) {
            if (this.#retired?.message !== retired.message) {
                this.#options.onError?.(retired, '*');
            }

            this.#retired = retired;
            return { processed: 0, failed: 0 };
        }

        this.#retired = null;
        const jobs = await store.claim(batchSize, lease);
        let failed = 0;
        await Promise.all(jobs.map(async (job) => {

            const started = process.hrtime.bigint();
            const signed = (ok: boolean) => this.#options.onSigned?.(job.name, Number(process.hrtime.bigint() - started) / 1e9, ok);
            try {
                // The next due time (re-sign, expiry, purge) is queued by the ack itself.
                const result = await this.#options.signer.sign(job.name, { schedule: false });
                signed(true);
                for (const { keyId, reason } of result.unpublishable) {
                    this.#options.onError?.(new UnpublishableRegistration(keyId, reason), job.name);
                }

                await store.ack(job, result.nextDue ?? undefined);
            }
            catch (error) {
                signed(false);
                failed++;
                this.#options.onError?.(error, job.name);
                await this.#retry(job, error);
            }
        }));

        const result = { processed: jobs.length - failed, failed };
        this.#options.onBatch?.(result);
        return result;
    }

    async #retry(job: QueueJob, error: unknown): Promise<void> {

        const { store, maxAttempts = internals.maxAttempts } = this.#options;
        try {
            if (error instanceof KskRetired) {
                // Retired between the check and the signing: handed back at once, never given up.
                await store.fail(job, this.#now());
                return;
            }

            if (job.attempts >= maxAttempts) {
                // Given up, not dropped: listed by `iks updater --failed` until retried.
                await store.bury(job, error instanceof Error ? error.message : String(error));
                return;
            }

            // Exponential backoff; the job stays visible in the queue while it waits.
            const delay = Math.min(internals.maxBackoff, 100 * 2 ** Math.min(job.attempts, 16));
            await store.fail(job, this.#now() + delay);
        }
        catch {
            // The lease lapses by itself and the name is delivered again.
        }
    }

    /** Processes batches until nothing is due; resolves with the totals. */
    async drain(): Promise<BatchResult> {

        let processed = 0;
        let failed = 0;
        for (;;) {
            const batch = await this.runBatch();
            processed += batch.processed;
            failed += batch.failed;
            if (batch.processed + batch.failed === 0) {
                return { processed, failed };
            }
        }
    }

    /** Keeps processing the queue until stop(). */
    start(): void {

        if (this.#running) {
            return;
        }

        this.#running = true;
        this.#stopWatching = this.#options.store.onQueued(() => this.poke());
        this.#loop = this.#run();
    }

    /** Asks the loop to look at the queue now instead of at the next poll. */
    poke(): void {

        this.#poked = true;
        this.#wake?.();
    }

    async stop(): Promise<void> {

        this.#running = false;
        this.#stopWatching?.();
        this.#stopWatching = null;
        this.poke();
        await this.#loop;
        this.#loop = null;
    }

    async #run(): Promise<void> {

        while (this.#running) {
            this.#poked = false;
            let batch: BatchResult = { processed: 0, failed: 0 };
            try {
                batch = await this.runBatch();
            }
            catch (error) {
                this.#options.onError?.(error, '*');
            }

            if (batch.processed + batch.failed === 0 && this.#running && !this.#poked) {
                await new Promise<void>((resolve) => {

                    this.#wake = resolve;
                    this.#timer = setTimeout(resolve, this.#options.pollInterval);
                });
                clearTimeout(this.#timer!);
                this.#wake = null;
            }
        }
    }
}

/**
 * Queues every name with registrations, and the domain itself, for signing now (a full
 * re-sign, e.g. after a KSK change). Coalesces with the scheduled re-signs already queued.
 * Resolves with the number of names queued.
 */
export async function queueEveryName(store: Store, domain: string, chunk = 1000): Promise<number> {

    let names: string[] = [domain];
    let total = 0;
    for await (const name of store.scanNames()) {
        names.push(name);
        if (names.length >= chunk) {
            await store.enqueue(names);
            total += names.length;
            names = [];
        }
    }

    await store.enqueue(names);
    return total + names.length;
}
