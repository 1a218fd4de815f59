import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Boom from '@hapi/boom';
import Hapi from '@hapi/hapi';

import { plugin as dnsAuthority } from '../../plugins/dns-authority';
import { plugin as iksQuery } from '../../plugins/iks-query';
import { plugin as iksRegister } from '../../plugins/iks-register';
import { nameToUrlForm } from '../../lib/names';
import { createUpdater } from '../../workers/updater';
import { zonePaths } from '../../workers/updater/zone';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';

const packageJson = require('../../package.json') as { version: string };

export const lab = Lab.script();
const { describe, it, before, after } = lab;

/** A host application as an organisation runs it: its own routes, a default auth strategy, an onRequest extension. */
async function hostApplication(): Promise<{ server: Hapi.Server; seen: string[] }> {

    const server = Hapi.server();
    const seen: string[] = [];
    server.auth.scheme('api-token', () => ({
        authenticate(request, h) {

            if (request.headers.authorization !== 'Bearer host-secret') {
                throw Boom.unauthorized(null, 'Bearer');
            }

            return h.authenticated({ credentials: { user: 'staff' } });
        }
    }));
    server.auth.strategy('token', 'api-token');
    server.auth.default('token');
    server.ext('onRequest', (request, h) => {

        seen.push(request.path);
        return h.continue;
    });
    server.route({ method: 'GET', path: '/orders', handler: (request) => ({ orders: [], user: (request.auth.credentials as { user: string }).user }) });
    return { server, seen };
}

