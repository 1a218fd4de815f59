import * as Fs from 'node:fs';
import * as Net from 'node:net';
import * as Os from 'node:os';
import * as Path from 'node:path';

import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { loadConfig } from '../../config';
import { checkDemoTarget, isExampleDomain } from '../../lib/cli/quickstart';
import { RrType } from '../../lib/dns/types';
import { parseSignedZone, signZone, trustAnchorFile } from '../../lib/dnssec';
import { loadDomainSigningKey } from '../../lib/keys';
import { nameToUrlForm } from '../../lib/names';
import { buildZone } from '../../lib/zone/spec';
import { zonePaths, zoneSpec } from '../../workers/updater/zone';
import { serveZone, stripping, type Rewrite } from '../helpers/dns-server';
import { runTool, tempFile } from '../helpers/domain';
import { freePort, iksBin, runIks, startIks, type RunningProcess } from '../helpers/process';
import { tamperSignatures } from '../helpers/signed-zone';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

/**
 * Runs `iks ...` without blocking this process, whose event loop serves the test DNS
 * server the command talks to.
 */
function runIksAsync(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {

    return new Promise((resolve) => {

        const child = spawn(process.execPath, [iksBin, ...args], { env: { ...process.env, IKS_FROM_SOURCE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
}

describe('quickstart (npm start) as a user runs it', () => {

    let dataDir: string;
    let env: NodeJS.ProcessEnv;
    let quickstart: RunningProcess;
    let base: string;
    const schema = Path.join(__dirname, '../../lib/xml/schema/iks.xsd');

    before(async () => {

        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-quickstart-'));
        env = { IKS_DATA_DIR: dataDir, IKS_HTTP_PORT: String(await freePort()), IKS_DNS_PORT: String(await freePort()), IKS_REDIS_URL: '' };
        quickstart = startIks(['quickstart'], env);
        base = (await quickstart.waitFor(/http:\/\/127\.0\.0\.1:\d+/)).trim();
    });

    after(async () => {

        expect(await quickstart.stop()).to.equal(0);
        Fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('prints the commands that work against it', async () => {

        // The list follows the URL line in later writes; wait for its lookup line.
        await quickstart.waitFor(/npx iks lookup bob@example\.test/, 10_000);
        expect(quickstart.output()).to.contain('xmlsec1 --verify --pubkey-pem');
        expect(quickstart.output()).to.contain('npx iks lookup bob@example.test');
    });

    it('keeps private keys private and public material public', () => {

        const domainDir = Path.join(dataDir, 'example.test');
        for (const role of ['ksk', 'rsk', 'enc']) {
            expect(Fs.statSync(Path.join(domainDir, 'private', `${role}.pem`)).mode & 0o777).to.equal(0o600);
            expect(Fs.existsSync(Path.join(domainDir, 'public', `${role}.pem`))).to.be.true();
        }

        expect(Fs.statSync(Path.join(domainDir, 'private')).mode & 0o777).to.equal(0o700);
    });

    it('serves bob\'s key list, which xmlsec1 verifies with ksk.pem and xmllint validates', async () => {

        const res = await fetch(`${base}/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`);
        expect(res.status).to.equal(200);
        const file = tempFile('bob.xml', await res.text());
        const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', Path.join(dataDir, 'example.test/public/ksk.pem'), file]);
        expect(verified.status, verified.output).to.equal(0);
        const valid = runTool('xmllint', ['--noout', '--schema', schema, file]);
        expect(valid.status, valid.output).to.equal(0);
    });

    it('answers nobody@example.test with a 404 that xmlsec1 verifies with rsk.pem', async () => {

        const res = await fetch(`${base}/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`);
        expect(res.status).to.equal(404);
        const file = tempFile('nobody.xml', await res.text());
        const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', Path.join(dataDir, 'example.test/public/rsk.pem'), file]);
        expect(verified.status, verified.output).to.equal(0);
        // The KSK did not sign it.
        expect(runTool('xmlsec1', ['--verify', '--pubkey-pem', Path.join(dataDir, 'example.test/public/ksk.pem'), file]).status).to.not.equal(0);
    });

    it('serves the DNSSEC-signed SRV and commitment that delv fully validates', () => {

        const dns = ['@127.0.0.1', '-p', env.IKS_DNS_PORT!];
        const anchor = Path.join(dataDir, 'example.test/public/trust-anchor.conf');
        const srv = runTool('dig', [...dns, '_ikqs._tcp.example.test', 'SRV', '+dnssec', '+norec']);
        expect(srv.output).to.match(/_ikqs\._tcp\.example\.test\.\s+\d+\s+IN\s+SRV\s+10 100 \d+ iks\.example\.test\./);
        expect(srv.output).to.match(/IN\s+RRSIG\s+SRV 13 /);
        const validated = runTool('delv', [...dns, '-a', anchor, '+root=example.test', '_ikqs._tcp.example.test', 'SRV']);
        expect(validated.output).to.contain('; fully validated');
        const kskName = /KSK name: (\S+)/.exec(runIks(['init'], env).stdout)![1];
        const commitment = runTool('delv', [...dns, '-a', anchor, '+root=example.test', `sha256.${kskName}.example.test`, 'TXT']);
        expect(commitment.output).to.contain('; fully validated');
        const missing = runTool('delv', [...dns, '-a', anchor, '+root=example.test', 'nothing-here.example.test', 'A']);
        expect(missing.output).to.match(/; fully validated|resolution failed: ncache nxdomain/);
        expect(runTool('dig', [...dns, '+tcp', '_ikqs._tcp.example.test', 'SRV']).output).to.contain('status: NOERROR');
    });

    it('exports a zone that ldns-verify-zone and named-checkzone accept', () => {

        const exported = runIks(['zone', 'export'], env);
        expect(exported.status, exported.stderr).to.equal(0);
        const file = tempFile('example.test.zone', exported.stdout);
        const ldns = runTool('ldns-verify-zone', [file]);
        expect(ldns.status, ldns.output).to.equal(0);
        const named = runTool('named-checkzone', ['-i', 'local', 'example.test', file]);
        expect(named.status, named.output).to.equal(0);
        expect(runIks(['zone', 'ds'], env).stdout).to.match(/^example\.test\.\s+\d+\s+IN\s+DS\s+\d+ 13 2 [0-9A-Fa-f]{64}/);
        // Signed or not, `zone sign` says how long the signatures last (docs/operations.md).
        expect(runIks(['zone', 'sign'], env).stdout).to.match(/^example\.test: up to date; valid until \d{4}-\d\d-\d\dT/);
    });

    it('lets `iks lookup` verify every link with no flags, from DNSSEC down to the keys', () => {

        const found = runIks(['lookup', 'bob@example.test', '--json'], env);
        expect(found.status, found.stderr).to.equal(0);
        const result = JSON.parse(found.stdout);
        expect(result.verified).to.be.true();
        expect(result.selected.map((key: { algorithm: string }) => key.algorithm).sort()).to.equal(['ed25519', 'x25519']);
        const links = result.links as { link: string; detail: string }[];
        expect(links.map((link) => link.link)).to.equal(['trust-anchor', 'discovery', 'address', 'commitment', 'ksk', 'signature', 'name', 'validity', 'key', 'key']);
        expect(links[1]!.detail).to.contain(`_ikqs._tcp.example.test SRV → iks.example.test:${env.IKS_HTTP_PORT}`);
        expect(links[3]!.detail).to.match(/sha256\.ksk-[0-9a-f]{12}\.example\.test TXT "[0-9a-f]{64}"/);
        expect(result.selected[0]).to.include(['id', 'algorithm', 'size', 'format', 'usage', 'fingerprint']);

        const human = runIks(['lookup', 'alice@example.test', '--algorithm', 'x25519'], env);
        expect(human.status).to.equal(0);
        expect(human.stdout).to.match(/alice@example\.test: 1 verified key\(s\)/);

        const none = runIks(['lookup', 'nobody@example.test'], env);
        expect(none.status).to.equal(1);
        expect(none.stdout).to.contain('no keys (verified negative answer)');
    });

    it('exits 2 naming the trust-anchor link when the trust anchor is wrong', () => {

        const otherZone = signZone(buildZone(zoneSpec(loadConfig({ env }), 1)), { zsk: generateKeyPairSync('ec', { namedCurve: 'P-256' }) }, { inception: new Date(Date.now() - 3600_000), expiration: new Date(Date.now() + 86400_000) });
        const wrong = tempFile('wrong-anchor.conf', trustAnchorFile(otherZone));
        const human = runIks(['lookup', 'bob@example.test', '--trust-anchor', wrong], env);
        expect(human.status).to.equal(2);
        expect(human.stderr).to.match(/lookup failed at trust-anchor: TRUST_ANCHOR_MISMATCH: no DNSKEY of example\.test/);
        const json = JSON.parse(runIks(['lookup', 'bob@example.test', '--trust-anchor', wrong, '--json'], env).stdout);
        expect(json).to.include({ verified: false, failedLink: 'trust-anchor', code: 'TRUST_ANCHOR_MISMATCH', links: [] });
        const missing = runIks(['lookup', 'bob@example.test', '--trust-anchor', `${wrong}.missing`], env);
        expect(missing.status).to.equal(2);
        expect(missing.stderr).to.contain('lookup failed at trust-anchor: INVALID_TRUST_ANCHOR: cannot read the trust-anchor file');
    });

    describe('against a DNS server that tampers with the quickstart\'s own signed zone', () => {

        /** Serves the quickstart's zone (or a variant) and runs `iks lookup` against it with the default anchor. */
        const lookupVia = async (zone: ReturnType<typeof parseSignedZone>, rewrite?: Rewrite, extra: string[] = []) => {

            const server = await serveZone(zone, rewrite);
            try {
                return await runIksAsync(['lookup', 'bob@example.test', '--dns-server', `127.0.0.1:${server.port}`, ...extra], env);
            }
            finally {
                await server.close();
            }
        };

        const quickstartZone = () => parseSignedZone(Fs.readFileSync(zonePaths(loadConfig({ env })).signedZone, 'utf8'));

        /** The quickstart's zone content changed, then signed with its own zone key (which the anchor names). */
        const resigned = (change: (spec: ReturnType<typeof zoneSpec>) => ReturnType<typeof zoneSpec>) => {

            const zsk = loadDomainSigningKey(dataDir, 'example.test', 'zsk');
            const spec = change(zoneSpec(loadConfig({ env }), 2));
            return signZone(buildZone(spec), { zsk: { privateKey: zsk.privateKey, publicKey: zsk.publicKey } }, { inception: new Date(Date.now() - 3600_000), expiration: new Date(Date.now() + 86400_000) });
        };

        it('verifies as usual when nothing is changed (the control)', async () => {

            const result = await lookupVia(quickstartZone());
            expect(result.status, result.stderr).to.equal(0);
            expect(result.stdout).to.contain('bob@example.test: 2 verified key(s)');
        });

        it('exits 2 at discovery for a tampered SRV RRSIG', async () => {

            const result = await lookupVia(tamperSignatures(quickstartZone(), '_ikqs._tcp.example.test', RrType.SRV));
            expect(result.status).to.equal(2);
            expect(result.stderr).to.match(/lookup failed at discovery: BOGUS_RRSIG: the RRSIG over _ikqs\._tcp\.example\.test SRV by key \d+ does not verify/);
        });

        it('exits 2 at discovery for a stripped SRV, which is not proof of absence', async () => {

            const result = await lookupVia(quickstartZone(), stripping('_ikqs._tcp.example.test', RrType.SRV), ['--json']);
            expect(result.status).to.equal(2);
            expect(result.stderr).to.contain('lookup failed at discovery: DNSSEC_BOGUS: _ikqs._tcp.example.test SRV: NOERROR without any NSEC proof');
            expect(JSON.parse(result.stdout)).to.include({ verified: false, failedLink: 'discovery', code: 'DNSSEC_BOGUS' });
        });

        it('exits 2 at ksk when the KSK does not match its DNSSEC-validated commitment', async () => {

            const impostor = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
            const zone = resigned((spec) => ({ ...spec, kskCommitments: spec.kskCommitments.map((ksk) => ({ ...ksk, spki: impostor })) }));
            const result = await lookupVia(zone);
            expect(result.status).to.equal(2);
            expect(result.stdout).to.contain('✓ commitment:');
            expect(result.stderr).to.match(/lookup failed at ksk: COMMITMENT_MISMATCH: key-signing key "ksk-[0-9a-f]{12}" does not match its DNS commitment/);
        });

        it('exits 1 when DNSSEC proves that the domain takes no part in IKS', async () => {

            const zone = resigned((spec) => ({ ...spec, srv: spec.srv.filter((srv) => srv.service !== '_ikqs._tcp') }));
            const result = await lookupVia(zone);
            expect(result.status, result.stderr).to.equal(1);
            expect(result.stdout).to.contain('bob@example.test: no keys (example.test does not take part in IKS: DNSSEC proves that _ikqs._tcp.example.test does not exist)');
        });
    });

    it('publishes keys imported while it runs', async (flags: Lab.script.Flags) => {

        const key = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
        const file = tempFile('keys.jsonl', `${JSON.stringify({ name: 'carol@example.test', key, usage: ['sign'] })}\n`);
        const imported = runIks(['import', file], env);
        expect(imported.status, imported.stderr).to.equal(0);
        expect(imported.stdout).to.contain('imported 1 key(s)');
        const started = Date.now();

        let status = 0;
        for (let i = 0; i < 100 && status !== 200; ++i) {
            status = (await fetch(`${base}/ikqs/v1/n/${nameToUrlForm('carol@example.test')}`)).status;
            if (status !== 200) {
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
        }

        expect(status).to.equal(200);
        flags.note(`import → visible to lookups in ${Date.now() - started} ms (after the import command returned)`);
    });

    it('refuses an import file with a bad line and says where', () => {

        const file = tempFile('bad.jsonl', '{"name": "x@example.test", "key": "nope"}\n');
        const result = runIks(['import', file], env);
        expect(result.status).to.equal(2);
        expect(result.stderr).to.contain(`${file}:1:`);
        expect(result.stderr).to.contain('nothing imported');
    });
});

describe('quickstart when it cannot listen', () => {

    it('exits 2 naming the HTTP port and its setting, its DNS listener and updater stopped, instead of hanging', { timeout: 90_000 }, async () => {

        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-quickstart-taken-'));
        const taken = Net.createServer();
        await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
        const port = (taken.address() as Net.AddressInfo).port;
        const env = { IKS_DATA_DIR: dataDir, IKS_HTTP_PORT: String(port), IKS_DNS_PORT: String(await freePort()), IKS_REDIS_URL: '', IKS_LOG_LEVEL: 'warn' };
        const child = spawn(process.execPath, [iksBin, 'quickstart'], { env: { ...process.env, IKS_FROM_SOURCE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const hang = setTimeout(() => child.kill('SIGKILL'), 45_000);
        try {
            const [status, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, killedBy) => resolve([code, killedBy])));
            expect(signal, `still running after 45 s:\n${output}`).to.be.null();
            expect(status).to.equal(2);
            expect(output).to.contain(`iks: LISTEN_FAILED: cannot listen for HTTP on 127.0.0.1:${port}: the port is in use (EADDRINUSE); set IKS_HTTP_PORT (http.port)`);
        }
        finally {
            clearTimeout(hang);
            child.kill('SIGKILL');
            taken.close();
            Fs.rmSync(dataDir, { recursive: true, force: true });
        }
    });
});

describe('quickstart outside a demo domain', () => {

    it('knows the reserved example domains (RFC 2606, RFC 6761)', () => {

        for (const domain of ['example.test', 'corp.example', 'example.com', 'keys.example.org', 'example.net', 'a.invalid', 'localhost']) {
            expect(isExampleDomain(domain), domain).to.be.true();
        }

        for (const domain of ['corp.acme', 'example.co.uk', 'notexample.com', 'test.com', 'examples.org']) {
            expect(isExampleDomain(domain), domain).to.be.false();
        }
    });

    it('refuses a domain that may be real unless --allow-real-domain, and warns about a Redis store', () => {

        const real = loadConfig({ env: { IKS_DOMAIN: 'corp.acme', IKS_DATA_DIR: '/nonexistent' } });
        expect(() => checkDemoTarget(real)).to.throw(/creates the demo users alice and bob with known passwords in corp\.acme, which is not a reserved example domain/);
        expect(checkDemoTarget(real, { allowRealDomain: true })).to.equal(['WARNING: demo users alice@corp.acme, bob@corp.acme with known passwords are being created in a domain that is not a reserved example domain (--allow-real-domain)']);

        expect(checkDemoTarget(loadConfig({ env: { IKS_DATA_DIR: '/nonexistent' } }))).to.equal([]);
        const redis = checkDemoTarget(loadConfig({ env: { IKS_DATA_DIR: '/nonexistent', IKS_REDIS_URL: 'redis://:s3cret@10.0.0.5:6379' } }));
        expect(redis).to.equal(['WARNING: the quickstart writes demo keys and demo users with known passwords into Redis at redis://:***@10.0.0.5:6379; give it a Redis of its own, never one that serves a real domain']);
    });

    it('exits 2 before creating anything when IKS_DOMAIN is not an example domain', { timeout: 60_000 }, () => {

        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-quickstart-real-'));
        try {
            const result = runIks(['quickstart'], { IKS_DATA_DIR: dataDir, IKS_DOMAIN: 'corp.acme', IKS_REDIS_URL: '', IKS_HTTP_PORT: '0', IKS_DNS_PORT: '0' });
            expect(result.status).to.equal(2);
            expect(result.stderr).to.contain('iks: QUICKSTART_REFUSED: the quickstart registers demo keys and creates the demo users alice and bob with known passwords in corp.acme');
            expect(result.stderr).to.contain('--allow-real-domain');
            expect(Fs.readdirSync(dataDir)).to.equal([]);
        }
        finally {
            Fs.rmSync(dataDir, { recursive: true, force: true });
        }
    });
});
