/**
 * The embedded store: one SQLite file (better-sqlite3), for the quickstart and
 * single-node deployments. WAL and synchronous=FULL make an acknowledged write
 * durable; a busy timeout lets the server and `iks` commands share the file.
 */
import { randomBytes } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import Database from 'better-sqlite3';
import { RateLimiterSQLite } from 'rate-limiter-flexible';

import { RegistrationsChanged, StoreUnavailable } from '../errors';
import { makeDirectory } from '../files';
import { assertDueTime } from './due-time';
import { RateLimiterFailures } from './failure-limiter';
import type { FailedJob, FailureLimiter, FailureLimiterOptions, PutRegistrationsOptions, QueueJob, Registration, SigningInput, SourcedDocument, Store, StoredDocument, UserRecord, VersionedRegistrations } from './types';

export interface EmbeddedStoreOptions {
    readonly path: string;
    /** ms to wait for a lock held by another process (default 5000). */
    readonly busyTimeout?: number;
}

const internals = {
    schemaVersion: 5,
    limiterTable: 'failure_limits',
    // Expired nonces and counters are purged a batch at a time on the write path.
    purgeBatch: 100,
    schema: `
        CREATE TABLE IF NOT EXISTS registrations (name TEXT NOT NULL, key_id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (name, key_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS documents (name TEXT NOT NULL, slot TEXT NOT NULL, etag TEXT NOT NULL, signed_at INTEGER NOT NULL, not_after INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (name, slot)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS document_sources (name TEXT NOT NULL, slot TEXT NOT NULL, source TEXT NOT NULL, not_after INTEGER NOT NULL, PRIMARY KEY (name, slot)) WITHOUT ROWID;
        -- Store.readForSigning: advances with every change to a name's registrations; no row is version 0.
        CREATE TABLE IF NOT EXISTS registration_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS queue (name TEXT PRIMARY KEY, due_at INTEGER NOT NULL, lease_token TEXT, lease_until INTEGER, next_due INTEGER, attempts INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
        -- One partial index per half of "due" (waiting and due, or leased and lapsed): a claim
        -- reads only due rows instead of scanning every queued name (all of them wait there for
        -- their next re-sign; 25 ms per claim at 100,000 names with one index over an OR).
        DROP INDEX IF EXISTS queue_due;
        CREATE INDEX IF NOT EXISTS queue_waiting ON queue (due_at) WHERE lease_token IS NULL;
        CREATE INDEX IF NOT EXISTS queue_leased ON queue (lease_until) WHERE lease_token IS NOT NULL;
        CREATE TABLE IF NOT EXISTS failed_jobs (name TEXT PRIMARY KEY, attempts INTEGER NOT NULL, reason TEXT NOT NULL, failed_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS nonces (name TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (name, nonce)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at);
        -- The table RateLimiterSQLite expects (rate-limiter-flexible 11), created here so it exists before the first call.
        CREATE TABLE IF NOT EXISTS failure_limits (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER);
    `
};

/**
 * The database holds password hashes and users: a new file is owner-only (SQLite gives its
 * -wal and -shm files the database file's mode), and an existing one loses any access by
 * others, whoever created the directory and whatever the umask. Group access set on
 * purpose (processes of one group sharing the file) is left as it is.
 */
function closeToOthers(path: string): void {

    Fs.closeSync(Fs.openSync(path, 'a', 0o600));
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        try {
            const mode = Fs.statSync(file).mode & 0o777;
            if ((mode & 0o007) !== 0) {
                Fs.chmodSync(file, mode & ~0o007);
            }
        }
        catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
                throw error;
            }
        }
    }
}

export class EmbeddedStore implements Store {

