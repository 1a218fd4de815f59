/**
 * iks-query: the lookup side of IKS (paper §5.1, §6.3) as a hapi plugin.
 *
 * A lookup is one store read of a document the updater signed ahead of time; the
 * only signing done here is the RSK-signed negative answer. In the `offline`
 * strategy this plugin loads the RSK and nothing else private (ARCHITECTURE.md §2).
 */
import Boom from '@hapi/boom';
import type { NamedPlugin, Request, ResponseToolkit, Server } from '@hapi/hapi';
import Joi from 'joi';

import { loadDomainSigningKey } from '../../lib/keys';
import { IksMetrics, type LookupDocument, type LookupOutcome } from '../../lib/observability';
import type { Store } from '../../lib/store/types';
import { inlineSigningSchema, startInlineSigner, type InlineSigningOptions } from '../../workers/updater/inline';
import { isSignedNegative, LookupHandlers, type LookupSettings } from './handlers';
import { KskDirectory } from './ksk-directory';
import { Readiness } from './readiness';

export interface IksQueryOptions {
    /** The domain this registration answers for (canonical). */
    readonly domain: string;
    /** Data dir holding `<domain>/private/rsk.pem` and the published KSKs in `<domain>/public/` (ksk*.pem). */
    readonly dataDir: string;
    readonly store: Store;
    /** Seconds an RSK-signed negative answer stays valid (default 300). */
    readonly negativeValidity?: number;
    /** Upper bound of Cache-Control max-age in seconds (default 3600). */
    readonly maxCacheAge?: number;
    /**
     * Metrics shared with the other plugins of this gateway (one `/metrics` for all of
     * them); default: a registry of this registration's own.
     */
    readonly metrics?: IksMetrics;
    /** The updater's `refreshBefore`, seconds (default 86400): only for the signature-expiry horizon metric. */
    readonly refreshBefore?: number;
    /**
     * `ondemand` signing strategy (paper §6): when set, this plugin loads the KSK, signs a
     * missing or lapsed document on the request that finds it, and runs the queue loop.
     * Leave unset (`offline`, `online`) and this plugin never loads the KSK.
     */
    readonly onDemandSigning?: InlineSigningOptions;
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
        maxCacheAge: Joi.number().integer().min(0).max(86400).default(3600),
        metrics: Joi.object().instance(IksMetrics),
        refreshBefore: Joi.number().integer().min(1).default(86400),
        onDemandSigning: inlineSigningSchema
    }),

    /**
     * What a finished lookup counts as (route onPostResponse: a 304 is known only then). By
     * then an error is an ordinary response with its status, so a 404 is a signed negative
     * answer only if the handler said so (signedNegative), else a name not served here.
     */
    lookupOutcome(request: Request): LookupOutcome {

        const response = request.response;
        const status = Boom.isBoom(response) ? response.output.statusCode : response.statusCode;
        if (status === 404) {
            return isSignedNegative(request) ? 'negative' : 'not-served';
        }

        return ({ 200: 'hit', 304: 'not-modified', 400: 'bad-request', 503: 'unavailable' } as Record<number, LookupOutcome>)[status] ?? 'error';
    }
};

/**
 * Register once per domain: `multiple` allows it, each registration with its own `vhost`
 * or `routes.prefix` (docs/operations.md, "Several domains on one gateway"). Every route
 * is `auth: false`: lookups are public by the protocol, whatever default auth strategy
 * the host application sets.
 */
export const plugin: NamedPlugin<IksQueryOptions> = {
    name: 'iks-query',
    version: '0.1.0',
    requirements: { hapi: '>=21' },
    multiple: true,
    register(server: Server, options: IksQueryOptions) {

        const settings = Joi.attempt(options, internals.schema, 'Invalid "iks-query" options') as Required<Omit<IksQueryOptions, 'metrics'>> & Pick<IksQueryOptions, 'metrics'>;
        const metrics = settings.metrics ?? new IksMetrics();
        metrics.watchQueue(settings.domain, settings.store, { refreshBefore: settings.refreshBefore * 1000 });

        const lookupSettings: LookupSettings = {
            domain: settings.domain,
            store: settings.store,
            rsk: loadDomainSigningKey(settings.dataDir, settings.domain, 'rsk'),
            negativeValidity: settings.negativeValidity * 1000,
            maxCacheAge: settings.maxCacheAge,
            signer: options.onDemandSigning ? startInlineSigner(server, { dataDir: settings.dataDir, domain: settings.domain, store: settings.store, options: options.onDemandSigning }) : undefined
        };

        const handlers = new LookupHandlers(lookupSettings);
        const validateFailAction = handlers.failAction;
        const readiness = new Readiness({ domain: settings.domain, store: settings.store });
        // Every published KSK, the incoming and retired ones of a rollover included.
        const kskDirectory = new KskDirectory({ dataDir: settings.dataDir, domain: settings.domain, maxCacheAge: settings.maxCacheAge });
        const counted = (document: LookupDocument) => ({
            method: (request: Request, h: ResponseToolkit) => {

                metrics.lookups.inc({ domain: settings.domain, document, outcome: internals.lookupOutcome(request) });
                return h.continue;
            }
        });

        // The name is checked by the handlers (bounded, canonical base64url), which
        // memoise the result: the key list is the hot path of the whole service.
        // No Range: a part of a signed document verifies nothing (hapi would answer 206).
        const whole = { ranges: false };
        server.route([
            {
                method: 'GET',
                path: '/ikqs/v1/n/{name}',
                options: { auth: false, response: whole, ext: { onPostResponse: counted('list') } },
                handler: handlers.keyList
            },
            {
                method: 'GET',
                path: '/ikqs/v1/n/{name}/k/{keyId}',
                options: {
                    auth: false,
                    response: whole,
                    ext: { onPostResponse: counted('key') },
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
                options: { auth: false, response: whole },
                handler: kskDirectory.handler
            },
            {
                method: 'GET',
                path: '/ikqs/v1/rsk',
                options: { auth: false, response: whole },
                handler: handlers.publishedKey('rsk')
            },
            {
                method: 'GET',
                path: '/ikqs/v1/enc',
                options: { auth: false, response: whole },
                handler: handlers.publishedKey('enc')
            },
            {
                method: 'GET',
                path: '/healthz',
                options: { auth: false },
                handler: () => ({ status: 'ok' })
            },
            {
                method: 'GET',
                path: '/readyz',
                options: { auth: false },
                handler: readiness.handler
            },
            {
                method: 'GET',
                path: '/metrics',
                options: { auth: false },
                handler: async (_request, h) => {

                    const { contentType, body } = await metrics.render();
                    return h.response(body).type(contentType).header('cache-control', 'no-store');
                }
            }
        ]);
    }
};
