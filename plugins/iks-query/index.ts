/**
 * iks-query: the lookup side of IKS (paper §5.1, §6.3) as a hapi plugin.
 *
 * A lookup is one store read of a document the updater signed ahead of time; the
 * only signing done here is the RSK-signed negative answer. In the `offline`
 * strategy this plugin loads the RSK and nothing else private (ARCHITECTURE.md §2).
 */
import type { Plugin, Server } from '@hapi/hapi';
import Joi from 'joi';

import { loadDomainPublicKey, loadDomainSigningKey } from '../../lib/keys';
import type { Store } from '../../lib/store/types';
import { LookupHandlers, type LookupSettings } from './handlers';

export interface IksQueryOptions {
    /** The domain this registration answers for (canonical). */
    readonly domain: string;
    /** Data dir holding `<domain>/private/rsk.pem` and `<domain>/public/ksk.pem`. */
    readonly dataDir: string;
    readonly store: Store;
    /** Seconds an RSK-signed negative answer stays valid (default 300). */
    readonly negativeValidity?: number;
    /** Upper bound of Cache-Control max-age in seconds (default 3600). */
    readonly maxCacheAge?: number;
}

const internals = {
    schema: Joi.object({
        domain: Joi.string().hostname().lowercase().required(),
        dataDir: Joi.string().required(),
        // Joi.any keeps the instance itself (an object schema would hand back a copy).
        store: Joi.any().required().custom((store, helpers) => {

            const methods = ['getDocument', 'ping', 'enqueue'];
            return methods.every((method) => typeof store?.[method] === 'function') ? store : helpers.message({ custom: `"store" must implement ${methods.join(', ')}` });
        }),
        negativeValidity: Joi.number().integer().min(1).max(86400).default(300),
        maxCacheAge: Joi.number().integer().min(0).max(86400).default(3600)
    })
};

export const plugin: Plugin<IksQueryOptions> = {
    name: 'iks-query',
    version: '0.1.0',
    requirements: { hapi: '>=21' },
    register(server: Server, options: IksQueryOptions) {

        const settings = Joi.attempt(options, internals.schema, 'Invalid "iks-query" options') as Required<IksQueryOptions>;

        const lookupSettings: LookupSettings = {
            domain: settings.domain,
            store: settings.store,
            rsk: loadDomainSigningKey(settings.dataDir, settings.domain, 'rsk'),
            ksk: loadDomainPublicKey(settings.dataDir, settings.domain, 'ksk'),
            negativeValidity: settings.negativeValidity * 1000,
            maxCacheAge: settings.maxCacheAge
        };

        const handlers = new LookupHandlers(lookupSettings);
        const validateFailAction = handlers.failAction;

        // The name is checked by the handlers (bounded, canonical base64url), which
        // memoise the result: the key list is the hot path of the whole service.
        server.route([
            {
                method: 'GET',
                path: '/ikqs/v1/n/{name}',
                handler: handlers.keyList
            },
            {
                method: 'GET',
                path: '/ikqs/v1/n/{name}/k/{keyId}',
                options: {
                    validate: {
                        params: Joi.object({ name: Joi.string().required(), keyId: Joi.string().pattern(/^[0-9a-f]{16}$/).required().messages({ 'string.pattern.base': 'key id must be 16 lowercase hex digits' }) }),
                        failAction: validateFailAction
                    }
                },
                handler: handlers.key
            },
            {
                method: 'GET',
                path: '/ikqs/v1/ksk/{keyName}',
                handler: handlers.ksk
            },
            {
                method: 'GET',
                path: '/ikqs/v1/rsk',
                handler: handlers.publishedKey('rsk')
            },
            {
                method: 'GET',
                path: '/ikqs/v1/enc',
                handler: handlers.publishedKey('enc')
            },
            {
                method: 'GET',
                path: '/healthz',
                handler: () => ({ status: 'ok' })
            },
            {
                method: 'GET',
                path: '/readyz',
                handler: handlers.ready
            }
        ]);
    }
};