    readonly kind = 'embedded' as const;
    readonly #queueListeners = new Set<() => void>();
    readonly #db: Database.Database;
    readonly #statements;
    readonly #enqueueMany: (names: readonly string[], dueAt: number) => void;
    readonly #putRegistrations: Database.Transaction<(registrations: readonly Registration[], now: number, ifVersion: number | undefined) => Registration[] | null>;
    readonly #readRegistrations: (name: string) => VersionedRegistrations;
    readonly #replace: (name: string, documents: ReadonlyMap<string, StoredDocument>) => void;
    readonly #update: Database.Transaction<(name: string, put: ReadonlyMap<string, SourcedDocument>, keep: readonly string[], version: number) => boolean>;
    readonly #readForSigning: (name: string) => SigningInput;
    readonly #putDocument: (name: string, slot: string, document: StoredDocument) => void;
    readonly #claim: Database.Transaction<(max: number, leaseMs: number, now: number) => QueueJob[]>;
    readonly #purgeRegistrations: Database.Transaction<(name: string, keyIds: readonly string[], version: number, now: number) => number | null>;
    readonly #ack: Database.Transaction<(name: string, lease: string, nextDueAt: number | undefined) => void>;
    readonly #claimName: Database.Transaction<(name: string, leaseMs: number, now: number) => QueueJob | null>;
    readonly #bury: Database.Transaction<(job: QueueJob, reason: string, now: number) => void>;
    readonly #retryFailed: Database.Transaction<(now: number) => number>;
    readonly #rememberNonce: (name: string, nonce: string, expiresAt: number, now: number) => boolean;