describe('mounting the plugins on a host gateway', () => {

    let first: TestDomain;
    let second: TestDomain;
    const bob = `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`;
    const carol = `/ikqs/v1/n/${nameToUrlForm('carol@second.test')}`;

    const options = (domain: TestDomain) => ({ domain: domain.domain, dataDir: domain.dataDir, store: domain.store });

    before(async () => {

        first = await makeDomain();
        second = await makeDomain({ domain: 'second.test' });
        await first.store.putRegistrations([makeRegistration('bob@example.test')]);
        await second.store.putRegistrations([makeRegistration('carol@second.test')]);
        for (const domain of [first, second]) {
            await domain.store.enqueue([domain.domain]);
            await createUpdater(domain.config, domain.store).drain();
        }
    });

    after(async () => {

        await first?.cleanup();
        await second?.cleanup();
    });

    it('declares each plugin by its folder name, the package version and the hapi it needs', () => {

        for (const [folder, plugin] of [['iks-query', iksQuery], ['iks-register', iksRegister], ['dns-authority', dnsAuthority]] as const) {
            expect(plugin.name).to.equal(folder);
            expect(plugin.version).to.equal(packageJson.version);
            expect(plugin.requirements).to.equal({ hapi: '>=21' });
        }
    });

    it('rejects bad options at registration with a message naming the plugin and the option', async () => {

        const server = Hapi.server();
        await expect(server.register({ plugin: iksQuery, options: { ...options(first), domain: 'not a domain' } })).to.reject(/Invalid "iks-query" options.*"domain" must be a valid hostname/);
        await expect(server.register({ plugin: iksRegister, options: { ...options(first), methods: ['carrier-pigeon'] } } as never)).to.reject(/Invalid "iks-register" options.*"methods\[0\]" must be one of/);
        await expect(server.register({ plugin: iksQuery, options: { ...options(first), store: {} } } as never)).to.reject(/"store" must implement getDocument, ping, enqueue/);
        await expect(server.register({ plugin: dnsAuthority, options: { port: 5300 } })).to.reject(/Invalid "dns-authority" options.*must contain at least one of \[zone, zoneFile\]/);
    });

    it('serves IKS under a prefix without credentials while the host keeps its default auth and onRequest extension', async () => {

        const { server, seen } = await hostApplication();
        await server.register([
            { plugin: iksQuery, options: options(first) },
            { plugin: iksRegister, options: options(first) }
        ], { routes: { prefix: '/keys' } });
        await server.register({ plugin: dnsAuthority, options: { port: 0, zoneFile: zonePaths(first.config).signedZone } });

        // The host's own route still requires its credentials…
        expect((await server.inject('/orders')).statusCode).to.equal(401);
        const orders = await server.inject({ url: '/orders', headers: { authorization: 'Bearer host-secret' } });
        expect(orders.result).to.equal({ orders: [], user: 'staff' });

        // …while IKS routes are public by the protocol, and live only under the prefix.
        const lookup = await server.inject(`/keys${bob}`);
        expect(lookup.statusCode).to.equal(200);
        expect(lookup.payload).to.contain('bob@example.test');
        expect((await server.inject(`/keys/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`)).statusCode).to.equal(404);
        expect((await server.inject('/keys/healthz')).result).to.equal({ status: 'ok' });
        expect((await server.inject('/keys/readyz')).result).to.equal({ status: 'ready' });
        expect((await server.inject('/keys/metrics')).payload).to.contain('iks_lookups_total');
        expect((await server.inject(bob)).statusCode).to.equal(404);

        // A registration request reaches our SOAP route (and its Fault), not the host's 401.
        const soap = await server.inject({ method: 'POST', url: '/keys/ikrs/v1', headers: { 'content-type': 'application/soap+xml' }, payload: '<not-soap/>' });
        expect(soap.statusCode).to.equal(400);
        expect(soap.headers['content-type']).to.contain('application/soap+xml');

        // The host's onRequest extension saw every request, ours included.
        expect(seen).to.include(['/orders', `/keys${bob}`, '/keys/ikrs/v1']);
    });

    it('is not ready until the KSK-signed RSK document is published', async () => {

        const fresh = await makeDomain({ domain: 'fresh.test' });
        try {
            const server = Hapi.server();
            await server.register({ plugin: iksQuery, options: options(fresh) });
            const before = await server.inject('/readyz');
            expect(before.statusCode).to.equal(503);
            expect((before.result as { message: string }).message).to.contain('RSK document of fresh.test is not published');
            await fresh.store.enqueue([fresh.domain]);
            await createUpdater(fresh.config, fresh.store).drain();
            expect((await server.inject('/readyz')).statusCode).to.equal(200);
        }
        finally {
            await fresh.cleanup();
        }
    });

    it('leaves the host\'s error responses alone (our SOAP faults are scoped to our route)', async () => {

        const { server } = await hostApplication();
        await server.register({ plugin: iksRegister, options: options(first) }, { routes: { prefix: '/keys' } });
        const res = await server.inject('/orders');
        expect(res.statusCode).to.equal(401);
        expect(res.headers['content-type']).to.contain('application/json');
    });

    it('serves several domains from one gateway, one registration per domain on its own vhost', async () => {

        const { server } = await hostApplication();
        for (const [domain, vhost] of [[first, 'keys.example.test'], [second, 'keys.second.test']] as const) {
            await server.register([
                { plugin: iksQuery, options: options(domain) },
                { plugin: iksRegister, options: options(domain) }
            // hapi's types demand a prefix next to vhost; hapi itself does not.
            ], { routes: { vhost } } as Hapi.ServerRegisterOptions);
        }

        const get = (host: string, url: string) => server.inject({ url, headers: { host } });
        expect((await get('keys.example.test', bob)).statusCode).to.equal(200);
        expect((await get('keys.second.test', carol)).statusCode).to.equal(200);
        // Each registration answers for its own domain only.
        expect((await get('keys.second.test', bob)).statusCode).to.equal(404);
        expect((await get('keys.example.test', carol)).statusCode).to.equal(404);
        // Another host name reaches neither (the host's own routes only).
        expect((await get('www.example.test', bob)).statusCode).to.equal(404);
        // Per-registration metrics: each vhost's /metrics counts its own domain's lookups.
        const metrics = (await get('keys.second.test', '/metrics')).payload;
        expect(metrics).to.contain('iks_lookups_total{domain="second.test",document="list",outcome="hit"} 1');
        expect(metrics).to.not.contain('domain="example.test"');
    });

    it('serves several domains from one gateway under one prefix per domain', async () => {

        const server = Hapi.server();
        await server.register({ plugin: iksQuery, options: options(first) }, { routes: { prefix: '/example' } });
        await server.register({ plugin: iksQuery, options: options(second) }, { routes: { prefix: '/second' } });
        expect((await server.inject(`/example${bob}`)).statusCode).to.equal(200);
        expect((await server.inject(`/second${carol}`)).statusCode).to.equal(200);
        expect((await server.inject(`/second${bob}`)).statusCode).to.equal(404);
    });
});
