import * as Crypto from 'node:crypto';
import * as Fs from 'node:fs';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import { DnsDiscovery } from '../../lib/client';
import { RegistrationClient, type Credentials } from '../../lib/client/registration';
import { encodeSrv } from '../../lib/dns/rdata';
import { RrType } from '../../lib/dns/types';
import { parseTrustAnchors, type SignedZone } from '../../lib/dnssec';
import { CommitmentMismatch, DnssecBogus, InvalidConfig, NotParticipating, TransportError, type IksError } from '../../lib/errors';
import { createGateway } from '../../lib/gateway';
import { loadDomainPublicKey, parsePublicKey } from '../../lib/keys';
import { registrationOf } from '../../lib/store/registration';
import type { DnsAuthorityApi } from '../../plugins/dns-authority';
import { createUpdater } from '../../workers/updater';
import { zonePaths } from '../../workers/updater/zone';
import { serveZone, stripping, type Rewrite, type TestDnsServer } from '../helpers/dns-server';
import { makeDomain, type TestDomain } from '../helpers/domain';
import { freePort } from '../helpers/process';
import { anchorsOf, commitmentOf, signedIksZone, type IksZoneOptions } from '../helpers/signed-zone';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const pem = (key: Crypto.KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;

describe('RegistrationClient with DNS discovery (paper §5.2: _ikrs._tcp, KSK checked against DNSSEC)', () => {

    let domain: TestDomain;
    let gateway: Hapi.Server;
    let httpPort: number;
    let gatewayDnsPort: number;
    let kskName: string;
    let kskCommitment: { sha256: string; sha1: string };
    const servers: TestDnsServer[] = [];
    const carol = Crypto.generateKeyPairSync('ed25519');
    const carolCredentials: Credentials = { authKey: carol.privateKey };

    /** example.test as a test wants it: `_ikqs` in the helper's SRV list, `_ikrs` added unless told otherwise. */
    const zoneOptions = (overrides: Partial<IksZoneOptions> & { ikrs?: boolean } = {}): IksZoneOptions => ({
        srv: [{ priority: 10, weight: 1, port: httpPort, target: 'iks.example.test' }],
        addresses: [{ name: 'iks.example.test', a: ['127.0.0.1'] }],
        commitments: [{ label: kskName, sha256: [kskCommitment.sha256], sha1: [kskCommitment.sha1] }],
        extra: overrides.ikrs === false ? [] : [{ name: '_ikrs._tcp.example.test', type: RrType.SRV, ttl: 3600, rdata: [encodeSrv({ priority: 10, weight: 1, port: httpPort, target: 'iks.example.test' })] }],
        ...overrides
    });

    const clientFor = async (zone: SignedZone, options: { rewrite?: Rewrite; baseUrl?: string } = {}) => {

        const server = await serveZone(zone, options.rewrite);
        servers.push(server);
        const discovery = new DnsDiscovery({ server: { host: '127.0.0.1', port: server.port }, anchors: anchorsOf(zone), timeoutMs: 1000 });
        return new RegistrationClient({ discovery, timeout: 2000, ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}) });
    };

    const newKey = () => pem(Crypto.generateKeyPairSync('ed25519').publicKey);

    before(async () => {

        httpPort = await freePort();
        domain = await makeDomain({ env: { IKS_HTTP_PORT: String(httpPort) } });
        await domain.store.putRegistrations([registrationOf('carol@example.test', parsePublicKey(pem(carol.publicKey)), ['iks-auth'], Date.now())]);
        await domain.store.enqueue([domain.domain]);
        await createUpdater(domain.config, domain.store).drain();
        gateway = await createGateway(domain.config, { store: domain.store, dnsPort: 0 });
        await gateway.start();
        gatewayDnsPort = (gateway.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!.address()!.port;
        const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
        kskName = ksk.keyName;
        kskCommitment = commitmentOf(ksk.publicKey);
    });

    after(async () => {

        await Promise.all(servers.map((server) => server.close()));
        await gateway?.stop();
        await domain?.cleanup();
    });

    it('registers from nothing but the DNS server address and the trust-anchor file', async () => {

        const anchors = parseTrustAnchors(Fs.readFileSync(zonePaths(domain.config).trustAnchor, 'utf8'));
        const client = new RegistrationClient({ discovery: new DnsDiscovery({ server: { host: '127.0.0.1', port: gatewayDnsPort }, anchors }) });
        const receipt = await client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials);
        expect(receipt.answer.outcome).to.equal('accepted');
        const details = receipt.links.map((link) => `${link.link}: ${link.detail}`);
        // Both services resolve to the same validated address, recorded once.
        expect(receipt.links.map((link) => link.link)).to.equal(['trust-anchor', 'discovery', 'address', 'discovery', 'commitment', 'ksk', 'rsk', 'answer']);
        expect(details[1]).to.match(new RegExp(`^discovery: _ikrs\\._tcp\\.example\\.test SRV → iks\\.example\\.test:${httpPort} .*DNSSEC-validated`));
        expect(details[3]).to.match(/^discovery: _ikqs\._tcp\.example\.test SRV/);
        expect(details[5]).to.contain('matches the sha256 commitment and the sha1 one agrees');

        // The second request reuses the endpoints and keys it verified, and says so.
        const again = await client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials);
        expect(again.links.map((link) => link.link)).to.equal(['trust-anchor', 'discovery', 'address', 'answer']);
    });

    it('refuses an answer chain whose KSK does not match the DNSSEC commitment', async () => {

        const other = commitmentOf(Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
        const client = await clientFor(signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha256: [other.sha256], sha1: [other.sha1] }] })));
        const error = await expect(client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).to.reject(CommitmentMismatch, /does not match its DNS commitment/);
        expect((error as unknown as IksError).link).to.equal('ksk');
    });

    it('checks the KSK against DNSSEC even when --url skips SRV discovery', async () => {

        const other = commitmentOf(Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
        const client = await clientFor(signedIksZone(zoneOptions({ ikrs: false, commitments: [{ label: kskName, sha256: [other.sha256] }] })), { baseUrl: `http://127.0.0.1:${httpPort}` });
        await expect(client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).to.reject(CommitmentMismatch);
    });

    it('reports a domain without _ikrs._tcp, proven by NSEC, as not offering registration', async () => {

        const client = await clientFor(signedIksZone(zoneOptions({ ikrs: false })));
        const error = await expect(client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).to.reject(NotParticipating, /_ikrs\._tcp\.example\.test does not exist/);
        expect((error as unknown as IksError).link).to.equal('discovery');
    });

    it('refuses a _ikrs._tcp SRV answer stripped without an NSEC proof', async () => {

        const client = await clientFor(signedIksZone(zoneOptions()), { rewrite: stripping('_ikrs._tcp.example.test', RrType.SRV) });
        const error = await expect(client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).to.reject(DnssecBogus, /without any NSEC proof/);
        expect((error as unknown as IksError).link).to.equal('discovery');
    });

    it('moves on to the next _ikrs._tcp target when the first cannot be reached', async () => {

        const deadPort = await freePort();
        const client = await clientFor(signedIksZone(zoneOptions({
            extra: [{ name: '_ikrs._tcp.example.test', type: RrType.SRV, ttl: 3600, rdata: [
                encodeSrv({ priority: 1, weight: 1, port: deadPort, target: 'iks.example.test' }),
                encodeSrv({ priority: 2, weight: 1, port: httpPort, target: 'iks.example.test' })
            ] }]
        })));
        const receipt = await client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials);
        expect(receipt.answer.outcome).to.equal('accepted');
    });

    it('fails with a transport error naming every unreachable target', async () => {

        const deadPort = await freePort();
        const client = await clientFor(signedIksZone(zoneOptions({
            extra: [{ name: '_ikrs._tcp.example.test', type: RrType.SRV, ttl: 3600, rdata: [encodeSrv({ priority: 1, weight: 1, port: deadPort, target: 'iks.example.test' })] }]
        })));
        await expect(client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).to.reject(TransportError, new RegExp(`cannot reach the registration-service of example\\.test: .*127\\.0\\.0\\.1:${deadPort}`));
    });

    it('forgets an endpoint that stops answering and looks for the service again', async () => {

        let down = false;
        const flaky: typeof fetch = (input, init) => (down ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
        const anchors = parseTrustAnchors(Fs.readFileSync(zonePaths(domain.config).trustAnchor, 'utf8'));
        const client = new RegistrationClient({ discovery: new DnsDiscovery({ server: { host: '127.0.0.1', port: gatewayDnsPort }, anchors }), fetch: flaky });
        expect((await client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).answer.outcome).to.equal('accepted');

        down = true;
        await expect(client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).to.reject(TransportError, new RegExp(`cannot reach the registration-service of example\\.test: cannot reach http://127\\.0\\.0\\.1:${httpPort}: fetch failed`));

        down = false;
        expect((await client.register('carol@example.test', { container: newKey(), usage: ['sign'] }, carolCredentials)).answer.outcome).to.equal('accepted');
    });

    it('needs a way to find the service and to check the KSK', () => {

        expect(() => new RegistrationClient({ commitmentFor: async () => ({}) })).to.throw(InvalidConfig, /discovery \(DNS\) or a base URL/);
        expect(() => new RegistrationClient({ baseUrl: 'http://127.0.0.1:1' })).to.throw(InvalidConfig, /commitmentFor/);
    });
});