    constructor(options: EmbeddedStoreOptions) {

        try {
            makeDirectory(Path.dirname(options.path), 0o700);
            closeToOthers(options.path);
            this.#db = new Database(options.path, { timeout: options.busyTimeout ?? 5000 });
            this.#db.pragma('journal_mode = WAL');
            this.#db.pragma('synchronous = FULL');
            this.#db.exec(internals.schema);
            this.#db.pragma(`user_version = ${internals.schemaVersion}`);
        }
        catch (error) {
            throw new StoreUnavailable(`cannot open the embedded store at ${options.path}: ${(error as Error).message}`, { cause: error });
        }

        const db = this.#db;
        this.#statements = {
            putRegistration: db.prepare('INSERT INTO registrations (name, key_id, json) VALUES (?, ?, ?) ON CONFLICT (name, key_id) DO UPDATE SET json = excluded.json'),
            getRegistrations: db.prepare<[string], { json: string }>('SELECT json FROM registrations WHERE name = ? ORDER BY key_id'),
            getVersion: db.prepare<[string], { version: number }>('SELECT version FROM registration_versions WHERE name = ?'),
            advanceVersion: db.prepare('INSERT INTO registration_versions (name, version) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET version = version + 1'),
            getRegistration: db.prepare<[string, string], { json: string }>('SELECT json FROM registrations WHERE name = ? AND key_id = ?'),
            deleteRegistration: db.prepare('DELETE FROM registrations WHERE name = ? AND key_id = ?'),
            names: db.prepare<[string, number], { name: string }>('SELECT DISTINCT name FROM registrations WHERE name > ? ORDER BY name LIMIT ?'),
            getDocument: db.prepare<[string, string], { etag: string; signed_at: number; not_after: number; body: string }>('SELECT etag, signed_at, not_after, body FROM documents WHERE name = ? AND slot = ?'),
            putDocument: db.prepare('INSERT INTO documents (name, slot, etag, signed_at, not_after, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name, slot) DO UPDATE SET etag = excluded.etag, signed_at = excluded.signed_at, not_after = excluded.not_after, body = excluded.body'),
            deleteDocuments: db.prepare('DELETE FROM documents WHERE name = ?'),
            deleteDocument: db.prepare('DELETE FROM documents WHERE name = ? AND slot = ?'),
            documentSlots: db.prepare<[string], { slot: string }>('SELECT slot FROM documents WHERE name = ?'),
            putSource: db.prepare('INSERT INTO document_sources (name, slot, source, not_after) VALUES (?, ?, ?, ?) ON CONFLICT (name, slot) DO UPDATE SET source = excluded.source, not_after = excluded.not_after'),
            getSources: db.prepare<[string], { slot: string; source: string; not_after: number }>('SELECT slot, source, not_after FROM document_sources WHERE name = ?'),
            deleteSources: db.prepare('DELETE FROM document_sources WHERE name = ?'),
            deleteSource: db.prepare('DELETE FROM document_sources WHERE name = ? AND slot = ?'),
            // A name waits once and the earlier due time wins. While it is leased, a new
            // request is remembered in next_due and takes effect when the lease ends.
            enqueue: db.prepare<{ name: string; due: number }>(`INSERT INTO queue (name, due_at) VALUES (@name, @due) ON CONFLICT (name) DO UPDATE SET
                due_at = CASE WHEN lease_token IS NULL THEN MIN(due_at, @due) ELSE due_at END,
                next_due = CASE WHEN lease_token IS NULL THEN next_due ELSE MIN(COALESCE(next_due, @due), @due) END`),
            // Due: waiting and due, or leased by a worker whose lease lapsed.
            due: db.prepare<{ now: number; max: number }, { name: string; attempts: number }>(`
                SELECT name, attempts, due_at AS since FROM queue WHERE lease_token IS NULL AND due_at <= @now
                UNION ALL
                SELECT name, attempts, lease_until AS since FROM queue WHERE lease_token IS NOT NULL AND lease_until <= @now
                ORDER BY since LIMIT @max`),
            lease: db.prepare('UPDATE queue SET lease_token = ?, lease_until = ?, attempts = attempts + 1 WHERE name = ?'),
            // Finishing: a request made during the lease keeps the name queued, else it leaves.
            requeue: db.prepare('UPDATE queue SET lease_token = NULL, lease_until = NULL, attempts = 0, due_at = next_due, next_due = NULL WHERE name = ? AND lease_token = ? AND next_due IS NOT NULL'),
            remove: db.prepare('DELETE FROM queue WHERE name = ? AND lease_token = ? AND next_due IS NULL'),
            retry: db.prepare<{ retryAt: number; name: string; lease: string }>('UPDATE queue SET lease_token = NULL, lease_until = NULL, due_at = MIN(@retryAt, COALESCE(next_due, @retryAt)), next_due = NULL WHERE name = @name AND lease_token = @lease'),
            depth: db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM queue'),
            queued: db.prepare<[string], { lease_token: string | null; lease_until: number | null; attempts: number }>('SELECT lease_token, lease_until, attempts FROM queue WHERE name = ?'),
            insertLeased: db.prepare('INSERT INTO queue (name, due_at, lease_token, lease_until, attempts) VALUES (?, ?, ?, ?, 1)'),
            bury: db.prepare('INSERT INTO failed_jobs (name, attempts, reason, failed_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET attempts = excluded.attempts, reason = excluded.reason, failed_at = excluded.failed_at'),
            unbury: db.prepare('DELETE FROM failed_jobs WHERE name = ?'),
            failed: db.prepare<[], { name: string; attempts: number; reason: string; failed_at: number }>('SELECT name, attempts, reason, failed_at FROM failed_jobs ORDER BY failed_at, name'),
            clearFailed: db.prepare('DELETE FROM failed_jobs'),
            earliestDue: db.prepare<[], { due: number | null }>('SELECT MIN(due_at) AS due FROM queue WHERE lease_token IS NULL'),
            getUser: db.prepare<[string], { json: string }>('SELECT json FROM users WHERE name = ?'),
            putUser: db.prepare('INSERT INTO users (name, json) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET json = excluded.json'),
            ping: db.prepare('SELECT 1'),
            purgeNonces: db.prepare<{ now: number; limit: number }>('DELETE FROM nonces WHERE (name, nonce) IN (SELECT name, nonce FROM nonces WHERE expires_at <= @now LIMIT @limit)'),
            purgeLimits: db.prepare<{ now: number; limit: number }>(`DELETE FROM ${internals.limiterTable} WHERE key IN (SELECT key FROM ${internals.limiterTable} WHERE expire <= @now LIMIT @limit)`),
            insertNonce: db.prepare('INSERT INTO nonces (name, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT (name, nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?')
        };

        const statements = this.#statements;
        this.#enqueueMany = db.transaction((names: readonly string[], dueAt: number) => {

