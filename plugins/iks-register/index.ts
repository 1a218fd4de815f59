/**
 * iks-register: registration and revocation of keys (paper §5.2, §5.3, §6.1) as a hapi
 * plugin. `POST /ikrs/v1` takes SOAP 1.2 requests (Register, Revoke, ListMyKeys; see
 * lib/xml/schema/registration.xsd) and answers with RSK-signed documents. The policy is
 * lib/registration's RegistrationAuthority; this plugin is the web front end.
 *
 * It loads the RSK and the password-encryption key, and never the KSK (ARCHITECTURE.md
 * §2, `offline` strategy): accepted changes reach the store and queue, and the updater
 * signs what lookups serve.
 */
import type { NamedPlugin, Request, ResponseToolkit, Server } from '@hapi/hapi';
import Joi from 'joi';

import { loadDomainSigningKey } from '../../lib/keys';
import { IksMetrics } from '../../lib/observability';
import { RegistrationAuthority } from '../../lib/registration/authority';
import { REGISTRATIONS_PER_ACTIVE_KEY } from '../../lib/registration/limits';
import { SOAP_MEDIA_TYPE } from '../../lib/registration/soap';
import type { Store } from '../../lib/store/types';
import type { AuthenticationMethod } from '../../lib/xml/types';
import { inlineSigningSchema, startInlineSigner, type InlineSigningOptions } from '../../workers/updater/inline';
import { RegisterHandlers } from './handlers';

export interface IksRegisterOptions {
    /** The domain whose names this service registers (canonical). */
    readonly domain: string;
    /** Data dir holding `<domain>/private/rsk.pem` and `<domain>/private/enc.pem`. */
    readonly dataDir: string;
    readonly store: Store;
    /** Authentication methods this domain accepts (default all three). */
    readonly methods?: readonly AuthenticationMethod[];
    /** Largest request body in bytes (default 32 KiB). */
    readonly maxRequestBytes?: number;
    /** Most active keys per name (default 16). */
    readonly maxKeysPerName?: number;
    /**
     * Most stored registrations per name, active, expired and revoked alike (default 4 ×
     * maxKeysPerName, at least maxKeysPerName): expired and revoked keys stay stored until purged.
     */
    readonly maxRegistrationsPerName?: number;
    /** Largest key size in bits (default 8192). */
    readonly maxKeySize?: number;
    /** Seconds a request timestamp may be off (default 300); nonces are kept a minute longer. */
    readonly replayWindow?: number;
    /** Longest accepted assertion lifetime, seconds (default 3600). */
    readonly assertionMaxLifetime?: number;
    /** Seconds an RSK-signed answer is valid (default 3600). */
    readonly answerValidity?: number;
    /** Password failures allowed per entity and per client address within `window` seconds, then `lockout` seconds. */
    readonly passwordFailures?: { readonly perEntity?: number; readonly perAddress?: number; readonly window?: number; readonly lockout?: number };
    /** Metrics shared with the other plugins of this gateway; default: a registry of this registration's own. */
    readonly metrics?: IksMetrics;
    /**
     * `online` signing strategy (paper §6): when set, this plugin loads the KSK, signs an
     * accepted change before answering, and runs the queue loop. Unset: never loads the KSK.
     */
    readonly onlineSigning?: InlineSigningOptions;
}

