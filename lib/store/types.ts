/**
 * The store contract shared by the Redis backend (production, scale-out) and the
 * embedded SQLite backend (quickstart, single node). One contract test suite runs
 * on both (test/store/contract.ts), so callers never branch on the backend.
 *
 * Names handed to the store are already canonical (lib/names). Times are
 * milliseconds since the epoch.
 */
import type { KeyAlgorithm, KeyFormat } from '../keys/types';

export interface Registration {
    readonly name: string;
    readonly keyId: string;
    readonly algorithm: KeyAlgorithm;
    readonly size: number;
    readonly curve?: string;
    readonly format: KeyFormat;
    /** Lowercase hex SHA-256 of the DER SPKI. */
    readonly fingerprint: string;
    /** DER SPKI, base64. */
    readonly spki: string;
    /** Original container text (PEM or OpenSSH line). */
    readonly container: string;
    readonly usage: readonly string[];
    readonly registeredAt: number;
    readonly expiresAt?: number;
    readonly revokedAt?: number;
    readonly revocationReason?: string;
}

/**
 * A pre-signed document, served byte for byte. `slot` says which document of a
 * name it is: `list` (the key list), `key:<keyId>` (one key), or for the domain
 * itself (name = the domain) `rsk` / `enc`.
 */
export interface StoredDocument {
    readonly body: string;
    /** Strong entity tag, quoted, as sent in the ETag header. */
    readonly etag: string;
    readonly signedAt: number;
    /** End of the signature's validity: never served after this. */
    readonly notAfter: number;
}

/**
 * What a stored document was signed from: a digest of its content without its times (and
 * of the KSK's name), and when its signature lapses. The signer re-signs a document only
 * when this differs from what it would sign now or the signature is due for refreshing.
 */
export interface DocumentSource {
    readonly source: string;
    readonly notAfter: number;
}

/** A newly signed document and the source it was signed from. */
export interface SourcedDocument {
    readonly document: StoredDocument;
    readonly source: string;
}

/** A name as the signer reads it (Store.readForSigning). */
export interface SigningInput {
    /** Sorted by key id. */
    readonly registrations: Registration[];
    /**
     * Advances with every change to the name's registrations (0 before the first), and never
     * goes back, not even when the last registration is purged.
     */
    readonly version: number;
    readonly sources: Map<string, DocumentSource>;
}

/** A name's registrations and the version they are at (see SigningInput), read in one step. */
export interface VersionedRegistrations {
    /** Sorted by key id. */
    readonly registrations: Registration[];
    readonly version: number;
}

export interface PutRegistrationsOptions {
    /**
     * Write only while the name's registrations are still at this version (readRegistrations):
     * a decision made on what was read cannot land over a change made since. All
     * registrations must then be of one name. Otherwise nothing is written and the write
     * rejects with RegistrationsChanged.
     */
    readonly ifVersion?: number;
}

export interface QueueJob {
    readonly name: string;
    /** Deliveries so far, this one included. */
    readonly attempts: number;
    /** Opaque token: ack/fail only succeed for the holder of the current lease. */
    readonly lease: string;
}

/** A job given up after too many attempts: kept visible until retried or signed (dead letter). */
export interface FailedJob {
    readonly name: string;
    readonly attempts: number;
    /** Why the last attempt failed (an error message, never a key). */
    readonly reason: string;
    readonly failedAt: number;
}

export interface UserRecord {
    readonly name: string;
    /** Encoded password hash (scrypt parameters + salt + hash); never the password. */
    readonly passwordHash: string;
    readonly disabled: boolean;
    readonly createdAt: number;
}

/** A counter of failed attempts with lockout (brute-force protection, rate-limiter-flexible). */
export interface FailureLimiterOptions {
    /** What is counted, e.g. `password-entity`; separates the counters of different limiters. */
    readonly kind: string;
    /** Failures allowed inside the window; the next one locks the subject out. */
    readonly maxFailures: number;
    /** Seconds over which failures are counted. */
    readonly windowSeconds: number;
    /** Seconds a subject stays locked out. */
    readonly lockoutSeconds: number;
}

export interface FailureLimiter {
    /** ms until `subject` may try again; 0 when it is not locked out. */
    lockedFor(subject: string): Promise<number>;
    /**
     * Counts one attempt of `subject` before it is checked, as a failure until refunded, so
     * concurrent attempts are all counted before any is checked. Resolves with the lockout
     * in ms when this attempt is one too many (it must not be checked), else 0.
     */
    attempt(subject: string): Promise<number>;
    /** Gives back one attempt of `subject` (it succeeded, or was not checked). */
    refund(subject: string): Promise<void>;
    /** Forgets the failures of `subject` (after a success). */
    reset(subject: string): Promise<void>;
}

export interface Store {
    readonly kind: 'redis' | 'embedded';

    /** Resolves when the backend answers; rejects with StoreUnavailable otherwise. */
    ping(): Promise<void>;
    close(): Promise<void>;

    // Registrations