            for (const name of names) {
                statements.enqueue.run({ name, due: dueAt });
            }
        });

        this.#putRegistrations = db.transaction((registrations: readonly Registration[], now: number, ifVersion: number | undefined) => {

            // Store.putRegistrations: a conditional write (of one name) not over a change made since.
            if (ifVersion !== undefined && (statements.getVersion.get(registrations[0]!.name)?.version ?? 0) !== ifVersion) {
                return null;
            }

            const revoked: Registration[] = [];
            const changed = new Set<string>();
            for (const registration of registrations) {
                statements.enqueue.run({ name: registration.name, due: now });
                const stored = statements.getRegistration.get(registration.name, registration.keyId);
                if (stored !== undefined && (JSON.parse(stored.json) as Registration).revokedAt !== undefined) {
                    // A revocation is final (Store.putRegistrations).
                    revoked.push(registration);
                    continue;
                }

                statements.putRegistration.run(registration.name, registration.keyId, JSON.stringify(registration));
                changed.add(registration.name);
            }

            for (const name of changed) {
                statements.advanceVersion.run(name);
            }

            return revoked;
        });

        this.#purgeRegistrations = db.transaction((name: string, keyIds: readonly string[], version: number, now: number) => {

            // Store.purgeRegistrations: not over a change made since the caller read the name.
            if ((statements.getVersion.get(name)?.version ?? 0) !== version) {
                return null;
            }

            let removed = 0;
            for (const keyId of keyIds) {
                removed += statements.deleteRegistration.run(name, keyId).changes;
            }

            if (removed > 0) {
                statements.advanceVersion.run(name);
                statements.enqueue.run({ name, due: now });
            }

            return removed;
        });

        this.#replace = db.transaction((name: string, documents: ReadonlyMap<string, StoredDocument>) => {

            statements.deleteDocuments.run(name);
            statements.deleteSources.run(name);
            for (const [slot, document] of documents) {
                statements.putDocument.run(name, slot, document.etag, document.signedAt, document.notAfter, document.body);
            }
        });

        this.#readRegistrations = db.transaction((name: string): VersionedRegistrations => ({
            registrations: statements.getRegistrations.all(name).map((row) => JSON.parse(row.json) as Registration),
            version: statements.getVersion.get(name)?.version ?? 0
        }));

        this.#readForSigning = db.transaction((name: string): SigningInput => ({
            registrations: statements.getRegistrations.all(name).map((row) => JSON.parse(row.json) as Registration),
            version: statements.getVersion.get(name)?.version ?? 0,
            sources: new Map(statements.getSources.all(name).map((row) => [row.slot, { source: row.source, notAfter: row.not_after }]))
        }));

        this.#update = db.transaction((name: string, put: ReadonlyMap<string, SourcedDocument>, keep: readonly string[], version: number) => {

            // Store.updateDocuments: not over a change made since the signer read the name.
            if ((statements.getVersion.get(name)?.version ?? 0) !== version) {
                return false;
            }

            const wanted = new Set([...keep, ...put.keys()]);
            for (const { slot } of statements.documentSlots.all(name)) {
                if (!wanted.has(slot)) {
                    statements.deleteDocument.run(name, slot);
                }
            }

            for (const { slot } of statements.getSources.all(name)) {
                if (!wanted.has(slot)) {
                    statements.deleteSource.run(name, slot);
                }
            }

            for (const [slot, { document, source }] of put) {
                statements.putDocument.run(name, slot, document.etag, document.signedAt, document.notAfter, document.body);
                statements.putSource.run(name, slot, source, document.notAfter);
            }

            return true;
        });

        this.#putDocument = db.transaction((name: string, slot: string, document: StoredDocument) => {

            statements.putDocument.run(name, slot, document.etag, document.signedAt, document.notAfter, document.body);
            statements.deleteSource.run(name, slot);
        });

        this.#ack = db.transaction((name: string, lease: string, nextDueAt: number | undefined) => {

            if (statements.queued.get(name)?.lease_token !== lease) {
                return;
            }

            if (nextDueAt !== undefined) {
                // While leased, this only records next_due; the requeue below applies it.
                statements.enqueue.run({ name, due: nextDueAt });
            }

            const finished = statements.requeue.run(name, lease).changes + statements.remove.run(name, lease).changes;
            if (finished > 0) {
                statements.unbury.run(name);
            }
        });

        this.#claimName = db.transaction((name: string, leaseMs: number, now: number) => {

            const row = statements.queued.get(name);
            if (row?.lease_token && row.lease_until! > now) {
                return null;
            }

            const lease = randomBytes(12).toString('base64url');
            if (row) {
                statements.lease.run(lease, now + leaseMs, name);
                return { name, attempts: row.attempts + 1, lease };
            }

            statements.insertLeased.run(name, now, lease, now + leaseMs);
            return { name, attempts: 1, lease };
        });

        this.#bury = db.transaction((job: QueueJob, reason: string, now: number) => {

            const row = statements.queued.get(job.name);
            if (row?.lease_token !== job.lease) {
                return;
            }

            statements.bury.run(job.name, job.attempts, reason, now);
            // A change made during the lease stays queued; otherwise the name leaves the queue.
            statements.requeue.run(job.name, job.lease);
            statements.remove.run(job.name, job.lease);
        });

        this.#retryFailed = db.transaction((now: number) => {

            const names = statements.failed.all().map((row) => row.name);
            for (const name of names) {
                statements.enqueue.run({ name, due: now });
            }

            statements.clearFailed.run();
            return names.length;
        });

        this.#rememberNonce = db.transaction((name: string, nonce: string, expiresAt: number, now: number) => {

            statements.purgeNonces.run({ now, limit: internals.purgeBatch });
            statements.purgeLimits.run({ now, limit: internals.purgeBatch });
            // Inserted, or replacing an expired entry: changes = 1. A live duplicate: 0.
            return statements.insertNonce.run(name, nonce, expiresAt, now).changes === 1;
        });

        this.#claim = db.transaction((max: number, leaseMs: number, now: number) => {

            const jobs: QueueJob[] = [];
            for (const row of statements.due.all({ now, max })) {
                const lease = randomBytes(12).toString('base64url');
                statements.lease.run(lease, now + leaseMs, row.name);
                jobs.push({ name: row.name, attempts: row.attempts + 1, lease });
            }

            return jobs;
        });
    }

    #guard<T>(action: () => T): T {

        try {
            return action();
        }
        catch (error) {
            if (error instanceof Database.SqliteError && /BUSY|LOCKED|IOERR|CORRUPT|READONLY|FULL/.test(error.code)) {
                throw new StoreUnavailable(`embedded store: ${error.message}`, { cause: error });
            }

            throw error;
        }
    }

    async ping(): Promise<void> {

        this.#guard(() => this.#statements.ping.get());
    }

    async close(): Promise<void> {

        if (this.#db.open) {
            this.#db.close();
        }
    }

    async putRegistrations(registrations: readonly Registration[], options: PutRegistrationsOptions = {}): Promise<Registration[]> {

        if (options.ifVersion !== undefined && new Set(registrations.map((registration) => registration.name)).size > 1) {
            throw new Error('putRegistrations: ifVersion needs registrations of one name');
        }

        if (registrations.length === 0) {
            return [];
        }

        // IMMEDIATE: the version is checked and the registrations written under one write lock.
        const revoked = this.#guard(() => this.#putRegistrations.immediate(registrations, Date.now(), options.ifVersion));
        if (revoked === null) {
            throw new RegistrationsChanged();
        }

        this.#signalQueued();
        return revoked;
    }

    async getRegistrations(name: string): Promise<Registration[]> {

        return this.#guard(() => this.#statements.getRegistrations.all(name).map((row) => JSON.parse(row.json) as Registration));
    }

    async readRegistrations(name: string): Promise<VersionedRegistrations> {

        return this.#guard(() => this.#readRegistrations(name));
    }

    async readForSigning(name: string): Promise<SigningInput> {

        return this.#guard(() => this.#readForSigning(name));
    }

    async getRegistration(name: string, keyId: string): Promise<Registration | null> {

        const row = this.#guard(() => this.#statements.getRegistration.get(name, keyId));
        return row ? JSON.parse(row.json) as Registration : null;
    }

    async purgeRegistrations(name: string, keyIds: readonly string[], version: number): Promise<number | null> {

        // IMMEDIATE: the version is checked and the registrations removed under one write lock.
        const removed = this.#guard(() => this.#purgeRegistrations.immediate(name, keyIds, version, Date.now()));
        if (removed !== null && removed > 0) {
            this.#signalQueued();
        }

        return removed;
    }

    async *scanNames(): AsyncIterable<string> {

        // Keyset pagination: never holds a cursor open across yields.
        let after = '';
        for (;;) {
            const rows = this.#guard(() => this.#statements.names.all(after, 1000));
            for (const row of rows) {
                yield row.name;
            }

            if (rows.length < 1000) {
                return;
            }

            after = rows[rows.length - 1]!.name;
        }
    }

    async getDocument(name: string, slot: string): Promise<StoredDocument | null> {

        const row = this.#guard(() => this.#statements.getDocument.get(name, slot));
        return row ? { body: row.body, etag: row.etag, signedAt: row.signed_at, notAfter: row.not_after } : null;
    }

    async replaceDocuments(name: string, documents: ReadonlyMap<string, StoredDocument>): Promise<void> {

        this.#guard(() => this.#replace(name, documents));
    }

    async putDocument(name: string, slot: string, document: StoredDocument): Promise<void> {

        this.#guard(() => this.#putDocument(name, slot, document));
    }

    async updateDocuments(name: string, put: ReadonlyMap<string, SourcedDocument>, keep: readonly string[], version: number): Promise<boolean> {

        // IMMEDIATE: the version is checked and the documents written under one write lock.
        return this.#guard(() => this.#update.immediate(name, put, keep, version));
    }

    async enqueue(names: readonly string[], dueAt: number = Date.now()): Promise<void> {

        assertDueTime('enqueue', dueAt);
        this.#guard(() => this.#enqueueMany(names, dueAt));
        if (names.length > 0 && dueAt <= Date.now()) {
            this.#signalQueued();
        }
    }

    async claim(max: number, leaseMs: number): Promise<QueueJob[]> {

        // IMMEDIATE, as every queue step that reads and then writes: a deferred transaction
        // that read first cannot wait for another process's write lock (SQLite answers
        // SQLITE_BUSY / SQLITE_BUSY_SNAPSHOT at once, without the busy timeout); one that
        // takes the write lock first waits for it.
        return this.#guard(() => this.#claim.immediate(max, leaseMs, Date.now()));
    }

    async ack(job: QueueJob, nextDueAt?: number): Promise<void> {

        if (nextDueAt !== undefined) {
            assertDueTime('ack', nextDueAt);
        }

        this.#guard(() => this.#ack.immediate(job.name, job.lease, nextDueAt));
    }

    async fail(job: QueueJob, retryAt: number): Promise<void> {

        assertDueTime('fail', retryAt);
        this.#guard(() => this.#statements.retry.run({ retryAt, name: job.name, lease: job.lease }));
    }

    async claimName(name: string, leaseMs: number): Promise<QueueJob | null> {

        return this.#guard(() => this.#claimName.immediate(name, leaseMs, Date.now()));
    }

    async bury(job: QueueJob, reason: string): Promise<void> {

        this.#guard(() => this.#bury.immediate(job, reason, Date.now()));
    }

    async failedJobs(): Promise<FailedJob[]> {

        return this.#guard(() => this.#statements.failed.all().map((row) => ({ name: row.name, attempts: row.attempts, reason: row.reason, failedAt: row.failed_at })));
    }

    async retryFailed(): Promise<number> {

        const requeued = this.#guard(() => this.#retryFailed.immediate(Date.now()));
        if (requeued > 0) {
            this.#signalQueued();
        }

        return requeued;
    }

    onQueued(listener: () => void): () => void {

        // Only this process's writes are seen; another process's (an `iks` command on the
        // same file) are found by the updater's poll.
        this.#queueListeners.add(listener);
        return () => this.#queueListeners.delete(listener);
    }

    #signalQueued(): void {

        for (const listener of this.#queueListeners) {
            listener();
        }
    }

    async queueDepth(): Promise<number> {

        return this.#guard(() => this.#statements.depth.get()!.count);
    }

    async earliestDue(): Promise<number | null> {

        return this.#guard(() => this.#statements.earliestDue.get()!.due);
    }

    async getUser(name: string): Promise<UserRecord | null> {

        const row = this.#guard(() => this.#statements.getUser.get(name));
        return row ? JSON.parse(row.json) as UserRecord : null;
    }

    async putUser(user: UserRecord): Promise<void> {

        this.#guard(() => this.#statements.putUser.run(user.name, JSON.stringify(user)));
    }

    async rememberNonce(name: string, nonce: string, expiresAt: number): Promise<boolean> {

        return this.#guard(() => this.#rememberNonce(name, nonce, expiresAt, Date.now()));
    }

    failureLimiter(options: FailureLimiterOptions): FailureLimiter {

        // Store-backed rather than in memory: counters survive a restart (a guesser cannot
        // reset them by crashing the server) and are shared with every process on this file.
        const limiter = new RateLimiterSQLite({
            storeClient: this.#db,
            storeType: 'better-sqlite3',
            tableName: internals.limiterTable,
            tableCreated: true,
            keyPrefix: options.kind,
            ...RateLimiterFailures.settings(options)
        });
        return new RateLimiterFailures(limiter, options);
    }
}
