import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import { generateKeyPairSync } from 'node:crypto';

import { nameToUrlForm } from '../../lib/names';
import { runTool, tempFile } from '../helpers/domain';
import { freePort, runIks, startIks, type RunningProcess } from '../helpers/process';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

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

    it('prints the commands that work against it', () => {

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
    });

    it('lets `iks lookup` verify every link with no flags', () => {

        const found = runIks(['lookup', 'bob@example.test', '--json'], env);
        expect(found.status, found.stderr).to.equal(0);
        const result = JSON.parse(found.stdout);
        expect(result.verified).to.be.true();
        expect(result.selected.map((key: { algorithm: string }) => key.algorithm).sort()).to.equal(['ed25519', 'x25519']);

        const human = runIks(['lookup', 'alice@example.test', '--algorithm', 'x25519'], env);
        expect(human.status).to.equal(0);
        expect(human.stdout).to.match(/alice@example\.test: 1 verified key\(s\)/);

        const none = runIks(['lookup', 'nobody@example.test'], env);
        expect(none.status).to.equal(1);
        expect(none.stdout).to.contain('no keys (verified negative answer)');
    });

    it('exits non-zero when the trusted KSK does not match', () => {

        const other = tempFile('other.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string);
        const result = runIks(['lookup', 'bob@example.test', '--ksk-pem', other], env);
        expect(result.status).to.equal(2);
        expect(result.stderr).to.contain('COMMITMENT_MISMATCH');
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