const internals = {
    schema: Joi.object({
        domain: Joi.string().hostname().lowercase().required(),
        dataDir: Joi.string().required(),
        // Joi.any keeps the instance itself (an object schema would hand back a copy).
        store: Joi.any().required().custom((store, helpers) => {

            const methods = ['putRegistrations', 'getRegistrations', 'getRegistration', 'getUser', 'rememberNonce', 'failureLimiter'];
            return methods.every((method) => typeof store?.[method] === 'function') ? store : helpers.message({ custom: `"store" must implement ${methods.join(', ')}` });
        }),
        methods: Joi.array().items(Joi.string().valid('password', 'user-key', 'assertion')).min(1).unique().default(['password', 'user-key', 'assertion']),
        maxRequestBytes: Joi.number().integer().min(1024).max(1024 * 1024).default(32 * 1024),
        maxKeysPerName: Joi.number().integer().min(1).max(1000).default(16),
        // Validated after maxKeysPerName (it refers to it): the default sees its final value.
        maxRegistrationsPerName: Joi.number().integer().max(10_000).min(Joi.ref('maxKeysPerName'))
            .default((parent: { maxKeysPerName: number }): number => REGISTRATIONS_PER_ACTIVE_KEY * parent.maxKeysPerName)
            .messages({ 'number.min': '{{#label}} must be at least "maxKeysPerName" ({{#value}} < {{maxKeysPerName}})' }),
        maxKeySize: Joi.number().integer().min(256).max(16384).default(8192),
        replayWindow: Joi.number().integer().min(10).max(3600).default(300),
        assertionMaxLifetime: Joi.number().integer().min(1).max(30 * 86400).default(3600),
        answerValidity: Joi.number().integer().min(1).max(10 * 365 * 86400).default(3600),
        passwordFailures: Joi.object({
            perEntity: Joi.number().integer().min(1).max(1000).default(5),
            perAddress: Joi.number().integer().min(1).max(100000).default(50),
            window: Joi.number().integer().min(1).max(86400).default(900),
            lockout: Joi.number().integer().min(1).max(86400).default(900)
        }).default(),
        metrics: Joi.object().instance(IksMetrics),
        onlineSigning: inlineSigningSchema
    })
};

type Settings = Required<Omit<IksRegisterOptions, 'passwordFailures' | 'metrics'>> & Pick<IksRegisterOptions, 'metrics'> & { readonly passwordFailures: { perEntity: number; perAddress: number; window: number; lockout: number } };

/**
 * Register once per domain (`multiple`), each registration with its own `vhost` or
 * `routes.prefix`. The route is `auth: false`: a registration request carries its own
 * authentication (password, user key or assertion) inside the SOAP body, and a host's
 * default strategy must not ask for anything else.
 */
export const plugin: NamedPlugin<IksRegisterOptions> = {
    name: 'iks-register',
    version: '0.1.0',
    requirements: { hapi: '>=21' },
    multiple: true,
    register(server: Server, options: IksRegisterOptions) {

        const settings = Joi.attempt(options, internals.schema, 'Invalid "iks-register" options') as Settings;
        const metrics = settings.metrics ?? new IksMetrics();
        // Requests that got a signed answer; the others were refused with a SOAP Fault.
        const decided = new WeakSet<Request>();

        const authority = new RegistrationAuthority({
            domain: settings.domain,
            store: settings.store,
            encKey: loadDomainSigningKey(settings.dataDir, settings.domain, 'enc'),
            methods: settings.methods,
            maxKeysPerName: settings.maxKeysPerName,
            maxRegistrationsPerName: settings.maxRegistrationsPerName,
            maxKeySize: settings.maxKeySize,
            replayWindow: settings.replayWindow * 1000,
            assertionMaxLifetime: settings.assertionMaxLifetime * 1000,
            passwordFailures: settings.passwordFailures
        });

        const handlers = new RegisterHandlers({
            authority,
            rsk: loadDomainSigningKey(settings.dataDir, settings.domain, 'rsk'),
            answerValidity: settings.answerValidity * 1000,
            maxRequestBytes: settings.maxRequestBytes,
            signer: options.onlineSigning ? startInlineSigner(server, { dataDir: settings.dataDir, domain: settings.domain, store: settings.store, options: options.onlineSigning }) : undefined,
            onDecision: (request, decision) => {

                decided.add(request);
                metrics.registrations.inc({ domain: settings.domain, operation: decision.operation, method: decision.method, outcome: decision.outcome });
            }
        });

        const countFault = (request: Request, h: ResponseToolkit) => {

            if (!decided.has(request)) {
                metrics.registrations.inc({ domain: settings.domain, operation: 'unknown', method: 'none', outcome: 'fault' });
            }

            return h.continue;
        };

        server.route({
            method: 'POST',
            path: '/ikrs/v1',
            options: {
                auth: false,
                payload: { parse: false, output: 'data', allow: [SOAP_MEDIA_TYPE], maxBytes: settings.maxRequestBytes },
                ext: { onPreResponse: { method: handlers.toFault }, onPostResponse: { method: countFault } }
            },
            handler: handlers.handle
        });
    }
};
