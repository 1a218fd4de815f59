/**
 * The updater (paper §6.2, ARCHITECTURE.md §2): in the `offline` strategy the only
 * process that holds the KSK. It takes names from the store's queue, rebuilds and
 * signs their documents, stores them, and schedules the next re-sign. Processing a
 * name reads its current registrations, so it is idempotent and redelivery is safe.
 */
import type { SigningKey } from '../../lib/keys/types';
import type { QueueJob, Store } from '../../lib/store/types';
import { buildDomainDocuments, buildNameDocuments, type NameDocuments, type PublishedDomainKey, type SigningPolicy } from './documents';

export interface UpdaterOptions {
    readonly store: Store;
    readonly domain: string;
    readonly ksk: SigningKey;
    /** Domain keys published KSK-signed under the domain's own name. */
    readonly published: readonly PublishedDomainKey[];
    readonly policy: SigningPolicy;
    readonly batchSize: number;
    /** How long a claimed name stays leased to this worker, ms. */
    readonly lease: number;
    /** Idle poll interval, ms. */
    readonly pollInterval: number;
    readonly now?: () => number;
    readonly onError?: (error: unknown, name: string) => void;
}

export interface BatchResult {
    readonly processed: number;
    readonly failed: number;
}

const internals = {
    maxBackoff: 60_000
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

    constructor(options: UpdaterOptions) {

        this.#options = options;
        this.#now = options.now ?? Date.now;
    }

    /** Rebuilds and stores every document of one name (or of the domain itself). */
    async processName(name: string): Promise<NameDocuments> {

        const { store, ksk, policy, domain } = this.#options;
        // Documents state times in whole seconds; keep the stored validity identical.
        const now = Math.floor(this.#now() / 1000) * 1000;
        const result = name === domain ?
            buildDomainDocuments(domain, this.#options.published, ksk, policy, now) :
            buildNameDocuments(name, await store.getRegistrations(name), ksk, policy, now);

        await store.replaceDocuments(name, result.documents);
        if (result.nextDue !== null) {
            await store.enqueue([name], result.nextDue);
        }

        return result;
    }

    /** Processes what is due now, one batch. */
    async runBatch(): Promise<BatchResult> {

        const { store, batchSize, lease } = this.#options;
        const jobs = await store.claim(batchSize, lease);
        let failed = 0;
        await Promise.all(jobs.map(async (job) => {

            try {
                await this.processName(job.name);
                await store.ack(job);
            }
            catch (error) {
                failed++;
                this.#options.onError?.(error, job.name);
                await this.#retry(job);
            }
        }));

        return { processed: jobs.length - failed, failed };
    }

    async #retry(job: QueueJob): Promise<void> {

        // Exponential backoff; the job stays visible in the queue while it waits.
        const delay = Math.min(internals.maxBackoff, 100 * 2 ** Math.min(job.attempts, 16));
        try {
            await this.#options.store.fail(job, this.#now() + delay);
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

    /** Publishes the domain documents now, then keeps processing the queue until stop(). */
    start(): void {

        if (this.#running) {
            return;
        }

        this.#running = true;
        this.#loop = this.#run();
    }

    /** Asks the loop to look at the queue now instead of at the next poll. */
    poke(): void {

        this.#poked = true;
        this.#wake?.();
    }

    async stop(): Promise<void> {

        this.#running = false;
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
