import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import type { IksConfig } from '../../config';
import { main } from '../../lib/cli';
import { defaultDnsServer, runLookup } from '../../lib/cli/lookup';
import type { Output } from '../../lib/cli/output';
import { RrType } from '../../lib/dns/types';
import { trustAnchorFile } from '../../lib/dnssec';
import { createGateway } from '../../lib/gateway';
import { loadDomainPublicKey } from '../../lib/keys';
import type { DnsAuthorityApi } from '../../plugins/dns-authority';
import { createUpdater } from '../../workers/updater';
import { serveZone, stripping } from '../helpers/dns-server';
import { makeDomain, makeRegistration, tempFile, type TestDomain } from '../helpers/domain';
import { freePort } from '../helpers/process';
import { commitmentOf, signedIksZone } from '../helpers/signed-zone';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

function capture(): Output & { stdout: string[]; stderr: string[] } {

    const stdout: string[] = [];
    const stderr: string[] = [];
    return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('iks lookup (in process)', () => {

    let domain: TestDomain;
    let gateway: Hapi.Server;
    let config: IksConfig;
    let httpPort: number;

    before(async () => {

        httpPort = await freePort();
        domain = await makeDomain({ env: { IKS_HTTP_PORT: String(httpPort) } });
        await domain.store.putRegistrations([makeRegistration('bob@example.test', 'ed25519', { usage: ['sign'] }), makeRegistration('bob@example.test', 'rsa', { usage: ['encrypt'] })]);
        await domain.store.enqueue([domain.domain]);
        await createUpdater(domain.config, domain.store).drain();
        gateway = await createGateway(domain.config, { store: domain.store, dnsPort: 0 });
        await gateway.start();
        const dnsPort = (gateway.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!.address()!.port;
        // As if IKS_DNS_PORT named the port the gateway drew.
        config = { ...domain.config, dns: { ...domain.config.dns, port: dnsPort } };
    });

    after(async () => {

        await gateway?.stop();
        await domain?.cleanup();
    });

    it('needs no flags: the DNS server and the trust anchor come from the configuration', async () => {

        const io = capture();
        expect(await runLookup('bob@example.test', { usage: 'encrypt' }, config, io)).to.equal(0);
        expect(io.stdout[0]).to.match(/^✓ trust-anchor: example\.test DNSKEY key \d+ matches the static-key trust anchor/);
        expect(io.stdout).to.contain('bob@example.test: 1 verified key(s)');
        expect(io.stdout[io.stdout.length - 1]).to.match(/ rsa\/2048 {2}spki {2}usage=encrypt {2}sha256:[0-9a-f]{64}$/);
        expect(io.stderr).to.equal([]);
    });

    it('prints every verified link and the selected keys as JSON', async () => {

        const io = capture();
        expect(await runLookup('bob@example.test', { json: true, algorithm: 'ed25519', minSize: 256 }, config, io)).to.equal(0);
        const result = JSON.parse(io.stdout.join('\n'));
        expect(result.verified).to.be.true();
        expect(result.links.map((link: { link: string }) => link.link)).to.equal(['trust-anchor', 'discovery', 'address', 'commitment', 'ksk', 'signature', 'name', 'validity', 'key']);
        expect(Object.keys(result.selected[0]).sort()).to.equal(['algorithm', 'fingerprint', 'format', 'id', 'registeredAt', 'size', 'usage']);
    });

    it('takes the query service from --url, still checking the KSK against DNSSEC', async () => {

        const io = capture();
        expect(await runLookup('bob@example.test', { url: `http://127.0.0.1:${httpPort}`, timeout: 3000 }, config, io)).to.equal(0);
        expect(io.stdout[0]).to.equal(`✓ query-service: http://127.0.0.1:${httpPort} (given; SRV discovery skipped)`);
        expect(io.stdout.some((line) => line.startsWith('✓ commitment: sha256.'))).to.be.true();
        expect(io.stdout.some((line) => line.startsWith('✓ discovery'))).to.be.false();
    });

    it('exits 1 for a verified "no keys", whether from the RSK or from DNSSEC', async () => {

        const io = capture();
        expect(await runLookup('nobody@example.test', {}, config, io)).to.equal(1);
        expect(io.stdout).to.contain('nobody@example.test: no keys (verified negative answer)');

        const absent = signedIksZone({ srv: [] });
        const server = await serveZone(absent);
        try {
            const json = capture();
            const anchor = tempFile('absent.conf', trustAnchorFile(absent));
            expect(await runLookup('bob@example.test', { json: true, dnsServer: `127.0.0.1:${server.port}`, trustAnchor: anchor }, config, json)).to.equal(1);
            const result = JSON.parse(json.stdout.join('\n'));
            expect(result).to.include({ verified: true, found: false, participating: false });
            expect(result.links.map((link: { link: string }) => link.link)).to.equal(['trust-anchor']);
            const human = capture();
            expect(await runLookup('bob@example.test', { dnsServer: `127.0.0.1:${server.port}`, trustAnchor: anchor }, config, human)).to.equal(1);
            expect(human.stdout[human.stdout.length - 1]).to.equal('bob@example.test: no keys (example.test does not take part in IKS: DNSSEC proves that _ikqs._tcp.example.test does not exist)');
        }
        finally {
            await server.close();
        }
    });

    it('exits 3 when keys verify but none matches the filters, in both outputs', async () => {

        const human = capture();
        expect(await runLookup('bob@example.test', { usage: 'encrypt', algorithm: 'ed25519' }, config, human)).to.equal(3);
        expect(human.stdout[human.stdout.length - 1]).to.equal('bob@example.test: 2 verified key(s), none matching --algorithm ed25519 --usage encrypt');

        const json = capture();
        expect(await runLookup('bob@example.test', { json: true, minSize: 4096 }, config, json)).to.equal(3);
        const result = JSON.parse(json.stdout.join('\n'));
        expect(result).to.include({ verified: true, found: true, matched: false, selected: [] });
        expect(result.keys).to.have.length(2);

        const matching = capture();
        expect(await runLookup('bob@example.test', { json: true, usage: 'sign' }, config, matching)).to.equal(0);
        expect(JSON.parse(matching.stdout.join('\n'))).to.include({ matched: true });
    });

    it('refuses an unknown --algorithm and a --min-size or --timeout that is not a positive whole number', async () => {

        for (const [option, value, expected] of [
            ['--algorithm', 'dsa', 'expected one of rsa, ec, ed25519, x25519, ed448, x448'],
            ['--algorithm', 'constructor', 'expected one of rsa'],
            ['--min-size', 'abc', 'expected a whole number from 1 to 65536'],
            ['--min-size', '0', 'expected a whole number from 1 to 65536'],
            ['--min-size', '256bits', 'expected a whole number from 1 to 65536'],
            ['--timeout', 'abc', 'expected a whole number from 1 to 600000'],
            ['--timeout', '-5', 'expected a whole number from 1 to 600000']
        ] as const) {
            const io = capture();
            expect(await main(['node', 'iks', 'lookup', 'bob@example.test', option, value], io), `${option} ${value}`).to.equal(2);
            expect(io.stderr.join('\n')).to.contain(`option '${option} `);
            expect(io.stderr.join('\n')).to.contain(`argument '${value}' is invalid. ${expected}`);
            expect(io.stdout).to.equal([]);
        }
    });

    it('exits 2 naming the failed link, with the links verified before it', async () => {

        const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
        const zone = signedIksZone({
            srv: [{ priority: 1, weight: 1, port: httpPort, target: 'iks.example.test' }],
            addresses: [{ name: 'iks.example.test', a: ['127.0.0.1'] }],
            commitments: [{ label: ksk.keyName, sha256: [commitmentOf(ksk.publicKey).sha256] }]
        });
        const server = await serveZone(zone, stripping(`sha256.${ksk.keyName}.example.test`, RrType.TXT));
        try {
            const io = capture();
            const options = { json: true, dnsServer: `127.0.0.1:${server.port}`, trustAnchor: tempFile('anchor.conf', trustAnchorFile(zone)) };
            expect(await runLookup('bob@example.test', options, config, io)).to.equal(2);
            const result = JSON.parse(io.stdout.join('\n'));
            expect(result).to.include({ verified: false, failedLink: 'commitment', code: 'DNSSEC_BOGUS' });
            expect(result.links.map((link: { link: string }) => link.link)).to.equal(['trust-anchor', 'discovery', 'address']);
            expect(io.stderr).to.equal([`lookup failed at commitment: ${result.error}`]);
        }
        finally {
            await server.close();
        }
    });

    it('exits 2 for a missing trust-anchor file, a bad DNS server address and a bad name', async () => {

        const missing = capture();
        expect(await runLookup('bob@other.test', {}, config, missing)).to.equal(2);
        expect(missing.stderr[0]).to.match(/^lookup failed at trust-anchor: INVALID_TRUST_ANCHOR: cannot read the trust-anchor file .*other\.test.*trust-anchor\.conf/);
        const badServer = capture();
        expect(await runLookup('bob@example.test', { dnsServer: 'ns1.example.test' }, config, badServer)).to.equal(2);
        expect(badServer.stderr[0]).to.contain('lookup failed: INVALID_CONFIG: DNS server "ns1.example.test" is not an IP address');
        const badName = capture();
        expect(await runLookup('no-at-sign', { json: true }, config, badName)).to.equal(2);
        expect(JSON.parse(badName.stdout.join('\n'))).to.include({ verified: false, failedLink: null, code: 'INVALID_NAME' });
    });

    it('asks this host when the DNS listener is a wildcard address', () => {

        expect(defaultDnsServer({ ...config, dns: { ...config.dns, host: '0.0.0.0' } })).to.equal({ host: '127.0.0.1', port: config.dns.port });
        expect(defaultDnsServer({ ...config, dns: { ...config.dns, host: '::' } })).to.equal({ host: '::1', port: config.dns.port });
        expect(defaultDnsServer(config)).to.equal({ host: '127.0.0.1', port: config.dns.port });
    });
});
