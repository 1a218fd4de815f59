/**
 * The one place that turns a name's registrations into KSK-signed documents in the
 * store (paper §6.2). Every signing strategy (paper §6) goes through it: the updater's
 * queue loop (`offline`), the lookup handler on a missing or lapsed document
 * (`ondemand`) and the registration handler on acceptance (`online`). Whoever holds a
 * NameSigner holds the KSK; ARCHITECTURE.md §2 says which process may.
 */
import * as Fs from 'node:fs';

import type { IksConfig } from '../../config';
import { KskRetired } from '../../lib/errors';
import { domainKeyPaths, loadDomainPublicKey, loadDomainSigningKey, parsePublicKey } from '../../lib/keys';
import type { SigningKey } from '../../lib/keys/types';
import type { DocumentSource, Store } from '../../lib/store/types';
import { buildDomainDocuments, buildNameDocuments, hasKeyDocument, isListed, purgeTime, type NameDocuments, type PublishedDomainKey, type SigningPolicy } from './documents';

export interface NameSignerOptions {
    readonly store: Store;
    readonly domain: string;
    readonly ksk: SigningKey;
    /** Domain keys published KSK-signed under the domain's own name. */
    readonly published: readonly PublishedDomainKey[];
    readonly policy: SigningPolicy;
    /**
     * Whether a still-current stored document is kept rather than signed again (default
     * true). `iks updater --resign-all` turns it off: a deliberate full re-sign.
     */
    readonly reuse?: boolean;
    readonly now?: () => number;
    /**
     * The key name of the domain's active KSK as published now. A signer whose KSK is no longer
     * it (a rollover activated since it loaded the key) refuses to sign: documents signed by the
     * retired KSK would lose their commitment at the rollover's last step.
     */
    readonly activeKsk?: () => string;
    /**
     * Loads the KSK this process may sign with now. Given, a signer whose KSK a rollover
     * retired takes the new one when that is what this returns, so it follows the rollover
     * without a restart; otherwise (a single-file mount still showing the old key) it refuses.
     */
    readonly reloadKsk?: () => SigningKey;
}

/** What a signing did: the documents built, and whether they were stored. */
export type SigningResult = NameDocuments & {
    /**
     * The name's registrations changed between the read and the write, so nothing was
     * stored (Store.updateDocuments): the change queued the name, and its signing publishes.
     */
    readonly superseded: boolean;
};

const internals = {
    // Lease taken by an out-of-loop signing: long enough for one name, short enough that a
    // crash mid-way hands the name back to the queue quickly.
    inlineLease: 30_000
};

export class NameSigner {

    readonly domain: string;
    readonly policy: SigningPolicy;
    readonly #options: NameSignerOptions;
    readonly #now: () => number;
    #ksk: SigningKey;

    constructor(options: NameSignerOptions) {

        this.#options = options;
        this.#ksk = options.ksk;
        this.domain = options.domain;
        this.policy = options.policy;
        this.#now = options.now ?? Date.now;
    }

