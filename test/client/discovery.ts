import * as Fs from 'node:fs';
import * as Crypto from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import { DnsDiscovery, IksClient, type VerifiedLink } from '../../lib/client';
import { RrType } from '../../lib/dns/types';
import { parseTrustAnchors, type SignedZone } from '../../lib/dnssec';
import { BogusRrsig, CommitmentMismatch, DnssecBogus, InvalidConfig, NotParticipating, RrsigExpired, TransportError, TrustAnchorMismatch, UnsignedAnswer, type IksError } from '../../lib/errors';
import { createGateway } from '../../lib/gateway';
import { loadDomainPublicKey } from '../../lib/keys';
import type { DnsAuthorityApi } from '../../plugins/dns-authority';
import { createUpdater } from '../../workers/updater';
import { zonePaths } from '../../workers/updater/zone';
import { serveZone, stripping, type Rewrite, type TestDnsServer } from '../helpers/dns-server';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';
import { freePort } from '../helpers/process';
import { anchorsOf, changeRRset, commitmentOf, currentWindow, signedByOtherZone, signedIksZone, tamperSignatures, type IksZoneOptions } from '../helpers/signed-zone';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

describe('IksClient with DNS discovery (paper §5.1 steps 1 and 4b)', () => {

    let domain: TestDomain;
    let gateway: Hapi.Server;
    let httpPort: number;
    let gatewayDnsPort: number;
    let kskName: string;
    let kskCommitment: { sha256: string; sha1: string };
    const other = commitmentOf(Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const bobSign = makeRegistration('bob@example.test', 'ed25519', { usage: ['sign'] });
    const bobEncrypt = makeRegistration('bob@example.test', 'x25519', { usage: ['encrypt'] });
    const servers: TestDnsServer[] = [];

    /** The IKS zone of example.test as a test wants it, pointing at the running gateway. */
    const zoneOptions = (overrides: Partial<IksZoneOptions> = {}): IksZoneOptions => ({
        srv: [{ priority: 10, weight: 1, port: httpPort, target: 'iks.example.test' }],
        addresses: [{ name: 'iks.example.test', a: ['127.0.0.1'] }],
        commitments: [{ label: kskName, sha256: [kskCommitment.sha256], sha1: [kskCommitment.sha1] }],
        ...overrides
    });

    /** Serves `zone` (optionally rewritten) and returns a discovery anchored to `anchorZone`'s key. */
    const discoveryFor = async (zone: SignedZone, options: { rewrite?: Rewrite; anchorZone?: SignedZone; lookupOutside?: (host: string) => Promise<string[]>; now?: () => number } = {}) => {

        const server = await serveZone(zone, options.rewrite);
        servers.push(server);
        return new DnsDiscovery({
            server: { host: '127.0.0.1', port: server.port },
            anchors: anchorsOf(options.anchorZone ?? zone),
            timeoutMs: 1000,
            ...(options.lookupOutside ? { lookupOutside: options.lookupOutside } : {}),
            ...(options.now ? { now: options.now } : {})
        });
    };

    const lookup = async (zone: SignedZone, options: Parameters<typeof discoveryFor>[1] = {}, name = 'bob@example.test') => new IksClient({ discovery: await discoveryFor(zone, options), timeout: 2000 }).lookup(name);

    /** Asserts the lookup fails with `type`, marked with the failed link. */
    const failsAt = async (promise: Promise<unknown>, type: new (...args: never[]) => IksError, link: string, message?: RegExp) => {

        const error = message ? await expect(promise).to.reject(type as unknown as ErrorConstructor, message) : await expect(promise).to.reject(type as unknown as ErrorConstructor);
        expect((error as unknown as IksError).link).to.equal(link);
        return error as unknown as IksError;
    };

    before(async () => {

        httpPort = await freePort();
        domain = await makeDomain({ env: { IKS_HTTP_PORT: String(httpPort) } });
        await domain.store.putRegistrations([bobSign, bobEncrypt]);
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

    it('looks bob up from nothing but the DNS server address and the trust-anchor file', async () => {

        const anchors = parseTrustAnchors(Fs.readFileSync(zonePaths(domain.config).trustAnchor, 'utf8'));
        const seen: VerifiedLink[] = [];
        const client = new IksClient({ discovery: new DnsDiscovery({ server: { host: '127.0.0.1', port: gatewayDnsPort }, anchors }), onLink: (link) => seen.push(link) });
        const result = await client.lookup('bob@example.test');
        expect(result.found).to.be.true();
        expect(result.selected.map((key) => key.id).sort()).to.equal([bobSign.keyId, bobEncrypt.keyId].sort());
        expect(result.links.map((link) => link.link)).to.equal(['trust-anchor', 'discovery', 'address', 'commitment', 'ksk', 'signature', 'name', 'validity', 'key', 'key']);
        expect(seen).to.equal([...result.links]);
        const details = Object.fromEntries(result.links.map((link) => [link.link, link.detail]));
        expect(details.discovery).to.match(new RegExp(`_ikqs\\._tcp\\.example\\.test SRV → iks\\.example\\.test:${httpPort} .*DNSSEC-validated`));
        expect(details.address).to.match(/iks\.example\.test A 127\.0\.0\.1, DNSSEC-validated/);
        expect(details.commitment).to.contain(`sha256.${kskName}.example.test TXT "${kskCommitment.sha256}"`);
        expect(details.ksk).to.contain('matches the sha256 commitment and the sha1 one agrees');
        expect(details.name).to.equal('KeyList is about bob@example.test');
    });

    it('proves "no keys" through the same chain', async () => {

        const result = await lookup(signedIksZone(zoneOptions()), {}, 'nobody@example.test');
        expect(result.found).to.be.false();
        expect(result.links.map((link) => link.link)).to.equal(['trust-anchor', 'discovery', 'address', 'commitment', 'ksk', 'rsk', 'signature', 'name', 'validity', 'negative-answer']);
    });

    it('falls back to the next SRV target when the first cannot be reached', async () => {

        const deadPort = await freePort();
        const zone = signedIksZone(zoneOptions({
            srv: [{ priority: 1, weight: 1, port: deadPort, target: 'down.example.test' }, { priority: 2, weight: 1, port: httpPort, target: 'iks.example.test' }],
            addresses: [{ name: 'down.example.test', a: ['127.0.0.1'] }, { name: 'iks.example.test', a: ['127.0.0.1'] }]
        }));
        const result = await lookup(zone);
        const details = Object.fromEntries(result.links.map((link) => [link.link, link.detail]));
        expect(details.discovery).to.match(/→ down\.example\.test:\d+ .*, iks\.example\.test:\d+/);
        expect(details.address).to.match(/^iks\.example\.test A 127\.0\.0\.1/);
        expect(result.selected).to.have.length(2);
    });

    it('skips a target without an address, and reports when no target can be reached', async () => {

        const deadPort = await freePort();
        const zone = signedIksZone(zoneOptions({
            srv: [{ priority: 1, weight: 1, port: httpPort, target: 'nowhere.example.test' }, { priority: 2, weight: 1, port: deadPort, target: 'down.example.test' }],
            addresses: [{ name: 'down.example.test', a: ['127.0.0.1'] }]
        }));
        await failsAt(lookup(zone), TransportError, 'query-service', /cannot reach the query service of example\.test: http:\/\/127\.0\.0\.1:\d+: fetch failed/);
        const noAddress = signedIksZone(zoneOptions({ srv: [{ priority: 1, weight: 1, port: httpPort, target: 'nowhere.example.test' }], addresses: [] }));
        await failsAt(lookup(noAddress), TransportError, 'query-service', /no SRV target has an address/);
    });

    it('tries a target\'s IPv6 addresses after its IPv4 ones, then the next target', async () => {

        const zone = signedIksZone(zoneOptions({
            srv: [{ priority: 1, weight: 1, port: httpPort, target: 'v6.example.test' }, { priority: 2, weight: 1, port: httpPort, target: 'iks.example.test' }],
            // The gateway listens on 127.0.0.1 only, so [::1] cannot answer.
            addresses: [{ name: 'v6.example.test', aaaa: ['::1'] }, { name: 'iks.example.test', a: ['127.0.0.1'] }]
        }));
        const result = await lookup(zone);
        expect(result.links.find((link) => link.link === 'address')!.detail).to.match(/^iks\.example\.test A 127\.0\.0\.1/);
        const failed = await expect(lookup(signedIksZone(zoneOptions({ srv: [{ priority: 1, weight: 1, port: httpPort, target: 'v6.example.test' }], addresses: [{ name: 'v6.example.test', aaaa: ['::1'] }] })))).to.reject(TransportError);
        expect(failed.message).to.contain(`http://[::1]:${httpPort}`);
    });

    it('reaches a target outside the anchored zone through the system resolver by default', async () => {

        const zone = signedIksZone(zoneOptions({ srv: [{ priority: 1, weight: 1, port: httpPort, target: 'localhost' }], addresses: [] }));
        const result = await lookup(zone);
        expect(result.found).to.be.true();
        expect(result.links.find((link) => link.link === 'address')!.detail).to.match(/^localhost (127\.0\.0\.1|::1) \(outside example\.test, not DNSSEC-validated/);
    });

    it('reaches targets outside the anchored zone through the given resolver, skipping one that does not resolve', async () => {

        const asked: string[] = [];
        const zone = signedIksZone(zoneOptions({ srv: [{ priority: 1, weight: 1, port: httpPort, target: 'gone.provider.test' }, { priority: 2, weight: 1, port: httpPort, target: 'iks.provider.test' }], addresses: [] }));
        const result = await lookup(zone, { lookupOutside: async (host) => {

            asked.push(host);
            if (host === 'gone.provider.test') {
                throw new Error('getaddrinfo ENOTFOUND gone.provider.test');
            }

            return ['127.0.0.1'];
        } });
        expect(asked).to.equal(['gone.provider.test', 'iks.provider.test']);
        expect(result.links.find((link) => link.link === 'address')!.detail).to.match(/^iks\.provider\.test 127\.0\.0\.1 \(outside example\.test, not DNSSEC-validated/);
    });

    it('reports a domain without IKS as NotParticipating when DNSSEC proves it', async () => {

        await failsAt(lookup(signedIksZone(zoneOptions({ srv: [] }))), NotParticipating, 'discovery', /DNSSEC proves that _ikqs\._tcp\.example\.test does not exist/);
        const txtOnly = { name: '_ikqs._tcp.example.test', type: RrType.TXT, ttl: 3600, rdata: [Buffer.from([2, 0x68, 0x69])] };
        await failsAt(lookup(signedIksZone(zoneOptions({ srv: [], extra: [txtOnly] }))), NotParticipating, 'discovery', /_ikqs\._tcp\.example\.test has no SRV records/);
        const dot = { name: '_ikqs._tcp.example.test', type: RrType.SRV, ttl: 3600, rdata: [Buffer.from([0, 0, 0, 0, 0, 0, 0])] };
        await failsAt(lookup(signedIksZone(zoneOptions({ srv: [], extra: [dot] }))), NotParticipating, 'discovery', /names the target "\."/);
    });

    it('refuses a stripped SRV answer (no NSEC proof) as bogus, not as "does not participate"', async () => {

        const zone = signedIksZone(zoneOptions());
        const error = await failsAt(lookup(zone, { rewrite: stripping('_ikqs._tcp.example.test', RrType.SRV) }), DnssecBogus, 'discovery', /without any NSEC proof/);
        expect(error.code).to.equal('DNSSEC_BOGUS');
        expect(error).to.not.be.an.instanceof(NotParticipating);
        await failsAt(lookup(zone, { rewrite: stripping('_ikqs._tcp.example.test', RrType.SRV, 3) }), DnssecBogus, 'discovery', /NXDOMAIN without any NSEC proof/);
    });

    it('refuses a tampered SRV RRSIG', async () => {

        const zone = tamperSignatures(signedIksZone(zoneOptions()), '_ikqs._tcp.example.test', RrType.SRV);
        await failsAt(lookup(zone), BogusRrsig, 'discovery', /does not verify/);
    });

    it('refuses a zone that does not match the trust anchor', async () => {

        await failsAt(lookup(signedIksZone(zoneOptions()), { anchorZone: signedIksZone(zoneOptions()) }), TrustAnchorMismatch, 'trust-anchor');
    });

    it('refuses an expired zone and an unsigned address record', async () => {

        const now = Date.now();
        const expired = signedIksZone(zoneOptions({ window: { inception: new Date(now - 20 * 86_400_000), expiration: new Date(now - 86_400_000) } }));
        await failsAt(lookup(expired), RrsigExpired, 'trust-anchor', /example\.test DNSKEY expired/);
        const current = signedIksZone(zoneOptions());
        await failsAt(lookup(current, { now: () => (current.expiration + 60) * 1000 }), RrsigExpired, 'trust-anchor');
        const unsigned = changeRRset(signedIksZone(zoneOptions({ window: currentWindow() })), 'iks.example.test', RrType.A, (rrset) => ({ ...rrset, signatures: [] }));
        await failsAt(lookup(unsigned), UnsignedAnswer, 'address', /iks\.example\.test A arrived without an RRSIG/);
    });

    it('refuses a KSK that does not match its DNSSEC-validated commitment', async () => {

        const zone = signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha256: [other.sha256], sha1: [other.sha1] }] }));
        await failsAt(lookup(zone), CommitmentMismatch, 'ksk', /does not match its DNS commitment/);
    });

    it('refuses a KSK when the sha1 and sha256 commitments disagree, either way round', async () => {

        const sha1Wrong = signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha256: [kskCommitment.sha256], sha1: [other.sha1] }] }));
        await failsAt(lookup(sha1Wrong), CommitmentMismatch, 'ksk', /disagree/);
        const sha256Wrong = signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha256: [other.sha256], sha1: [kskCommitment.sha1] }] }));
        await failsAt(lookup(sha256Wrong), CommitmentMismatch, 'ksk', /disagree/);
    });

    it('falls back to sha1 only when sha256 is proven absent, and needs at least one', async () => {

        const sha1Only = signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha1: [kskCommitment.sha1] }] }));
        const result = await lookup(sha1Only);
        const details = Object.fromEntries(result.links.map((link) => [link.link, link.detail]));
        expect(details.commitment).to.contain(`sha256.${kskName}.example.test: none (proven absent)`);
        expect(details.ksk).to.contain('matches the sha1 commitment');
        await failsAt(lookup(signedIksZone(zoneOptions({ commitments: [] }))), CommitmentMismatch, 'ksk', /no commitment is published/);
    });

    it('refuses a commitment name holding two different values', async () => {

        const zone = signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha256: [kskCommitment.sha256, other.sha256], sha1: [kskCommitment.sha1] }] }));
        await failsAt(lookup(zone), CommitmentMismatch, 'commitment', /holds 2 different commitments/);
    });

    it('refuses a commitment signed by another zone', async () => {

        const zone = signedByOtherZone(signedIksZone(zoneOptions()), `sha256.${kskName}.example.test`, RrType.TXT, 'attacker.test');
        await failsAt(lookup(zone), BogusRrsig, 'commitment', /signed by zone "attacker\.test"/);
    });

    it('still checks the KSK against DNS when the query service URL is given', async () => {

        const base = `http://127.0.0.1:${httpPort}`;
        const good = new IksClient({ baseUrl: base, discovery: await discoveryFor(signedIksZone(zoneOptions())) });
        const result = await good.lookup('bob@example.test');
        expect(result.links.map((link) => link.link).slice(0, 4)).to.equal(['query-service', 'trust-anchor', 'commitment', 'ksk']);
        const wrong = signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha256: [other.sha256] }] }));
        await failsAt(new IksClient({ baseUrl: base, discovery: await discoveryFor(wrong) }).lookup('bob@example.test'), CommitmentMismatch, 'ksk');
    });

    it('reports the links verified before a failure', async () => {

        const seen: string[] = [];
        const zone = signedIksZone(zoneOptions({ commitments: [{ label: kskName, sha256: [other.sha256] }] }));
        const client = new IksClient({ discovery: await discoveryFor(zone), onLink: (link) => seen.push(link.link) });
        await expect(client.lookup('bob@example.test')).to.reject(CommitmentMismatch);
        expect(seen).to.equal(['trust-anchor', 'discovery', 'address', 'commitment']);
    });

    it('needs a way to find the service and to check KSKs', () => {

        expect(() => new IksClient({ commitmentFor: async () => ({}) })).to.throw(InvalidConfig, /discovery \(DNS\) or a base URL/);
        expect(() => new IksClient({ baseUrl: 'http://127.0.0.1:1' })).to.throw(InvalidConfig, /commitmentFor/);
    });
});
