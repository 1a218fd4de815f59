/**
 * The gateway: a hapi server with the IKS plugins mounted, as `iks serve` and the
 * quickstart run it. Organisations with their own hapi gateway register the plugins
 * themselves instead (README "Mounting", examples/host-gateway); this module is only
 * the stand-alone host, and the one place that adds request logging (hapi-pino),
 * because a host application brings its own.
 */
import Hapi from '@hapi/hapi';
import type Pino from 'pino';

import type { IksConfig } from '../../config';
import { plugin as dnsAuthority } from '../../plugins/dns-authority';
import { plugin as iksQuery } from '../../plugins/iks-query';
import { plugin as iksRegister } from '../../plugins/iks-register';
import { inlineSigningOptions } from '../../workers/updater/inline';
import { zonePaths } from '../../workers/updater/zone';
import { createLogger, IksMetrics, requestLogging } from '../observability';
import type { Store } from '../store/types';

export interface GatewayOptions {
    readonly store: Store;
    /** Port override (0 for an ephemeral port in tests). */
    readonly port?: number;
    /** DNS port override (0 for an ephemeral port in tests). */
    readonly dnsPort?: number;
    /** Where request logs go; default a pino logger on stderr at `config.logLevel`. */
    readonly logger?: Pino.Logger;
    /** Shared by the three plugins and served at /metrics; pass one to add the in-process updater's signing metrics. */
    readonly metrics?: IksMetrics;
}

/** Builds (but does not start) the stand-alone gateway server. */
export async function createGateway(config: IksConfig, options: GatewayOptions): Promise<Hapi.Server> {

    const server = Hapi.server({
        host: config.http.host,
        port: options.port ?? config.http.port,
        routes: {
            // Lookups carry no body; registration sets its own bound on its route.
            payload: { maxBytes: 64 * 1024 },
            timeout: { server: 10_000 }
        }
    });

    const metrics = options.metrics ?? new IksMetrics();
    await server.register(requestLogging(options.logger ?? createLogger({ level: config.logLevel })));

    await server.register({
        plugin: iksQuery,
        options: {
            domain: config.domain,
            dataDir: config.dataDir,
            store: options.store,
            negativeValidity: config.negativeValidity,
            maxCacheAge: config.maxCacheAge,
            refreshBefore: config.refreshBefore,
            metrics,
            // Paper §6: only in `ondemand` does the query plugin hold the KSK.
            ...(config.signing === 'ondemand' ? { onDemandSigning: inlineSigningOptions(config) } : {})
        }
    });

    // Registration (paper §5.2): loads the RSK and the password-encryption key, not the KSK (but in `online`).
    await server.register({
        plugin: iksRegister,
        options: {
            domain: config.domain, dataDir: config.dataDir, store: options.store, ...config.register, metrics,
            // Paper §6: only in `online` does the registration plugin hold the KSK.
            ...(config.signing === 'online' ? { onlineSigning: inlineSigningOptions(config) } : {})
        }
    });

    if (config.dns.enabled) {
        // Serves the file the signer wrote; this process holds no zone key.
        await server.register({
            plugin: dnsAuthority,
            options: { host: config.dns.host, port: options.dnsPort ?? config.dns.port, zoneFile: zonePaths(config).signedZone, metrics }
        });
    }

    return server;
}
