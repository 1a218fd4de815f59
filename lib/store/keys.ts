/**
 * Every Redis key name comes from here (bullmq's toKey habit). Each name's keys
 * share the hash tag `{<name>}` and the queue's keys share `{queue}`, so every
 * multi-key operation stays inside one Redis Cluster slot.
 */
export class RedisKeys {

    readonly prefix: string;

    constructor(prefix: string) {

        this.prefix = prefix;
    }

    /** Hash: keyId → registration JSON. */
    registrations(name: string): string {

        return `${this.prefix}:{${name}}:reg`;
    }

    /**
     * Counter: the version of the name's registrations (Store.readForSigning). Kept when the
     * registrations are all purged, so a version is never handed out twice.
     */
    registrationsVersion(name: string): string {

        return `${this.prefix}:{${name}}:ver`;
    }

    /** Hash: slot → encoded signed document. */
    documents(name: string): string {

        return `${this.prefix}:{${name}}:doc`;
    }

    /** Hash: slot → `<notAfter> <source>` of a document the signer may reuse. */
    documentSources(name: string): string {

        return `${this.prefix}:{${name}}:src`;
    }

    /** String: user record JSON. */
    user(name: string): string {

        return `${this.prefix}:{${name}}:user`;
    }

    /** String: a request nonce of the name, expiring with the replay window. */
    nonce(name: string, nonce: string): string {

        return `${this.prefix}:{${name}}:nonce:${nonce}`;
    }

    /** Prefix of a failure limiter's counters (rate-limiter-flexible appends `:<subject key>`). */
    limiter(kind: string): string {

        return `${this.prefix}:limit:${kind}`;
    }

    /** The subject key of a failure counter: hash-tagged, so a name's counter shares its slot. */
    limiterSubject(subject: string): string {

        return `{${subject}}`;
    }

    /** Pattern matching every registrations key (for SCAN). */
    registrationsPattern(): string {

        return `${this.prefix}:{*}:reg`;
    }

    /** The name inside a registrations key. */
    nameOfRegistrations(key: string): string {

        return key.slice(this.prefix.length + 2, -':reg'.length - 1);
    }

    /** Pub/sub channel: a message means "a name was queued for now" (no payload). */
    get queueSignal(): string {

        return `${this.prefix}:{queue}:signal`;
    }

    /** Sorted set: waiting names, scored by due time. */
    get pending(): string {

        return `${this.prefix}:{queue}:pending`;
    }

    /** Sorted set: leased names, scored by lease deadline. */
    get leased(): string {

        return `${this.prefix}:{queue}:leased`;
    }

    /** Hash: name → current lease token. */
    get leases(): string {

        return `${this.prefix}:{queue}:leases`;
    }

    /** Hash: name → JSON of a job given up (dead letter). */
    get failed(): string {

        return `${this.prefix}:{queue}:failed`;
    }

    /** Hash: name → deliveries so far. */
    get attempts(): string {

        return `${this.prefix}:{queue}:attempts`;
    }
}
