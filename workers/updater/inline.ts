/**
 * Signing inside a gateway plugin: the `ondemand` (iks-query) and `online`
 * (iks-register) strategies of paper §6. The plugin that the strategy names loads the
 * KSK through here, signs in its request path, and runs the queue loop in its own
 * process for what no request triggers (scheduled re-signs, expiries, purges). No other
 * process then holds the KSK; `iks updater` signs only the zone, whose key never enters
 * a gateway (lib/cli/updater.ts).
 */
import type { Server } from '@hapi/hapi';
import Joi from 'joi';

import type { IksConfig } from '../../config';
import { nameHash } from '../../lib/observability/logging';
import type { Store } from '../../lib/store/types';
import { createSigner, signingPolicy, type NameSigner } from './signer';
import { Updater } from './updater';

/** Plugin option `onDemandSigning` / `onlineSigning`: the lifecycle settings, seconds. */
export interface InlineSigningOptions {
    readonly signatureValidity: number;
    readonly refreshBefore: number;
    readonly retention: number;
    readonly batchSize?: number;
    /** ms */
    readonly lease?: number;
    /** ms */
    readonly pollInterval?: number;
    readonly maxAttempts?: number;
}

export const inlineSigningSchema = Joi.object({
    signatureValidity: Joi.number().integer().min(2).required(),
    refreshBefore: Joi.number().integer().min(1).less(Joi.ref('signatureValidity')).required(),
    retention: Joi.number().integer().min(1).required(),
    batchSize: Joi.number().integer().min(1).max(10000).default(200),
    lease: Joi.number().integer().min(1000).default(60000),
    pollInterval: Joi.number().integer().min(10).default(100),
    maxAttempts: Joi.number().integer().min(1).default(10)
});

/** The plugin option from the configuration (lib/gateway). */
export function inlineSigningOptions(config: IksConfig): InlineSigningOptions {

    return {
        signatureValidity: config.signatureValidity,
        refreshBefore: config.refreshBefore,
        retention: config.retention,
        batchSize: config.updater.batchSize,
        lease: config.updater.lease,
        pollInterval: config.updater.pollInterval,
        maxAttempts: config.updater.maxAttempts
    };
}

/**
 * Loads the KSK for the calling plugin and runs the queue loop while the server runs.
 * Security: only iks-query (`ondemand`) and iks-register (`online`) call this.
 */
export function startInlineSigner(server: Server, settings: { dataDir: string; domain: string; store: Store; options: InlineSigningOptions }): NameSigner {

    const options = Joi.attempt(settings.options, inlineSigningSchema) as Required<InlineSigningOptions>;
    const signer = createSigner({ dataDir: settings.dataDir, domain: settings.domain, store: settings.store, policy: signingPolicy(options) });
    const updater = new Updater({
        store: settings.store,
        signer,
        batchSize: options.batchSize,
        lease: options.lease,
        pollInterval: options.pollInterval,
        maxAttempts: options.maxAttempts,
        // Names as nameHash, as in every log line (lib/observability/logging.ts).
        onError: (error, name) => server.log(['iks', 'signer', 'error'], { nameHash: nameHash(name), message: (error as Error).message })
    });

    // onPreStart runs on server.initialize() too, so injected-request tests get the loop as well.
    server.ext('onPreStart', async () => {

        // The domain's own documents (RSK, enc) are kept by the same loop.
        await settings.store.enqueue([settings.domain]);
        updater.start();
    });
    server.ext('onPostStop', () => updater.stop());
    return signer;
}
