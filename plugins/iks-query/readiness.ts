/**
 * `GET /readyz`: may a load balancer send lookups here? Only when the store answers
 * and the domain's keys are in service: the RSK (and the KSK's public half) were
 * loaded when the plugin registered, and the KSK-signed document publishing that RSK
 * is in the store and unexpired — without it no client can verify a negative answer,
 * so a gateway whose updater never ran is not ready. When the same server serves the
 * zone (dns-authority), the zone's signatures must not be about to expire either.
 */
import Boom from '@hapi/boom';
import Bounce from '@hapi/bounce';
import type { Lifecycle, Request } from '@hapi/hapi';

import type { Store, StoredDocument } from '../../lib/store/types';

export interface ReadinessSettings {
    readonly domain: string;
    readonly store: Pick<Store, 'ping' | 'getDocument'>;
}

export class Readiness {

    readonly #settings: ReadinessSettings;

    constructor(settings: ReadinessSettings) {

        this.#settings = settings;
    }

    readonly handler = async (request: Request): Promise<Lifecycle.ReturnValue> => {

        const { store, domain } = this.#settings;
        let published: StoredDocument | null;
        try {
            await store.ping();
            published = await store.getDocument(domain, 'rsk');
        }
        catch (error) {
            Bounce.rethrow(error, 'system');
            throw Boom.serverUnavailable('store unreachable');
        }

        if (!published || published.notAfter <= Date.now()) {
            throw Boom.serverUnavailable(`the KSK-signed RSK document of ${domain} is not published; is the updater running?`);
        }

        // By name, not import: a host may serve lookups without the DNS plugin.
        const dns = (request.server.plugins as unknown as Record<string, { readiness?: () => { ready: boolean; reason: string } } | undefined>)['dns-authority'];
        const zone = dns?.readiness?.();
        if (zone && !zone.ready) {
            throw Boom.serverUnavailable(`DNS: ${zone.reason}`);
        }

        return { status: 'ready' };
    };
}
