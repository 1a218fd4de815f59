/**
 * The Redis store (production and scale-out) on ioredis. A lookup is one HGET;
 * queue steps that must be atomic are Lua scripts in ./lua (loaded once). Calls
 * fail fast with StoreUnavailable while Redis is down and recover by themselves.
 */
import { randomBytes } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';

import { RegistrationsChanged, StoreUnavailable } from '../errors';
import { assertDueTime } from './due-time';
import { RateLimiterFailures } from './failure-limiter';
import { RedisKeys } from './keys';
import type { DocumentSource, FailedJob, FailureLimiter, FailureLimiterOptions, PutRegistrationsOptions, QueueJob, Registration, SigningInput, SourcedDocument, Store, StoredDocument, UserRecord, VersionedRegistrations } from './types';

export interface RedisStoreOptions {
    /** `redis://` / `rediss://` URL; or pass `client`. */
    readonly url?: string;
    /** The URL is one node of a Redis Cluster; the others are discovered from it. */
    readonly cluster?: boolean;
    readonly client?: Redis | Cluster;
    /** Key prefix, so several deployments (or tests) can share a server (default `iks`). */
    readonly keyPrefix?: string;
    /** Per-command bound, ms (default 2000). */
    readonly commandTimeout?: number;
}

interface QueueCommands {
    putRegistrations(registrations: string, pending: string, version: string, now: number, name: string, ifVersion: number | '', ...keyIdsAndJson: string[]): Promise<string[] | null>;
    readRegistrations(registrations: string, version: string): Promise<[number, string[]]>;
    purgeRegistrations(registrations: string, version: string, readVersion: number, ...keyIds: string[]): Promise<number>;
    readForSigning(registrations: string, sources: string, version: string): Promise<[number, string[], string[]]>;
    claimJobs(pending: string, leased: string, leases: string, attempts: string, now: number, max: number, leaseMs: number, token: string): Promise<Array<string | number>>;
    claimName(pending: string, leased: string, leases: string, attempts: string, name: string, now: number, leaseMs: number, token: string): Promise<number | null>;
    ackJob(leased: string, leases: string, attempts: string, failed: string, pending: string, name: string, token: string, ...nextDueAt: number[]): Promise<number>;
    replaceDocuments(documents: string, sources: string, ...slotsAndDocuments: string[]): Promise<number>;
    updateDocuments(documents: string, sources: string, version: string, readVersion: number, ...keptAndTriples: (string | number)[]): Promise<number>;
    buryJob(leased: string, leases: string, attempts: string, failed: string, name: string, token: string, record: string): Promise<number>;
    retryFailed(pending: string, failed: string, dueAt: number): Promise<number>;
    failJob(pending: string, leased: string, leases: string, name: string, token: string, retryAt: number): Promise<number>;
    queueDepth(pending: string, leased: string): Promise<number>;
}

/** A MULTI queueing putRegistrations script calls (ioredis adds defined commands to it). */
interface ScriptTransaction {
    putRegistrations(registrations: string, pending: string, version: string, now: number, name: string, ifVersion: '', ...keyIdsAndJson: string[]): ScriptTransaction;
    exec(): Promise<Array<[Error | null, unknown]> | null>;
}

