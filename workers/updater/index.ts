/**
 * Starting an updater from configuration. This is the one place that loads the KSK
 * in the `offline` strategy (ARCHITECTURE.md §2); the gateway plugins never call it.
 */
import type { IksConfig } from '../../config';
import { loadDomainPublicKey, loadDomainSigningKey, parsePublicKey } from '../../lib/keys';
import type { Store } from '../../lib/store/types';
import type { PublishedDomainKey } from './documents';
import { Updater } from './updater';
import { ensureSignedZone } from './zone';

export { Updater, type BatchResult, type UpdaterOptions } from './updater';
export { ensureSignedZone, zonePaths, zoneSpec, type ZoneSignResult } from './zone';
export { buildDomainDocuments, buildNameDocuments, entityTag, isListed, type PublishedDomainKey, type SigningPolicy } from './documents';

/** The domain keys the updater publishes KSK-signed: public halves only. */
export function publishedDomainKeys(dataDir: string, domain: string): PublishedDomainKey[] {

    return (['rsk', 'enc'] as const).map((role) => {

        const published = loadDomainPublicKey(dataDir, domain, role);
        return { role, keyName: published.keyName, key: parsePublicKey(published.pem) };
    });
}

/**
 * Creates an updater for the configured domain, loading its KSK.
 * Security: call only from the signer process (or the quickstart's in-process signer).
 */
export function createUpdater(config: IksConfig, store: Store, overrides: { onError?: (error: unknown, name: string) => void } = {}): Updater {

    return new Updater({
        store,
        domain: config.domain,
        ksk: loadDomainSigningKey(config.dataDir, config.domain, 'ksk'),
        published: publishedDomainKeys(config.dataDir, config.domain),
        policy: { validity: config.signatureValidity * 1000, refreshBefore: config.refreshBefore * 1000 },
        batchSize: config.updater.batchSize,
        lease: config.updater.lease,
        pollInterval: config.updater.pollInterval,
        ...overrides
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
