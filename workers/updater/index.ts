/**
 * Starting the signer from configuration. This is the one place that loads the KSK
 * (ARCHITECTURE.md §2): `iks updater` calls it in the `offline` strategy, iks-query in
 * `ondemand`, iks-register in `online` (paper §6); no other code loads the KSK.
 */
import type { IksConfig } from '../../config';
import type { Store } from '../../lib/store/types';
import { createSigner, signingPolicy, type NameSigner } from './signer';
import { Updater, type BatchResult } from './updater';
import { ensureSignedZone } from './zone';

export { Updater, queueEveryName, type BatchResult, type UpdaterOptions } from './updater';
export { NameSigner, createSigner, publishedDomainKeys, signingPolicy, type NameSignerOptions, type SignerSettings } from './signer';
export { inlineSigningOptions, inlineSigningSchema, startInlineSigner, type InlineSigningOptions } from './inline';
export { ensureSignedZone, zonePaths, zoneSpec, type ZoneSignResult } from './zone';
export { buildDomainDocuments, buildNameDocuments, entityTag, purgeTime, type PublishedDomainKey, type SigningPolicy } from './documents';

export interface UpdaterOverrides {
    readonly onError?: (error: unknown, name: string) => void;
    readonly onBatch?: (result: BatchResult) => void;
    readonly onSigned?: (name: string, seconds: number, ok: boolean) => void;
    /** An existing signer (the plugin's own in `ondemand`/`online`); default: load the KSK here. */
    readonly signer?: NameSigner;
    /** false: sign every document again instead of keeping current ones (`--resign-all`). */
    readonly reuse?: boolean;
}

/**
 * Creates the queue loop for the configured domain, loading its KSK unless given a signer.
 * Security: call only from the signer process (or the quickstart's in-process signer).
 */
export function createUpdater(config: IksConfig, store: Store, overrides: UpdaterOverrides = {}): Updater {

    const { signer, reuse, ...callbacks } = overrides;
    return new Updater({
        store,
        signer: signer ?? createSigner({ dataDir: config.dataDir, domain: config.domain, store, policy: signingPolicy(config), ...(reuse !== undefined ? { reuse } : {}) }),
        batchSize: config.updater.batchSize,
        lease: config.updater.lease,
        pollInterval: config.updater.pollInterval,
        maxAttempts: config.updater.maxAttempts,
        ...callbacks
    });
}

/**
 * Keeps the signed zone fresh while a signer runs: checks periodically and re-signs
 * when due or when the configuration changed. Returns a function that stops it.
 */
export function startZoneRefresh(config: IksConfig, log: (line: string) => void): () => void {

    const check = () => {

        try {
            const result = ensureSignedZone(config);
            if (result.signed) {
                log(`zone ${config.domain} signed (${result.reason})`);
            }
        }
        catch (error) {
            log(`zone ${config.domain} not signed: ${(error as Error).message}`);
        }
    };

    check();
    const timer = setInterval(check, Math.min(3600_000, config.zone.refreshBefore * 250));
    timer.unref();
    return () => clearInterval(timer);
}
