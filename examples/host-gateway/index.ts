/**
 * Example (a): an organisation's existing hapi API gateway — its own routes, a default
 * auth strategy that every route must pass, an onRequest extension — that mounts the
 * three IKS plugins under `/iks`. In an application outside this repository the imports
 * read `from 'iks-hapi'` (package.json `exports`).
 *
 *     npx ts-node --transpile-only examples/host-gateway/index.ts     (after `iks init` and an updater run)
 */
import Boom from '@hapi/boom';
import Hapi from '@hapi/hapi';

import { createStore, dnsAuthority, iksQuery, iksRegister, IksMetrics, type Store } from '../../lib';
import { zonePaths } from '../../workers/updater';

export interface HostGatewayOptions {
    readonly domain: string;
    /** Where `iks init` put the domain's keys; the gateway reads only public files, the RSK and the enc key. */
    readonly dataDir: string;
    readonly store: Store;
    /** The bearer tokens of the host's own API (its business, not IKS's). */
    readonly apiTokens: ReadonlyMap<string, string>;
    readonly port?: number;
    readonly dnsPort?: number;
}

export async function createHostGateway(options: HostGatewayOptions): Promise<Hapi.Server> {

    const server = Hapi.server({ port: options.port ?? 8000, host: '127.0.0.1' });

    // --- The host application as it was before IKS ---

    server.auth.scheme('bearer', () => ({
        authenticate(request, h) {

            const token = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
            const user = token === undefined ? undefined : options.apiTokens.get(token);
            if (user === undefined) {
                throw Boom.unauthorized(null, 'Bearer');
            }

            return h.authenticated({ credentials: { user } });
        }
    }));
    server.auth.strategy('api', 'bearer');
    server.auth.default('api');

    // Tags every response with the time it entered the gateway (the host's own concern).
    server.ext('onRequest', (request, h) => {

        request.app = { receivedAt: Date.now() };
        return h.continue;
    });
    server.ext('onPreResponse', (request, h) => {

        const response = request.response;
        if (!Boom.isBoom(response)) {
            response.header('x-received-at', String((request.app as { receivedAt: number }).receivedAt));
        }

        return h.continue;
    });

    server.route({ method: 'GET', path: '/api/orders', handler: (request) => ({ user: (request.auth.credentials as { user: string }).user, orders: [] }) });

    // --- IKS: three registrations, one shared metrics registry ---

    const metrics = new IksMetrics();
    const common = { domain: options.domain, dataDir: options.dataDir, store: options.store, metrics };
    // Lookups and registration under /iks; their routes are auth: false (public by protocol).
    await server.register([
        { plugin: iksQuery, options: common },
        { plugin: iksRegister, options: common }
    ], { routes: { prefix: '/iks' } });
    // DNS has no routes: it listens on its own port and serves the zone the signer wrote.
    await server.register({ plugin: dnsAuthority, options: { host: '127.0.0.1', port: options.dnsPort ?? 5300, zoneFile: zonePaths(options).signedZone, metrics } });
    return server;
}

if (require.main === module) {
    const dataDir = process.env.IKS_DATA_DIR ?? '.iks';
    const store = createStore({ redisUrl: process.env.IKS_REDIS_URL, dataDir });
    createHostGateway({ domain: process.env.IKS_DOMAIN ?? 'example.test', dataDir, store, apiTokens: new Map([['demo-token', 'demo']]) })
        .then(async (server) => {

            await server.start();
            process.stdout.write(`host gateway on ${server.info.uri}; IKS under ${server.info.uri}/iks\n`);
        })
        .catch((error: Error) => {

            process.stderr.write(`${error.message}\n`);
            process.exitCode = 1;
        });
}