    /**
     * Rebuilds the documents of `name` (or of the domain itself) and signs and stores those
     * that changed or are due for refreshing (all of them without `reuse`), purges
     * registrations past their retention, and queues the name for its next due time (unless
     * `schedule` is false: the queue loop does that with its ack, in one step).
     * Idempotent: it reads the current registrations, so a repeated delivery is harmless.
     * Security: signs with the KSK held by this object; the key never leaves it.
     */
    async sign(name: string, options: { schedule?: boolean } = {}): Promise<SigningResult> {

        const { store, policy, domain } = this.#options;
        const ksk = this.#currentKsk();

        // Documents state times in whole seconds; keep the stored validity identical.
        const now = Math.floor(this.#now() / 1000) * 1000;
        if (name === domain) {
            const result = buildDomainDocuments(domain, this.#options.published, ksk, policy, now);
            await store.replaceDocuments(name, result.documents);
            if (result.nextDue !== null && options.schedule !== false) {
                await store.enqueue([name], result.nextDue);
            }

            return { ...result, superseded: false };
        }

        let input = await store.readForSigning(name);
        const purged = input.registrations.filter((registration) => {

            const purgeAt = purgeTime(registration, policy.retention);
            return purgeAt !== null && purgeAt <= now;
        });
        if (purged.length > 0) {
            // Only if nothing changed since the read; either way, sign what is stored now (a
            // change that stopped the purge queued the name, and its signing purges again).
            await store.purgeRegistrations(name, purged.map((registration) => registration.keyId), input.version);
            input = await store.readForSigning(name);
        }

        const result = buildNameDocuments(name, input.registrations, ksk, policy, now, this.#options.reuse === false ? new Map<string, DocumentSource>() : input.sources);
        const put = new Map([...result.documents].map(([slot, document]) => [slot, { document, source: result.sources.get(slot)! }]));
        if (!await store.updateDocuments(name, put, result.kept, input.version)) {
            // A change landed since the read; it queued the name, and that signing publishes it.
            return { ...result, superseded: true };
        }

        if (result.nextDue !== null && options.schedule !== false) {
            await store.enqueue([name], result.nextDue);
        }

        return { ...result, superseded: false };
    }

    /**
     * The KSK to sign with: the one held, unless a rollover activated another since it was
     * loaded. Then the new one if this signer may reload and the private file holds it
     * (activation writes the private half before the public one); else KskRetired, since
     * documents signed by a retired KSK would lose their commitment at the rollover's end.
     */
    #currentKsk(): SigningKey {

        const active = this.#options.activeKsk?.();
        if (active === undefined || active === this.#ksk.keyName) {
            return this.#ksk;
        }

        let reloaded: SigningKey | undefined;
        try {
            reloaded = this.#options.reloadKsk?.();
        }
        catch {
            // Unreadable meanwhile: refused like a key that cannot follow; the next signing retries.
        }

        if (reloaded?.keyName !== active) {
            throw new KskRetired(this.#ksk.keyName, active);
        }

        this.#ksk = reloaded;
        return reloaded;
    }

    /**
     * Why this signer cannot sign now (a rollover retired its KSK and it cannot take the new
     * one), or null. The queue loop asks before claiming, so names wait for a signer that can
     * sign them instead of failing here until they are given up.
     */
    retired(): KskRetired | null {

        try {
            this.#currentKsk();
            return null;
        }
        catch (error) {
            if (error instanceof KskRetired) {
                return error;
            }

            throw error;
        }
    }

    /**
     * Signs `name` now, outside the queue loop (on-line and on-demand strategies). The name
     * is leased first, so a queued job for it is consumed rather than signed twice, and a
     * change arriving meanwhile stays queued. If another worker holds it, signs anyway (the
     * caller needs a document now; signing is idempotent) and leaves that worker's job alone.
     */
    async signNow(name: string): Promise<SigningResult> {

        const { store } = this.#options;
        const job = await store.claimName(name, internals.inlineLease);
        let result: SigningResult;
        try {
            result = await this.sign(name, { schedule: !job });
        }
        catch (error) {
            // Hand the name straight back to the queue loop instead of waiting out the lease.
            await (job ? store.fail(job, this.#now()) : Promise.resolve()).catch(() => {});
            throw error;
        }

        if (job) {
            await store.ack(job, result.nextDue ?? undefined);
        }

        return result;
    }

    /**
     * Like signNow, but only when the signing would publish what is asked for, or for the
     * domain itself: a key list needs an active key, a key document an active or revoked key
     * (an expired one has none). A lookup of a made-up name or key id, or of a name whose keys
     * are all revoked or expired, costs one read and no signature, so it cannot be used to make
     * the KSK sign or the store be written, request after request.
     */
    async signIfRegistered(name: string, keyId?: string): Promise<SigningResult | null> {

        if (name !== this.domain) {
            const now = this.#now();
            const registrations = await this.#options.store.getRegistrations(name);
            const published = keyId === undefined ?
                registrations.some((registration) => isListed(registration, now)) :
                registrations.some((registration) => registration.keyId === keyId && hasKeyDocument(registration, now));
            if (!published) {
                return null;
            }
        }

        return await this.signNow(name);
    }
}

/** The domain keys the updater publishes KSK-signed: public halves only. */
export function publishedDomainKeys(dataDir: string, domain: string): PublishedDomainKey[] {

    return (['rsk', 'enc'] as const).map((role) => {

        const published = loadDomainPublicKey(dataDir, domain, role);
        return { role, keyName: published.keyName, key: parsePublicKey(published.pem) };
    });
}

/** The signature lifecycle settings of a configuration, in ms. */
export function signingPolicy(config: Pick<IksConfig, 'signatureValidity' | 'refreshBefore' | 'retention'>): SigningPolicy {

    return { validity: config.signatureValidity * 1000, refreshBefore: config.refreshBefore * 1000, retention: config.retention * 1000 };
}

export interface SignerSettings {
    readonly dataDir: string;
    readonly domain: string;
    readonly store: Store;
    readonly policy: SigningPolicy;
    readonly reuse?: boolean;
}

/**
 * The key name of the domain's active KSK, read again from its public file whenever that file
 * was replaced (a stat per signing, a few µs, so no signing follows an activation unseen). A
 * file that cannot be read meanwhile leaves the last name read.
 */
function activeKskReader(dataDir: string, domain: string): () => string {

    const file = domainKeyPaths(dataDir, domain, 'ksk').publicPath;
    const identity = () => {

        const stat = Fs.statSync(file, { throwIfNoEntry: false });
        return stat ? `${stat.ino}:${stat.mtimeMs}:${stat.size}` : '';
    };

    let seen = identity();
    let keyName = loadDomainPublicKey(dataDir, domain, 'ksk').keyName;
    return () => {

        const now = identity();
        if (now !== seen && now !== '') {
            try {
                keyName = loadDomainPublicKey(dataDir, domain, 'ksk').keyName;
                seen = now;
            }
            catch {
                // Kept: the next signing reads it again.
            }
        }

        return keyName;
    };
}

/**
 * Reads the private KSK file again, but only when it changed since the last read: a signer
 * that cannot follow (a single-file mount still showing the old key) must not parse the
 * same file again for every signing it refuses.
 */
function kskReloader(dataDir: string, domain: string): () => SigningKey {

    const file = domainKeyPaths(dataDir, domain, 'ksk').privatePath;
    let seen = '';
    let last: SigningKey | undefined;
    return () => {

        const stat = Fs.statSync(file, { throwIfNoEntry: false });
        const identity = stat ? `${stat.ino}:${stat.mtimeMs}:${stat.size}` : '';
        if (identity !== seen || !last) {
            last = loadDomainSigningKey(dataDir, domain, 'ksk');
            seen = identity;
        }

        return last;
    };
}

/**
 * Creates the signer of a domain, loading its KSK.
 * Security: call only from the process the signing strategy names (see above).
 */
export function createSigner(settings: SignerSettings): NameSigner {

    return new NameSigner({
        store: settings.store,
        domain: settings.domain,
        ksk: loadDomainSigningKey(settings.dataDir, settings.domain, 'ksk'),
        published: publishedDomainKeys(settings.dataDir, settings.domain),
        policy: settings.policy,
        activeKsk: activeKskReader(settings.dataDir, settings.domain),
        reloadKsk: kskReloader(settings.dataDir, settings.domain),
        ...(settings.reuse !== undefined ? { reuse: settings.reuse } : {})
    });
}
