/**
 * `GET /readyz`: may a load balancer send lookups here? Only when the store answers
 * and the domain's keys are in service: the RSK (and the KSK's public half) were
 * loaded when the plugin registered, and the KSK-signed document publishing that RSK
 * is in the store and unexpired — without it no client can verify a negative answer,
 * so a gateway whose updater never ran is not ready.
 */
import Boom from '@hapi/boom';
import Bounce from '@hapi/bounce';
import type { Lifecycle } from '@hapi/hapi';

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

    readonly handler = async (): Promise<Lifecycle.ReturnValue> => {

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

        return { status: 'ready' };
    };
}
