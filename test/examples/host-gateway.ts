import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import { createHostGateway } from '../../examples/host-gateway';
import { nameToUrlForm } from '../../lib/names';
import { createUpdater } from '../../workers/updater';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

describe('examples/host-gateway', () => {

    let domain: TestDomain;
    let server: Hapi.Server;
    const token = { authorization: 'Bearer t0ken' };

    before(async () => {

        domain = await makeDomain();
        await domain.store.putRegistrations([makeRegistration('bob@example.test')]);
        await domain.store.enqueue([domain.domain]);
        await createUpdater(domain.config, domain.store).drain();
        server = await createHostGateway({ domain: domain.domain, dataDir: domain.dataDir, store: domain.store, apiTokens: new Map([['t0ken', 'ops']]), port: 0, dnsPort: 0 });
        await server.start();
    });

    after(async () => {

        await server?.stop();
        await domain?.cleanup();
    });

    it('keeps the host routes behind the host\'s default auth strategy', async () => {

        expect((await server.inject('/api/orders')).statusCode).to.equal(401);
        expect((await server.inject({ url: '/api/orders', headers: { authorization: 'Bearer wrong' } })).statusCode).to.equal(401);
        const res = await server.inject({ url: '/api/orders', headers: token });
        expect(res.result).to.equal({ user: 'ops', orders: [] });
        expect(res.headers['x-received-at']).to.match(/^\d+$/);
    });

    it('serves every IKS route under /iks without credentials, through the host\'s extensions', async () => {

        const lookup = await server.inject(`/iks/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`);
        expect(lookup.statusCode).to.equal(200);
        expect(lookup.headers['x-received-at']).to.match(/^\d+$/);
        expect((await server.inject(`/iks/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`)).statusCode).to.equal(404);
        for (const path of ['/iks/ikqs/v1/rsk', '/iks/ikqs/v1/enc', '/iks/healthz', '/iks/readyz', '/iks/metrics']) {
            expect((await server.inject(path)).statusCode, path).to.equal(200);
        }

        const soap = await server.inject({ method: 'POST', url: '/iks/ikrs/v1', headers: { 'content-type': 'application/soap+xml' }, payload: '<x/>' });
        expect(soap.statusCode).to.equal(400);
        expect(soap.payload).to.contain('Fault');
        // With the host's credentials IKS answers the same: they are neither needed nor harmful.
        expect((await server.inject({ url: '/iks/healthz', headers: token })).statusCode).to.equal(200);
        expect((await server.inject('/iks/metrics')).payload).to.contain('iks_lookups_total{domain="example.test",document="list",outcome="hit"} 1');
    });

    it('answers DNS for the domain on its own port', () => {

        const dns = (server.plugins as unknown as Record<string, { address(): { port: number } | null }>)['dns-authority']!;
        expect(dns.address()!.port).to.be.above(0);
    });
});
