import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { loadDomainPublicKey } from '../../lib/keys';
import { nameToUrlForm } from '../../lib/names';
import { verifyPassword } from '../../lib/registration/password';
import { EmbeddedStore } from '../../lib/store';
import type { KeyDocument } from '../../lib/xml/types';
import { verifyDocument } from '../../lib/xmldsig';
import { runTool, tempFile } from '../helpers/domain';
import { freePort, iksBin, runIks, startIks, type RunningProcess } from '../helpers/process';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

/** Runs `iks ...` without blocking this process, whose event loop serves what the command talks to. */
function runIksAsync(args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {

    return new Promise((resolve) => {

        const child = spawn(process.execPath, [iksBin, ...args], { env: { ...process.env, IKS_FROM_SOURCE: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
        child.stdin.end(input);
    });
}

/** Issue 4's acceptance, with only the CLI, against `iks quickstart` (embedded store). */
describe('registration with the CLI against a running quickstart', () => {

    let dataDir: string;
    let env: NodeJS.ProcessEnv;
    let quickstart: RunningProcess;
    let base: string;
    let passwords: Record<string, string>;
    const keyDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-cli-keys-'));

    const writeKeyPair = (label: string) => {

        const pair = generateKeyPairSync('ed25519');
        const privateFile = Path.join(keyDir, `${label}.key`);
        const publicFile = Path.join(keyDir, `${label}.pub`);
        Fs.writeFileSync(privateFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
        Fs.writeFileSync(publicFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));
        return { privateFile, publicFile };
    };

    /** What `iks lookup` verifies and lists (one process per call, so used once per state). */
    const verifiedIds = (name: string): string[] => {

        const result = runIks(['lookup', name, '--json'], env);
        expect(result.status, result.stderr + result.stdout).to.equal(0);
        return JSON.parse(result.stdout).keys.map((key: { id: string }) => key.id);
    };

    /** The key ids the served list names now (unverified; only to wait for the updater). */
    const servedIds = async (name: string): Promise<string[]> => {

        const url = `${base}/ikqs/v1/n/${nameToUrlForm(name)}`;
        // spawnSync blocks this process past the server's keep-alive timeout: a pooled
        // connection may be closed under us, so one retry on a fresh one.
        const response = await fetch(url).catch(() => fetch(url));
        const body = await response.text();
        return [...body.matchAll(/<Key id="([0-9a-f]{16})"/g)].map((match) => match[1]!);
    };

    /** The updater publishes within its poll interval; wait for it, bounded. */
    const eventually = async (check: () => Promise<boolean>) => {

        for (let i = 0; i < 100 && !await check(); ++i) {
            await new Promise((resolve) => setTimeout(resolve, 50));
        }

        return await check();
    };

    before(async () => {

        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-cli-register-'));
        // Two failed passwords per user are allowed, so that a lockout takes three attempts.
        env = { IKS_DATA_DIR: dataDir, IKS_HTTP_PORT: String(await freePort()), IKS_DNS_PORT: String(await freePort()), IKS_REDIS_URL: '', IKS_REGISTER_PASSWORD_FAILURES_PER_ENTITY: '2' };
        quickstart = startIks(['quickstart'], env);
        base = (await quickstart.waitFor(/http:\/\/127\.0\.0\.1:\d+/)).trim();
        await quickstart.waitFor(/--auth-key alice\.key/);
        passwords = JSON.parse(Fs.readFileSync(Path.join(dataDir, 'example.test', 'demo-users.json'), 'utf8'));
    });

    after(async () => {

        expect(await quickstart.stop()).to.equal(0);
        Fs.rmSync(dataDir, { recursive: true, force: true });
        Fs.rmSync(keyDir, { recursive: true, force: true });
    });

    it('writes the demo users\' passwords, readable by the owner only', () => {

        const file = Path.join(dataDir, 'example.test', 'demo-users.json');
        expect(Fs.statSync(file).mode & 0o777).to.equal(0o600);
        expect(Object.keys(passwords).sort()).to.equal(['alice@example.test', 'bob@example.test']);
        expect(quickstart.output()).to.contain('--password-stdin');
    });

    it('registers by password, then by user key, revokes, and refuses a wrong password', async () => {

        const first = writeKeyPair('first');
        const registered = runIks(['register', 'alice@example.test', '--key', first.publicFile, '--usage', 'iks-auth', 'sign', '--password-stdin', '--json'], env, `${passwords['alice@example.test']}\n`);
        expect(registered.status, registered.stderr).to.equal(0);
        expect(JSON.parse(registered.stdout)).to.include({ ok: true, verified: true, answerVerified: true, outcome: 'accepted' });
        const firstId = JSON.parse(registered.stdout).keyId as string;
        expect(await eventually(async () => (await servedIds('alice@example.test')).includes(firstId))).to.be.true();
        expect(verifiedIds('alice@example.test')).to.include(firstId);

        const second = writeKeyPair('second');
        const byKey = runIks(['register', 'alice@example.test', '--key', second.publicFile, '--auth-key', first.privateFile], env);
        expect(byKey.status, byKey.stderr).to.equal(0);
        expect(byKey.stdout).to.contain('✓ rsk:');
        expect(byKey.stdout).to.match(/✓ discovery: _ikrs\._tcp\.example\.test SRV → iks\.example\.test:\d+ .*DNSSEC-validated/);
        const secondId = /key ([0-9a-f]{16}) of alice@example\.test is active/.exec(byKey.stdout)![1]!;
        expect(await eventually(async () => (await servedIds('alice@example.test')).includes(secondId))).to.be.true();

        const revoked = runIks(['revoke', 'alice@example.test', firstId, '--reason', 'superseded', '--auth-key', first.privateFile], env);
        expect(revoked.status, revoked.stderr).to.equal(0);
        expect(await eventually(async () => !(await servedIds('alice@example.test')).includes(firstId))).to.be.true();
        const afterRevoke = verifiedIds('alice@example.test');
        expect(afterRevoke).to.include(secondId);
        expect(afterRevoke).to.not.include(firstId);

        const keyUrl = `${base}/ikqs/v1/n/${nameToUrlForm('alice@example.test')}/k/${firstId}`;
        const res = await fetch(keyUrl).catch(() => fetch(keyUrl));
        const body = await res.text();
        const ksk = loadDomainPublicKey(dataDir, 'example.test', 'ksk');
        const revocation = verifyDocument(body, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'KeyDocument', name: 'alice@example.test' }) as KeyDocument;
        expect(revocation.status).to.equal('revoked');
        const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', Path.join(dataDir, 'example.test/public/ksk.pem'), tempFile('revoked.xml', body)]);
        expect(verified.status, verified.output).to.equal(0);

        const wrong = runIks(['register', 'bob@example.test', '--key', writeKeyPair('third').publicFile, '--password-stdin'], env, 'not-bobs-password\n');
        expect(wrong.status).to.equal(2);
        expect(wrong.stderr).to.contain('AUTHENTICATION_FAILED');
        expect(wrong.stderr).to.contain('accepted authentication methods: password, user-key, assertion');
        expect(wrong.stderr + wrong.stdout).to.not.contain(passwords['bob@example.test']!);

        // A script reading --json must not take a verified refusal for a success.
        const wrongJson = runIks(['register', 'bob@example.test', '--key', writeKeyPair('fourth').publicFile, '--password-stdin', '--json'], env, 'not-bobs-password\n');
        expect(wrongJson.status).to.equal(2);
        const refusal = JSON.parse(wrongJson.stdout);
        expect(refusal).to.include({ ok: false, verified: false, outcome: 'authentication-failed', answerVerified: true, code: 'AUTHENTICATION_FAILED', acceptedMethods: ['password', 'user-key', 'assertion'] });
        expect(String(refusal.error)).to.startWith('AUTHENTICATION_FAILED: ');
    });

    it('refuses a private key or a file that is no public key in --key without sending anything', { timeout: 180_000 }, async () => {

        const requests: string[] = [];
        const server = Http.createServer((request, response) => {

            requests.push(`${request.method} ${request.url}`);
            response.writeHead(503).end();
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
            const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            const pair = writeKeyPair('leaked');
            const leaked = await runIksAsync(['register', 'alice@example.test', '--key', pair.privateFile, '--url', url, '--password-stdin'], env, `${passwords['alice@example.test']}\n`);
            expect(leaked.status).to.equal(2);
            expect(leaked.stderr).to.contain(`register failed: INVALID_KEY: --key ${pair.privateFile}: this is a private key; register only the public half`);
            expect(leaked.stderr).to.contain('nothing was sent');

            const garbage = await runIksAsync(['register', 'alice@example.test', '--key', tempFile('garbage.pub', 'hello\n'), '--url', url, '--auth-key', pair.privateFile, '--json'], env);
            expect(garbage.status).to.equal(2);
            expect(JSON.parse(garbage.stdout)).to.include({ ok: false, code: 'INVALID_KEY' });
            expect(requests).to.equal([]);

            // The control: a public key does reach the service at --url.
            const sent = await runIksAsync(['register', 'alice@example.test', '--key', pair.publicFile, '--url', url, '--auth-key', pair.privateFile, '--timeout', '3000'], env);
            expect(sent.status).to.equal(2);
            expect(requests).to.equal(['POST /ikrs/v1']);
        }
        finally {
            await new Promise((resolve) => server.close(resolve));
        }
    });

    it('refuses --password-stdin and `user add` when standard input is a terminal, before reading it', { timeout: 180_000 }, () => {

        // script(1) gives the command a terminal as standard input, as an interactive shell would.
        const atTerminal = (args: string) => spawnSync('script', ['-qec', `"${process.execPath}" "${iksBin}" ${args}`, '/dev/null'], {
            env: { ...process.env, IKS_FROM_SOURCE: '1', ...env }, input: '', encoding: 'utf8', timeout: 60_000
        });

        const register = atTerminal(`register alice@example.test --key ${writeKeyPair('typed').publicFile} --password-stdin`);
        expect(register.status, register.stdout).to.equal(2);
        expect(register.stdout).to.contain('register failed: INVALID_OPTIONS: standard input is a terminal; pipe the password on stdin (e.g. `iks register … --password-stdin < password-file`)');

        const user = atTerminal('user add gina@example.test');
        expect(user.status, user.stdout).to.equal(2);
        expect(user.stdout).to.contain('iks: INVALID_OPTIONS: standard input is a terminal; pipe the password on stdin (e.g. `iks user add gina@example.test < password-file`)');
    });

    it('manages users while the server runs', { timeout: 180_000 }, () => {

        const added = runIks(['user', 'add', 'dora@example.test'], env, 'dora-secret-1\n');
        expect(added.status, added.stderr).to.equal(0);
        const again = runIks(['user', 'add', 'dora@example.test'], env, 'another-password\n');
        expect(again.status).to.equal(2);
        expect(again.stderr).to.contain('user dora@example.test exists; use --replace to set a new password');

        const keys = runIks(['keys', 'dora@example.test', '--password-stdin'], env, 'dora-secret-1\n');
        expect(keys.status, keys.stderr).to.equal(0);
        expect(keys.stdout).to.contain('dora@example.test: 0 key(s)');

        expect(runIks(['user', 'disable', 'dora@example.test'], env).status).to.equal(0);
        const refused = runIks(['keys', 'dora@example.test', '--password-stdin'], env, 'dora-secret-1\n');
        expect(refused.status).to.equal(2);
        expect(runIks(['user', 'disable', 'nobody@example.test'], env).status).to.equal(2);
        expect(quickstart.output()).to.not.contain('dora-secret-1');
    });

    it('refuses a user outside the configured domain and a password shorter than 12 characters', { timeout: 180_000 }, () => {

        const other = runIks(['user', 'add', 'carol@other.example'], env, 'a-long-enough-password\n');
        expect(other.status).to.equal(2);
        expect(other.stderr).to.contain('INVALID_NAME: "carol@other.example" is not in the domain example.test');
        expect(runIks(['user', 'disable', 'bob@other.example'], env).stderr).to.contain('is not in the domain example.test');

        const short = runIks(['user', 'add', 'erin@example.test'], env, 'elevenchars\n');
        expect(short.status).to.equal(2);
        expect(short.stderr).to.contain('INVALID_PASSWORD: the password has 11 character(s); a user\'s password needs at least 12');
        // Nothing was created: a valid password makes a new user, not a replacement.
        const created = runIks(['user', 'add', 'erin@example.test'], env, 'twelve-chars\n');
        expect(created.status, created.stderr).to.equal(0);
        expect(created.stdout).to.equal('user erin@example.test created\n');
    });

    it('lifts a user\'s password lockout when --replace sets a new password', { timeout: 180_000 }, () => {

        expect(runIks(['user', 'add', 'frank@example.test'], env, 'franks-first-password\n').status).to.equal(0);
        const guesses = [1, 2, 3].map(() => runIks(['keys', 'frank@example.test', '--password-stdin'], env, 'a-wrong-guess\n'));
        expect(guesses.map((guess) => guess.status)).to.equal([2, 2, 2]);
        expect(guesses[2]!.stderr).to.contain('LOCKED_OUT');
        // Locked out: even the right password is refused now.
        expect(runIks(['keys', 'frank@example.test', '--password-stdin'], env, 'franks-first-password\n').stderr).to.contain('LOCKED_OUT');

        const replaced = runIks(['user', 'add', 'frank@example.test', '--replace'], env, 'franks-second-password\n');
        expect(replaced.status, replaced.stderr).to.equal(0);
        expect(replaced.stdout).to.contain('password of frank@example.test replaced; its password lockout, if any, is lifted');
        const keys = runIks(['keys', 'frank@example.test', '--password-stdin'], env, 'franks-second-password\n');
        expect(keys.status, keys.stderr).to.equal(0);
        expect(keys.stdout).to.contain('frank@example.test: 0 key(s)');
    });
});


describe('what the CLI reads as text', () => {

    let dataDir: string;
    let env: NodeJS.ProcessEnv;

    before(() => {

        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-cli-utf8-'));
        env = { IKS_FROM_SOURCE: '1', IKS_DATA_DIR: dataDir, IKS_DOMAIN: 'example.test', IKS_REDIS_URL: '', IKS_LOG_LEVEL: 'warn' };
    });

    after(() => {

        Fs.rmSync(dataDir, { recursive: true, force: true });
    });

    /** `iks …` with raw bytes on standard input. */
    const iksWithBytes = (args: readonly string[], input: Buffer) => spawnSync(process.execPath, [iksBin, ...args], { env: { ...process.env, ...env }, input, encoding: 'utf8', timeout: 120_000 });

    const storedUser = async (name: string) => {

        const store = new EmbeddedStore({ path: Path.join(dataDir, 'store.sqlite') });
        try {
            return await store.getUser(name);
        }
        finally {
            await store.close();
        }
    };

    it('refuses a password on standard input that is not UTF-8 (different bytes never hash the same), and drops one byte order mark', { timeout: 180_000 }, async () => {

        // Read leniently, both would be "a-long-password-\uFFFD".
        for (const bad of [0xff, 0xfe]) {
            const refused = iksWithBytes(['user', 'add', 'utf@example.test'], Buffer.concat([Buffer.from('a-long-password-'), Buffer.from([bad]), Buffer.from('\n')]));
            expect(refused.status).to.equal(2);
            expect(refused.stderr).to.contain('INVALID_ENCODING: the password on standard input is not valid UTF-8');
        }

        expect(await storedUser('utf@example.test')).to.be.null();

        const created = iksWithBytes(['user', 'add', 'utf@example.test'], Buffer.from('\uFEFFa-long-password-é\n', 'utf8'));
        expect(created.status, created.stderr).to.equal(0);
        const user = await storedUser('utf@example.test');
        expect(await verifyPassword('a-long-password-é', user!.passwordHash)).to.be.true();
    });

    it('refuses a name from the command line that holds U+FFFD (what Node makes of bytes that are not UTF-8)', { timeout: 180_000 }, async () => {

        for (const args of [['user', 'add', 'a\uFFFDb@example.test'], ['user', 'disable', 'a\uFFFDb@example.test'], ['keys', 'a\uFFFDb@example.test', '--password-stdin'], ['keys', 'a@example.test', '--user', '\uFFFD@example.test', '--password-stdin']]) {
            const refused = iksWithBytes(args, Buffer.from('a-long-password-1\n'));
            expect(refused.status, args.join(' ')).to.equal(2);
            expect(refused.stderr).to.contain('holds U+FFFD');
        }

        expect(await storedUser('a\uFFFDb@example.test')).to.be.null();
    });
});