const internals = {
    scripts: ['putRegistrations-3', 'readRegistrations-2', 'purgeRegistrations-2', 'readForSigning-3', 'claimJobs-4', 'claimName-4', 'ackJob-5', 'replaceDocuments-2', 'updateDocuments-3', 'failJob-3', 'buryJob-4', 'retryFailed-2', 'queueDepth-2'],
    separator: '\n',
    passingStates: /^(?:LOADING|BUSY|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\b/,
    // Cluster only: how far ahead the first (intent) enqueue of a registration is due;
    // well beyond a command's timeout, see putRegistrations.
    intentGrace: 10_000
};

/**
 * ioredis `reconnectOnError`: a READONLY reply means the connection is on a replica, as
 * after a failover behind a DNS name or a virtual IP (the old master demoted, the name now
 * leading to the new one). Reconnect, which resolves the name again, and resend the command
 * (2): without this the connection stays on the demoted master and every write fails for ever.
 */
export function reconnectOnReadOnly(error: Error): 2 | false {

    return error.message.startsWith('READONLY') ? 2 : false;
}

/** A document as one string: etag, signedAt, notAfter, then the body (which may hold newlines). */
function encodeDocument(document: StoredDocument): string {

    return `${document.etag}${internals.separator}${document.signedAt}${internals.separator}${document.notAfter}${internals.separator}${document.body}`;
}

function decodeDocument(value: string): StoredDocument {

    const first = value.indexOf(internals.separator);
    const second = value.indexOf(internals.separator, first + 1);
    const third = value.indexOf(internals.separator, second + 1);
    return {
        etag: value.slice(0, first),
        signedAt: Number(value.slice(first + 1, second)),
        notAfter: Number(value.slice(second + 1, third)),
        body: value.slice(third + 1)
    };
}

export class RedisStore implements Store {

    readonly kind = 'redis' as const;
    readonly keys: RedisKeys;
    readonly #client: (Redis | Cluster) & QueueCommands;
    readonly #ownsClient: boolean;
    readonly #queueListeners = new Set<() => void>();
    // A connection in subscriber mode can run no other command, hence its own.
    #subscriber: Redis | Cluster | null = null;
    #signalInFlight = false;
    #signalAgain = false;
    /** Script name → its Lua source, to load it again (SCRIPT LOAD) where ioredis does not. */
    readonly #scripts = new Map<string, string>();

    constructor(options: RedisStoreOptions) {

        const redisOptions = {
            commandTimeout: options.commandTimeout ?? 2000,
            // Fail queued commands after one reconnect attempt instead of waiting forever.
            maxRetriesPerRequest: 1,
            retryStrategy: (times: number) => Math.min(50 * times, 500),
            enableReadyCheck: true,
            // Commands issued in the same tick go out in one write: the updater's batch
            // (hundreds of names, four commands each) costs a few syscalls, not thousands.
            enableAutoPipelining: true,
            reconnectOnError: reconnectOnReadOnly
        };

        if (!options.client && !options.url) {
            throw new StoreUnavailable('a Redis store needs a url or a client');
        }

        const client = options.client ?? (options.cluster ?
            new Cluster([options.url!], { redisOptions: { ...redisOptions, ...RedisStore.#credentials(options.url!) }, clusterRetryStrategy: redisOptions.retryStrategy, enableReadyCheck: true }) :
            new Redis(options.url!, redisOptions));
        // Errors surface on the commands; an unhandled 'error' event must not crash the process.
        client.on('error', () => {});
        for (const script of internals.scripts) {
            const [name, keys] = script.split('-') as [string, string];
            const lua = Fs.readFileSync(Path.join(__dirname, 'lua', `${script}.lua`), 'utf8');
            client.defineCommand(name, { numberOfKeys: Number(keys), lua });
            this.#scripts.set(name, lua);
        }

        this.#client = client as (Redis | Cluster) & QueueCommands;
        this.#ownsClient = !options.client;
        this.keys = new RedisKeys(options.keyPrefix ?? 'iks');
    }

    /** User, password and TLS of a cluster seed URL, applied to every node. */
    static #credentials(url: string): { username?: string; password?: string; tls?: object } {

        const parsed = new URL(url);
        return {
            ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
            ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
            ...(parsed.protocol === 'rediss:' ? { tls: {} } : {})
        };
    }

    get #isCluster(): boolean {

        return this.#client instanceof Cluster;
    }

    async #call<T>(action: () => Promise<T>): Promise<T> {

        try {
            return await action();
        }
        catch (error) {
            // Reply errors are bugs or misuse, except the states a server passes through
            // (loading its AOF, a long script, a failover, a full disk): those are an
            // unavailable store, to be retried; everything else means Redis is out of reach.
            if ((error as Error).name === 'ReplyError' && !internals.passingStates.test((error as Error).message)) {
                throw error;
            }

            throw new StoreUnavailable(`redis: ${(error as Error).message}`, { cause: error });
        }
    }

    /**
     * Several names' putRegistrations script calls in one MULTI; the results, or the first
     * command's error thrown. ioredis falls back from EVALSHA to EVAL for a single call
     * but not inside MULTI: after SCRIPT FLUSH (or a restart, or a failover to a server
     * that never ran the script) EXEC answers NOSCRIPT for each call, and nothing was
     * written. Then the script is loaded and the transaction sent once more. Errors are
     * mapped as for single calls (#call): a server state passed through is StoreUnavailable.
     */
    async #putRegistrationsMulti(byName: ReadonlyMap<string, string[]>, now: number): Promise<Array<[Error | null, unknown]>> {

        const exec = async (): Promise<Array<[Error | null, unknown]>> => {

            const multi = this.#client.multi() as unknown as ScriptTransaction;
            for (const [name, fields] of byName) {
                multi.putRegistrations(this.keys.registrations(name), this.keys.pending, this.keys.registrationsVersion(name), now, name, '', ...fields);
            }

            let results: Array<[Error | null, unknown]>;
            try {
                results = (await multi.exec()) ?? [];
            }
            catch (error) {
                // EXEC refused (EXECABORT), or the server took no transaction at all (BUSY,
                // LOADING: "EXEC without MULTI"): the first error queueing the commands says why.
                throw (error as { previousErrors?: Error[] }).previousErrors?.[0] ?? error;
            }

            // EXEC answers a script error inside the transaction as a result, not a rejection.
            const failed = results.find(([error]) => error !== null);
            if (failed) {
                throw failed[0];
            }

            return results;
        };

        return await this.#call(async () => {

            try {
                return await exec();
            }
            catch (error) {
                if (!/^NOSCRIPT\b/.test((error as Error).message ?? '')) {
                    throw error;
                }

                await (this.#client as Redis).script('LOAD', this.#scripts.get('putRegistrations')!);
                return await exec();
            }
        });
    }

    async ping(): Promise<void> {

        await this.#call(() => this.#client.ping());
    }

    async close(): Promise<void> {

        this.#stopSubscriber();
        if (!this.#ownsClient) {
            return;
        }

        try {
            await this.#client.quit();
        }
        catch {
            this.#client.disconnect();
        }
    }

    async putRegistrations(registrations: readonly Registration[], options: PutRegistrationsOptions = {}): Promise<Registration[]> {

        if (registrations.length === 0) {
            return [];
        }

        const now = Date.now();
        // Name → its hash fields: keyId, registration JSON pairs.
        const byName = new Map<string, string[]>();
        for (const registration of registrations) {
            const fields = byName.get(registration.name) ?? [];
            fields.push(registration.keyId, JSON.stringify(registration));
            byName.set(registration.name, fields);
        }

        const ifVersion = options.ifVersion ?? '';
        if (ifVersion !== '' && byName.size > 1) {
            throw new Error('putRegistrations: ifVersion needs registrations of one name');
        }

        // A conditional write that found the version moved wrote nothing (the scripts answer null).
        const written = (keyIds: string[] | null): string[] => {

            if (keyIds === null) {
                throw new RegistrationsChanged();
            }

            return keyIds;
        };

        // Name → the keyIds the scripts left as they were (revoked: a revocation is final).
        const kept: Array<[string, string[]]> = [];
        if (!this.#isCluster) {
            // One script call per name (putRegistrations-3.lua): a name's queue entry and its
            // registrations land together. Several names (an import) go in one MULTI.
            if (byName.size === 1) {
                const [name, fields] = byName.entries().next().value!;
                kept.push([name, written(await this.#call(() => this.#client.putRegistrations(this.keys.registrations(name), this.keys.pending, this.keys.registrationsVersion(name), now, name, ifVersion, ...fields)))]);
            }
            else {
                const results = await this.#putRegistrationsMulti(byName, now);
                [...byName.keys()].forEach((name, i) => kept.push([name, results[i]![1] as string[]]));
            }

            this.#signalQueued();
        }
        else {
            // On a cluster a name's keys and the queue live in different slots, so one script
            // cannot hold both. Intent first: the names are queued a grace period ahead, then
            // the registrations are written (one script call per name, one slot each), then
            // the names are made due now. A crash after the write leaves the intent, which
            // comes due and publishes the change; a crash before it signs an unchanged name,
            // which is harmless. The script runs without its queue part: no name, and the
            // registrations' own key in the queue's place, so every key is in the name's slot.
            const names = [...byName.keys()];
            await this.enqueue(names, now + internals.intentGrace);
            kept.push(...await Promise.all([...byName].map(async ([name, fields]): Promise<[string, string[]]> => {

                const key = this.keys.registrations(name);
                return [name, written(await this.#call(() => this.#client.putRegistrations(key, key, this.keys.registrationsVersion(name), now, '', ifVersion, ...fields)))];
            })));
            await this.enqueue(names, now);
        }

        const revoked = new Set(kept.flatMap(([name, keyIds]) => keyIds.map((keyId) => `${name}\n${keyId}`)));
        return registrations.filter((registration) => revoked.has(`${registration.name}\n${registration.keyId}`));
    }

    async getRegistrations(name: string): Promise<Registration[]> {

        const values = await this.#call(() => this.#client.hvals(this.keys.registrations(name)));
        return RedisStore.#registrationsOf(values);
    }

    static #registrationsOf(values: readonly string[]): Registration[] {

        return values.map((value) => JSON.parse(value) as Registration).sort((a, b) => a.keyId.localeCompare(b.keyId));
    }

    async readRegistrations(name: string): Promise<VersionedRegistrations> {

        const [version, registrations] = await this.#call(() => this.#client.readRegistrations(this.keys.registrations(name), this.keys.registrationsVersion(name)));
        return { version, registrations: RedisStore.#registrationsOf(registrations) };
    }

    async readForSigning(name: string): Promise<SigningInput> {

        const [version, registrations, sources] = await this.#call(() => this.#client.readForSigning(this.keys.registrations(name), this.keys.documentSources(name), this.keys.registrationsVersion(name)));
        return { version, registrations: RedisStore.#registrationsOf(registrations), sources: RedisStore.#sourcesOf(sources) };
    }

    async getRegistration(name: string, keyId: string): Promise<Registration | null> {

        const value = await this.#call(() => this.#client.hget(this.keys.registrations(name), keyId));
        return value === null ? null : JSON.parse(value) as Registration;
    }

    async purgeRegistrations(name: string, keyIds: readonly string[], version: number): Promise<number | null> {

        if (keyIds.length === 0) {
            return 0;
        }

        const removed = await this.#call(() => this.#client.purgeRegistrations(this.keys.registrations(name), this.keys.registrationsVersion(name), version, ...keyIds));
        if (removed > 0) {
            await this.enqueue([name]);
        }

        return removed < 0 ? null : removed;
    }

    async *scanNames(): AsyncIterable<string> {

        // SCAN over the registration keys: no global set to keep in step, and on a
        // cluster the same walk runs per master.
        const nodes: Redis[] = this.#client instanceof Cluster ? this.#client.nodes('master') : [this.#client];
        for (const node of nodes) {
            let cursor = '0';
            do {
                const [next, keys] = await this.#call(() => node.scan(cursor, 'MATCH', this.keys.registrationsPattern(), 'COUNT', 1000));
                cursor = next;
                for (const key of keys) {
                    yield this.keys.nameOfRegistrations(key);
                }
            }
            while (cursor !== '0');
        }
    }

    async getDocument(name: string, slot: string): Promise<StoredDocument | null> {

        const value = await this.#call(() => this.#client.hget(this.keys.documents(name), slot));
        return value === null ? null : decodeDocument(value);
    }

    async replaceDocuments(name: string, documents: ReadonlyMap<string, StoredDocument>): Promise<void> {

        // One script call (replaceDocuments-2.lua) rather than MULTI/DEL/HSET/EXEC.
        await this.#call(() => this.#client.replaceDocuments(this.keys.documents(name), this.keys.documentSources(name), ...[...documents].flatMap(([slot, document]) => [slot, encodeDocument(document)])));
    }

    async putDocument(name: string, slot: string, document: StoredDocument): Promise<void> {

        // Both keys carry the name's hash tag: one slot, so one MULTI even on a cluster.
        await this.#call(() => this.#client.multi().hset(this.keys.documents(name), slot, encodeDocument(document)).hdel(this.keys.documentSources(name), slot).exec());
    }

    async updateDocuments(name: string, put: ReadonlyMap<string, SourcedDocument>, keep: readonly string[], version: number): Promise<boolean> {

        // The updater's hot path: one script call (updateDocuments-3.lua).
        const triples = [...put].flatMap(([slot, { document, source }]) => [slot, encodeDocument(document), `${document.notAfter} ${source}`]);
        const written = await this.#call(() => this.#client.updateDocuments(this.keys.documents(name), this.keys.documentSources(name), this.keys.registrationsVersion(name), version, keep.length, ...keep, ...triples));
        return written >= 0;
    }

    /** The sources of a name's documents from HGETALL's flat reply: slot, "<notAfter> <source>", … */
    static #sourcesOf(flat: readonly string[]): Map<string, DocumentSource> {

        const sources = new Map<string, DocumentSource>();
        for (let i = 0; i < flat.length; i += 2) {
            const record = flat[i + 1]!;
            const space = record.indexOf(' ');
            sources.set(flat[i]!, { notAfter: Number(record.slice(0, space)), source: record.slice(space + 1) });
        }

        return sources;
    }

    async enqueue(names: readonly string[], dueAt: number = Date.now()): Promise<void> {

        assertDueTime('enqueue', dueAt);
        if (names.length === 0) {
            return;
        }

        // LT: an earlier due time wins; new names are added.
        await this.#call(() => this.#client.zadd(this.keys.pending, 'LT', ...names.flatMap((name) => [dueAt, name])));
        if (dueAt <= Date.now()) {
            this.#signalQueued();
        }
    }

    async claim(max: number, leaseMs: number): Promise<QueueJob[]> {

        const { pending, leased, leases, attempts } = this.keys;
        const token = randomBytes(12).toString('base64url');
        const flat = await this.#call(() => this.#client.claimJobs(pending, leased, leases, attempts, Date.now(), max, leaseMs, token));
        const jobs: QueueJob[] = [];
        for (let i = 0; i < flat.length; i += 3) {
            jobs.push({ name: String(flat[i]), attempts: Number(flat[i + 1]), lease: String(flat[i + 2]) });
        }

        return jobs;
    }

    async ack(job: QueueJob, nextDueAt?: number): Promise<void> {

        if (nextDueAt !== undefined) {
            assertDueTime('ack', nextDueAt);
        }

        const { leased, leases, attempts, failed, pending } = this.keys;
        await this.#call(() => this.#client.ackJob(leased, leases, attempts, failed, pending, job.name, job.lease, ...(nextDueAt === undefined ? [] : [nextDueAt])));
    }

    async fail(job: QueueJob, retryAt: number): Promise<void> {

        assertDueTime('fail', retryAt);
        await this.#call(() => this.#client.failJob(this.keys.pending, this.keys.leased, this.keys.leases, job.name, job.lease, retryAt));
    }

    async claimName(name: string, leaseMs: number): Promise<QueueJob | null> {

        const { pending, leased, leases, attempts } = this.keys;
        const lease = randomBytes(12).toString('base64url');
        const delivered = await this.#call(() => this.#client.claimName(pending, leased, leases, attempts, name, Date.now(), leaseMs, lease));
        return delivered === null ? null : { name, attempts: Number(delivered), lease };
    }

    async bury(job: QueueJob, reason: string): Promise<void> {

        const record = JSON.stringify({ attempts: job.attempts, reason, failedAt: Date.now() });
        await this.#call(() => this.#client.buryJob(this.keys.leased, this.keys.leases, this.keys.attempts, this.keys.failed, job.name, job.lease, record));
    }

    async failedJobs(): Promise<FailedJob[]> {

        const entries = await this.#call(() => this.#client.hgetall(this.keys.failed));
        return Object.entries(entries)
            .map(([name, json]) => ({ name, ...JSON.parse(json) as Omit<FailedJob, 'name'> }))
            .sort((a, b) => a.failedAt - b.failedAt || a.name.localeCompare(b.name));
    }

    async retryFailed(): Promise<number> {

        const requeued = await this.#call(() => this.#client.retryFailed(this.keys.pending, this.keys.failed, Date.now()));
        if (requeued > 0) {
            this.#signalQueued();
        }

        return requeued;
    }

    onQueued(listener: () => void): () => void {

        this.#queueListeners.add(listener);
        if (this.#subscriber === null) {
            const subscriber: Redis | Cluster = this.#client instanceof Cluster ? this.#client.duplicate() : this.#client.duplicate();
            // It reconnects and resubscribes by itself; polling covers the gap meanwhile.
            subscriber.on('error', () => {});
            subscriber.on('message', () => {

                for (const queued of this.#queueListeners) {
                    queued();
                }
            });
            subscriber.subscribe(this.keys.queueSignal).catch(() => {});
            this.#subscriber = subscriber;
        }

        return () => {

            this.#queueListeners.delete(listener);
            if (this.#queueListeners.size === 0) {
                this.#stopSubscriber();
            }
        };
    }

    /** Tells every process's updater that a name is due; after the write, so it finds it. */
    #signalQueued(): void {

        // One signal in flight at a time, and one more after it for whatever was queued
        // meanwhile: a burst of registrations wakes the updaters once or twice, not once per
        // registration, and nothing queued after a signal was sent goes without one.
        if (this.#signalInFlight) {
            this.#signalAgain = true;
            return;
        }

        this.#signalInFlight = true;
        // Fire and forget: the write is acknowledged already, and a lost signal costs one poll.
        this.#client.publish(this.keys.queueSignal, '').catch(() => {}).finally(() => {

            this.#signalInFlight = false;
            if (this.#signalAgain) {
                this.#signalAgain = false;
                this.#signalQueued();
            }
        });
    }

    #stopSubscriber(): void {

        this.#subscriber?.disconnect();
        this.#subscriber = null;
    }

    async queueDepth(): Promise<number> {

        return await this.#call(() => this.#client.queueDepth(this.keys.pending, this.keys.leased));
    }

    async earliestDue(): Promise<number | null> {

        const [, score] = await this.#call(() => this.#client.zrange(this.keys.pending, '0', '0', 'WITHSCORES'));
        return score === undefined ? null : Number(score);
    }

    async getUser(name: string): Promise<UserRecord | null> {

        const value = await this.#call(() => this.#client.get(this.keys.user(name)));
        return value === null ? null : JSON.parse(value) as UserRecord;
    }

    async putUser(user: UserRecord): Promise<void> {

        await this.#call(() => this.#client.set(this.keys.user(user.name), JSON.stringify(user)));
    }

    async rememberNonce(name: string, nonce: string, expiresAt: number): Promise<boolean> {

        // SET NX is the atomic check-and-record; PXAT lets Redis forget it when the window closes.
        const stored = await this.#call(() => this.#client.set(this.keys.nonce(name, nonce), '1', 'PXAT', Math.max(expiresAt, Date.now() + 1), 'NX'));
        return stored === 'OK';
    }

    failureLimiter(options: FailureLimiterOptions): FailureLimiter {

        // RateLimiterRedis counts with one Lua script per call, so concurrent failures on
        // several gateways are all counted.
        const limiter = new RateLimiterRedis({ storeClient: this.#client, keyPrefix: this.keys.limiter(options.kind), ...RateLimiterFailures.settings(options) });
        return new RateLimiterFailures(limiter, options, (subject) => this.keys.limiterSubject(subject));
    }
}