    /**
     * Writes registrations and enqueues their names for signing in one atomic step,
     * so an acknowledged registration can never be left unsigned.
     *
     * A revocation is final: a registration whose stored key (same name and key id) is
     * revoked is not written, so a change read before a revocation and written after it
     * cannot bring the key back. Resolves with those of `registrations` left unwritten so.
     */
    putRegistrations(registrations: readonly Registration[], options?: PutRegistrationsOptions): Promise<Registration[]>;
    getRegistrations(name: string): Promise<Registration[]>;
    /** A name's registrations with their version, for a decision written with `ifVersion`. */
    readRegistrations(name: string): Promise<VersionedRegistrations>;
    /**
     * What the signer builds a name's documents from, read in one atomic step: the
     * registrations, the version they are at (see updateDocuments) and the recorded sources of
     * the stored documents.
     */
    readForSigning(name: string): Promise<SigningInput>;
    getRegistration(name: string, keyId: string): Promise<Registration | null>;
    /**
     * Removes registrations of `name` (a purge past retention) if its registrations are still
     * at `version` (readForSigning): a change since, such as a re-registration of one of these
     * key ids, is never deleted unseen. Advances the version and enqueues the name when any
     * was removed. Resolves with the number removed, or null when the version moved (none).
     */
    purgeRegistrations(name: string, keyIds: readonly string[], version: number): Promise<number | null>;
    /** Every name with at least one registration, in no particular order. */
    scanNames(): AsyncIterable<string>;

    // Pre-signed documents

    getDocument(name: string, slot: string): Promise<StoredDocument | null>;
    /**
     * Atomically makes `documents` the complete set of documents of `name`:
     * slots not in the map are removed. An empty map removes every document.
     */
    replaceDocuments(name: string, documents: ReadonlyMap<string, StoredDocument>): Promise<void>;
    /** Writes one document without touching the others of the name. */
    putDocument(name: string, slot: string, document: StoredDocument): Promise<void>;
    /**
     * Atomically makes the documents of `name` those of `put` (written with their sources)
     * plus the stored ones of the `keep` slots, left as they are: the signer re-signs only
     * what changed. Every other document of the name is removed. replaceDocuments and
     * putDocument forget the sources of what they write, so only updateDocuments makes a
     * document reusable.
     *
     * Only while the name's registrations are still at `version` (readForSigning): a signer
     * that read them before a change that landed since (it stalled past its lease, or signed
     * beside the lease holder) would publish what that change undid, a revoked key as active.
     * Then nothing is written and it resolves false; the change queued the name, so its own
     * signing publishes it.
     */
    updateDocuments(name: string, put: ReadonlyMap<string, SourcedDocument>, keep: readonly string[], version: number): Promise<boolean>;

    // Update queue: at-least-once, coalescing (a name waits in the queue at most once)

    /** Queues names to be (re)signed no earlier than `dueAt` (default now); an earlier due time wins. */
    enqueue(names: readonly string[], dueAt?: number): Promise<void>;
    /** Leases up to `max` due names for `leaseMs`; a lease that lapses makes the name due again. */
    claim(max: number, leaseMs: number): Promise<QueueJob[]>;
    /**
     * Finishes a job (and clears a dead letter of the name). A name re-enqueued while leased
     * stays queued. With `nextDueAt` the name is also queued for then, in the same step (as
     * enqueue: an earlier due time wins), e.g. its scheduled re-sign.
     */
    ack(job: QueueJob, nextDueAt?: number): Promise<void>;
    /** Gives a job back to be retried at `retryAt`. */
    fail(job: QueueJob, retryAt: number): Promise<void>;
    /**
     * Leases one name now, whether it waits (due or not) or not at all, unless another
     * worker holds it (then null). For signing outside the queue loop (on-line and
     * on-demand strategies): an enqueue during the lease keeps the name queued, as for claim.
     */
    claimName(name: string, leaseMs: number): Promise<QueueJob | null>;
    /** Names waiting or leased. */
    queueDepth(): Promise<number>;
    /**
     * Gives up a job (dead letter): it leaves the queue and is listed by failedJobs until
     * retryFailed or a later successful ack of the name. A change enqueued meanwhile stays queued.
     */
    bury(job: QueueJob, reason: string): Promise<void>;
    /** Jobs given up, oldest first. */
    failedJobs(): Promise<FailedJob[]>;
    /** Queues every given-up name again (due now) and clears the list; resolves with their count. */
    retryFailed(): Promise<number>;
    /** Due time (ms) of the earliest name waiting (not leased), or null when none waits; for monitoring. */
    earliestDue(): Promise<number | null>;
    /**
     * Calls `listener` soon after a name is queued for now: by this process, and on Redis
     * by any process. Lets an updater start at once instead of at its next poll (the
     * acceptance-to-publication delay of paper §5.3); best effort, polling stays the
     * guarantee. Returns the function that stops the calls.
     */
    onQueued(listener: () => void): () => void;

    // Users (registration authentication)

    getUser(name: string): Promise<UserRecord | null>;
    putUser(user: UserRecord): Promise<void>;

    /**
     * Records the nonce of a request about `name` until `expiresAt` (replay protection).
     * Resolves false when the same nonce is already recorded and not yet expired: a replay.
     * Atomic, so of two concurrent deliveries of one request exactly one gets true.
     */
    rememberNonce(name: string, nonce: string, expiresAt: number): Promise<boolean>;

    /** A failure limiter whose counters live in this store, shared by every process using it. */
    failureLimiter(options: FailureLimiterOptions): FailureLimiter;
}
