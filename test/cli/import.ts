import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as Fs from 'node:fs';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { ImportInterrupted, importFile, registrationFromLine, runImport } from '../../lib/cli/import';
import { InvalidInput, StoreUnavailable } from '../../lib/errors';
import type { Registration } from '../../lib/store/types';
import { makeDomain, overrideStore, tempFile, type TestDomain } from '../helpers/domain';
import { iksBin } from '../helpers/process';

export const lab = Lab.script();
const { describe, it, beforeEach, afterEach } = lab;

const pem = () => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;

/** Output lines captured from runImport. */
function capture() {

    const io = { out: [] as string[], err: [] as string[] };
    return { io, output: { out: (line: string) => io.out.push(line), err: (line: string) => io.err.push(line) } };
}

describe('iks import', () => {

    let domain: TestDomain;

    beforeEach(async () => {

        domain = await makeDomain();
    });

    afterEach(async () => {

        await domain.cleanup();
    });

    it('writes every line as a registration and enqueues the names', async () => {

        const lines = [
            JSON.stringify({ name: 'carol@example.test', key: pem(), usage: ['sign'] }),
            '',
            JSON.stringify({ name: 'Dave@EXAMPLE.test', key: pem(), usage: ['sign', 'encrypt'], expires: '2099-01-01T00:00:00Z' }),
            JSON.stringify({ name: 'carol@example.test', key: pem() })
        ];

        const outcome = await importFile(tempFile('keys.jsonl', lines.join('\n')), domain.store, { domain: 'example.test', batchSize: 2 });
        expect(outcome).to.equal({ imported: 3, revoked: 0, duplicates: 0, invalid: [] });
        expect(await domain.store.getRegistrations('carol@example.test')).to.have.length(2);
        const [dave] = await domain.store.getRegistrations('Dave@example.test');
        expect(dave!.expiresAt).to.equal(Date.UTC(2099, 0, 1));
        expect(dave!.usage).to.equal(['sign', 'encrypt']);
        expect((await domain.store.getRegistrations('carol@example.test')).map((registration) => registration.usage).sort()).to.equal([['any'], ['sign']]);
        expect(await domain.store.queueDepth()).to.equal(2);
    });

    it('writes nothing when a line is invalid, and reports each bad line', async () => {

        const lines = [
            JSON.stringify({ name: 'carol@example.test', key: pem() }),
            'not json',
            JSON.stringify({ name: 'eve@other.test', key: pem() }),
            JSON.stringify({ name: 'eve@example.test', key: 'garbage' }),
            JSON.stringify({ name: 'eve@example.test', key: pem(), usage: ['Bad Usage'] }),
            JSON.stringify({ name: 'eve@example.test', key: pem(), expires: '2001-01-01T00:00:00Z' })
        ];

        const file = tempFile('keys.jsonl', lines.join('\n'));
        const outcome = await importFile(file, domain.store, { domain: 'example.test' });
        expect(outcome.imported).to.equal(0);
        expect(outcome.invalid.map((entry) => entry.line)).to.equal([2, 3, 4, 5, 6]);
        expect(outcome.invalid[1]!.reason).to.contain('not in the domain example.test');
        expect(outcome.invalid[4]!.reason).to.contain('in the past');
        expect(await domain.store.getRegistrations('carol@example.test')).to.equal([]);

        const skipped = await importFile(file, domain.store, { domain: 'example.test', skipInvalid: true });
        expect(skipped.imported).to.equal(1);
        expect(await domain.store.getRegistrations('carol@example.test')).to.have.length(1);
    });

    it('leaves a key revoked in the store as it is, and counts it', async () => {

        const key = pem();
        const file = tempFile('keys.jsonl', JSON.stringify({ name: 'fay@example.test', key }));
        expect(await importFile(file, domain.store, { domain: 'example.test' })).to.equal({ imported: 1, revoked: 0, duplicates: 0, invalid: [] });
        const [stored] = await domain.store.getRegistrations('fay@example.test');
        await domain.store.putRegistrations([{ ...stored!, revokedAt: Date.now() }]);

        expect(await importFile(file, domain.store, { domain: 'example.test' })).to.equal({ imported: 0, revoked: 1, duplicates: 0, invalid: [] });
        expect((await domain.store.getRegistrations('fay@example.test'))[0]!.revokedAt).to.be.a.number();
    });

    it('explains why a line is rejected', () => {

        expect(() => registrationFromLine('{"name": "a@example.test"}', 'example.test', Date.now())).to.throw(InvalidInput, /"key" is required/);
        expect(() => registrationFromLine('x'.repeat(70_000), 'example.test', Date.now())).to.throw(InvalidInput, /longer than/);
        const key = pem();
        expect(() => registrationFromLine(JSON.stringify({ name: 'a@example.test', key, expires: '+010000-01-01T00:00:00Z' }), 'example.test', Date.now())).to.throw(InvalidInput, /after 9999-12-31T23:59:59Z/);
        expect(registrationFromLine(JSON.stringify({ name: 'a@example.test', key, expires: '9999-12-31T23:59:59Z' }), 'example.test', Date.now()).expiresAt).to.equal(Date.UTC(9999, 11, 31, 23, 59, 59));
    });

    it('checks every line against one time, so an expiry passing while it writes cannot leave it half done', async () => {

        let time = Date.UTC(2030, 0, 1);
        let reads = 0;
        const now = () => {

            reads++;
            return time;
        };

        const lines = [0, 1, 2, 3].map((i) => JSON.stringify({ name: `u${i}@example.test`, key: pem() }));
        lines.push(JSON.stringify({ name: 'late@example.test', key: pem(), expires: new Date(time + 5000).toISOString() }));
        // A slow store: each batch takes 10 s, so the last line's expiry passes before it is written.
        const store = overrideStore(domain.store, {
            putRegistrations: (registrations: readonly Registration[]) => {

                time += 10_000;
                return domain.store.putRegistrations(registrations);
            }
        });

        const outcome = await importFile(tempFile('keys.jsonl', lines.join('\n')), store, { domain: 'example.test', batchSize: 2, now });
        expect(outcome).to.equal({ imported: 5, revoked: 0, duplicates: 0, invalid: [] });
        expect(reads).to.equal(1);
        const [late] = await domain.store.getRegistrations('late@example.test');
        expect(late!.registeredAt).to.equal(Date.UTC(2030, 0, 1));
        expect(await domain.store.queueDepth()).to.equal(5);
    });

    it('imports from a pipe (iks import /dev/stdin), reading it once', async () => {

        const lines = [
            JSON.stringify({ name: 'pipe@example.test', key: pem() }),
            JSON.stringify({ name: 'line@example.test', key: pem(), usage: ['sign'] })
        ];

        // Through a shell's pipe, as people run it (Node would give the child a socket instead).
        const file = tempFile('keys.jsonl', `${lines.join('\n')}\n`);
        const env = { ...process.env, IKS_FROM_SOURCE: '1', IKS_DATA_DIR: domain.dataDir, IKS_DOMAIN: 'example.test', IKS_REDIS_URL: '', IKS_LOG_LEVEL: 'warn' };
        const result = spawnSync('sh', ['-c', 'cat "$0" | "$1" "$2" import /dev/stdin', file, process.execPath, iksBin], { env, encoding: 'utf8', timeout: 120_000 });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.equal('imported 2 key(s)\n');
        expect(await domain.store.getRegistrations('pipe@example.test')).to.have.length(1);
        expect(await domain.store.getRegistrations('line@example.test')).to.have.length(1);
    });

    it('reads standard input for "-", whatever it is (a socket, as Node gives a child)', async () => {

        const lines = [JSON.stringify({ name: 'socket@example.test', key: pem() }), 'bad'];
        const env = { ...process.env, IKS_FROM_SOURCE: '1', IKS_DATA_DIR: domain.dataDir, IKS_DOMAIN: 'example.test', IKS_REDIS_URL: '', IKS_LOG_LEVEL: 'warn' };
        const result = spawnSync(process.execPath, [iksBin, 'import', '-', '--skip-invalid'], { env, input: `${lines.join('\n')}\n`, encoding: 'utf8', timeout: 120_000 });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stderr).to.contain('standard input:2: not a JSON object');
        expect(result.stdout).to.equal('imported 1 key(s), skipped 1 invalid line(s)\n');
        expect(await domain.store.getRegistrations('socket@example.test')).to.have.length(1);
    });

    it('says how many keys were written when the store fails partway, and exits 2', async () => {

        const lines = [0, 1, 2, 3, 4].map((i) => JSON.stringify({ name: `u${i}@example.test`, key: pem() }));
        const file = tempFile('keys.jsonl', lines.join('\n'));
        let calls = 0;
        const store = overrideStore(domain.store, {
            putRegistrations: (registrations: readonly Registration[]) => {

                if (++calls === 2) {
                    return Promise.reject(new StoreUnavailable('the store did not answer'));
                }

                return domain.store.putRegistrations(registrations);
            }
        });

        const error = await expect(importFile(file, store, { domain: 'example.test', batchSize: 2 })).to.reject(ImportInterrupted);
        expect((error as ImportInterrupted).result).to.equal({ imported: 2, revoked: 0, duplicates: 0, invalid: [] });
        expect((error as ImportInterrupted).total).to.equal(5);
        expect(error.message).to.equal('stopped after writing 2 of 5 key(s): STORE_UNAVAILABLE: the store did not answer');

        calls = 0;
        const { io, output } = capture();
        expect(await runImport(file, store, { domain: 'example.test', batchSize: 2 }, output, 'the embedded store in /data')).to.equal(2);
        expect(io.out).to.equal([]);
        expect(io.err).to.equal(['import stopped after writing 2 of 5 key(s): STORE_UNAVAILABLE: the store did not answer (store: the embedded store in /data); importing the file again is safe (keys already written are written again)']);
        expect(await domain.store.getRegistrations('u1@example.test')).to.have.length(1);
        expect(await domain.store.getRegistrations('u2@example.test')).to.equal([]);

        const { io: again, output: againOutput } = capture();
        expect(await runImport(file, domain.store, { domain: 'example.test', batchSize: 2 }, againOutput, 'the embedded store in /data')).to.equal(0);
        expect(again.out).to.equal(['imported 5 key(s)']);
    });

    it('reports a failure that is not the store\'s as it is, with the revoked keys it left', async () => {

        const key = pem();
        const file = tempFile('keys.jsonl', [JSON.stringify({ name: 'fay@example.test', key }), 'bad', JSON.stringify({ name: 'gus@example.test', key: pem() })].join('\n'));
        await importFile(file, domain.store, { domain: 'example.test', skipInvalid: true });
        const [stored] = await domain.store.getRegistrations('fay@example.test');
        await domain.store.putRegistrations([{ ...stored!, revokedAt: Date.now() }]);
        let calls = 0;
        const store = overrideStore(domain.store, {
            putRegistrations: (registrations: readonly Registration[]) => (++calls === 2 ? Promise.reject(new Error('out of memory')) : domain.store.putRegistrations(registrations))
        });

        const { io, output } = capture();
        expect(await runImport(file, store, { domain: 'example.test', batchSize: 1, skipInvalid: true }, output, 'unused')).to.equal(2);
        expect(io.err).to.equal([
            `${file}:2: not a JSON object`,
            'import stopped after writing 0 of 2 key(s) and leaving 1 revoked key(s) revoked: out of memory; importing the file again is safe (keys already written are written again)'
        ]);
    });

    it('counts a line repeating the name and key of an earlier line once, the last one counting', async () => {

        const key = pem();
        const lines = [
            JSON.stringify({ name: 'carol@example.test', key, usage: ['sign'] }),
            JSON.stringify({ name: 'dave@example.test', key }),
            JSON.stringify({ name: 'carol@EXAMPLE.test', key, usage: ['encrypt'] })
        ];

        const file = tempFile('keys.jsonl', lines.join('\n'));
        expect(await importFile(file, domain.store, { domain: 'example.test' })).to.equal({ imported: 2, revoked: 0, duplicates: 1, invalid: [] });
        expect((await domain.store.getRegistrations('carol@example.test')).map((registration) => registration.usage)).to.equal([['encrypt']]);

        const { io, output } = capture();
        expect(await runImport(file, domain.store, { domain: 'example.test' }, output, 'unused')).to.equal(0);
        expect(io.out).to.equal(['imported 2 key(s), counted 1 repeated line(s) once (same name and key: the last one counts)']);
    });

    it('applies the per-key size and per-name key limits registration applies, counting stored keys', async () => {

        const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
        // Erin has two active keys stored; the file names one of them again.
        const [stored, again] = [pem(), pem()];
        await importFile(tempFile('stored.jsonl', [stored, again].map((key) => JSON.stringify({ name: 'erin@example.test', key })).join('\n')), domain.store, { domain: 'example.test' });
        const lines = [
            JSON.stringify({ name: 'erin@example.test', key: again, usage: ['encrypt'] }),
            JSON.stringify({ name: 'erin@example.test', key: pem() }),
            JSON.stringify({ name: 'frank@example.test', key: rsa }),
            JSON.stringify({ name: 'erin@example.test', key: pem() }),
            JSON.stringify({ name: 'erin@example.test', key: pem(), expires: new Date(Date.now() + 60_000).toISOString() })
        ];

        const file = tempFile('keys.jsonl', lines.join('\n'));
        const limits = { domain: 'example.test', maxKeySize: 1024, maxKeysPerName: 3 };
        const refused = await importFile(file, domain.store, limits);
        expect(refused.imported).to.equal(0);
        expect(refused.invalid).to.equal([
            { line: 3, reason: 'keys of 2048 bits are larger than the 1024 bits this domain accepts (register.maxKeySize)' },
            { line: 4, reason: 'erin@example.test would have more than 3 active keys (register.maxKeysPerName; 1 stored, 4 in this file)' },
            { line: 5, reason: 'erin@example.test would have more than 3 active keys (register.maxKeysPerName; 1 stored, 4 in this file)' }
        ]);
        expect(await domain.store.getRegistrations('erin@example.test')).to.have.length(2);

        // The lines within the limits go in with --skip-invalid: erin ends with 3 active keys.
        expect((await importFile(file, domain.store, { ...limits, skipInvalid: true })).imported).to.equal(2);
        expect(await domain.store.getRegistrations('erin@example.test')).to.have.length(3);
        expect(await domain.store.getRegistrations('frank@example.test')).to.equal([]);
    });

    it('reports invalid lines as the CLI did, at most 20 of them', async () => {

        const lines = [JSON.stringify({ name: 'carol@example.test', key: pem() }), ...Array.from({ length: 22 }, () => 'bad')];
        const file = tempFile('keys.jsonl', lines.join('\n'));
        const { io, output } = capture();
        expect(await runImport(file, domain.store, { domain: 'example.test' }, output, 'unused')).to.equal(2);
        expect(io.out).to.equal([]);
        expect(io.err).to.have.length(22);
        expect(io.err[0]).to.equal(`${file}:2: not a JSON object`);
        expect(io.err.slice(20)).to.equal(['… and 2 more invalid line(s)', 'nothing imported: 22 invalid line(s); fix them or use --skip-invalid']);
        expect(await domain.store.getRegistrations('carol@example.test')).to.equal([]);

        const { io: skipped, output: skippedOutput } = capture();
        expect(await runImport(file, domain.store, { domain: 'example.test', skipInvalid: true }, skippedOutput, 'unused')).to.equal(0);
        expect(skipped.out).to.equal(['imported 1 key(s), skipped 22 invalid line(s)']);
    });

    it('numbers lines across reads as readline does, and refuses an over-long line', async () => {

        const valid = JSON.stringify({ name: 'carol@example.test', key: pem() });
        // Padded so that its CRLF falls across the first read (64 KiB): one line end, not two.
        const padded = `${valid}${' '.repeat(64 * 1024 - 1 - valid.length)}`;
        const content = `${padded}\r\nbad\r${JSON.stringify({ name: 'dave@example.test', key: pem() })}\r\n\n${'x'.repeat(200_000)}\nbad`;
        const outcome = await importFile(tempFile('keys.jsonl', content), domain.store, { domain: 'example.test', skipInvalid: true });
        expect(outcome.imported).to.equal(2);
        expect(outcome.invalid).to.equal([
            { line: 2, reason: 'not a JSON object' },
            { line: 5, reason: 'line is longer than 65536 bytes' },
            { line: 6, reason: 'not a JSON object' }
        ]);
    });

    it('refuses input that is not UTF-8 (two different names would read as one), accepts one byte order mark', async () => {

        // Lenient decoding makes both lines "\uFFFD@example.test": one name, two keys.
        const line = (bytes: number[]) => Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from(`@example.test","key":${JSON.stringify(pem())}}\n`)]);
        const file = tempFile('latin1.jsonl', '');
        Fs.writeFileSync(file, Buffer.concat([line([0xe9]), line([0xe8])]));
        await expect(importFile(file, domain.store, { domain: 'example.test', skipInvalid: true })).to.reject(InvalidInput, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid UTF-8 .*nothing imported`));
        expect(await domain.store.getRegistrations('\uFFFD@example.test')).to.equal([]);

        const env = { ...process.env, IKS_FROM_SOURCE: '1', IKS_DATA_DIR: domain.dataDir, IKS_DOMAIN: 'example.test', IKS_REDIS_URL: '', IKS_LOG_LEVEL: 'warn' };
        const piped = spawnSync(process.execPath, [iksBin, 'import', '-'], { env, input: Fs.readFileSync(file), encoding: 'utf8', timeout: 120_000 });
        expect(piped.status).to.equal(2);
        expect(piped.stderr).to.contain('INVALID_ENCODING: standard input is not valid UTF-8');

        const bom = tempFile('bom.jsonl', `\uFEFF${JSON.stringify({ name: 'José@example.test', key: pem() })}\n`);
        expect(await importFile(bom, domain.store, { domain: 'example.test' })).to.equal({ imported: 1, revoked: 0, duplicates: 0, invalid: [] });
        expect(await domain.store.getRegistrations('José@example.test')).to.have.length(1);
    });

    it('refuses an input too large to hold, writing nothing', async () => {

        const many = tempFile('many.jsonl', `${JSON.stringify({ name: 'carol@example.test', key: pem() })}\n${'x\n'.repeat(100_000)}`);
        await expect(importFile(many, domain.store, { domain: 'example.test', skipInvalid: true })).to.reject(InvalidInput, `${many} has more than 100000 lines; nothing imported: split it into smaller files (each is imported all or nothing)`);

        const large = tempFile('large.jsonl', `${JSON.stringify({ name: 'carol@example.test', key: pem() })}\n${' '.repeat(64 * 1024 * 1024)}`);
        await expect(importFile(large, domain.store, { domain: 'example.test' })).to.reject(InvalidInput, `${large} is larger than 64 MiB; nothing imported: split it into smaller files (each is imported all or nothing)`);
        expect(await domain.store.getRegistrations('carol@example.test')).to.equal([]);
    });
});
