import { spawn } from 'node:child_process';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Database from 'better-sqlite3';

import { StoreUnavailable } from '../../lib/errors';
import { EmbeddedStore, createStore } from '../../lib/store';
import type { QueueJob, Registration } from '../../lib/store/types';
import { makeRegistration } from '../helpers/domain';
import { storeContract } from './contract';

export const lab = Lab.script();
const { describe, it } = lab;

const tempPath = () => Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-sqlite-')), 'nested', 'store.sqlite');

/** A closed store at a new path that holds one registration for bob. */
async function storeWithBob(): Promise<{ path: string; registration: Registration }> {

    const path = tempPath();
    const registration = makeRegistration('bob@example.test');
    const first = new EmbeddedStore({ path });
    await first.putRegistrations([registration]);
    await first.close();
    return { path, registration };
}

storeContract(lab, 'embedded', async () => {

    const path = tempPath();
    const store = new EmbeddedStore({ path });
    return {
        store,
        async cleanup() {

            await store.close();
            await store.close();
            Fs.rmSync(Path.dirname(Path.dirname(path)), { recursive: true, force: true });
        }
    };
});

/**
 * Another process (an `iks` command, the server beside the updater) holding the file's
 * write lock for `ms`: resolves once it holds it, with a promise of its exit.
 */
async function holdWriteLock(path: string, ms: number): Promise<{ released: Promise<void> }> {

    const script = `
        const Database = require('better-sqlite3');
        const db = new Database(${JSON.stringify(path)}, { timeout: 5000 });
        db.exec('BEGIN IMMEDIATE');
        db.prepare("INSERT INTO users (name, json) VALUES ('lock-holder', '{}') ON CONFLICT (name) DO UPDATE SET json = excluded.json").run();
        process.stdout.write('locked\\n');
        setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});`;
    const child = spawn(process.execPath, ['-e', script], { cwd: Path.join(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    const released = new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}`)))));
    await Promise.race([new Promise<void>((resolve) => child.stdout.once('data', () => resolve())), released]);
    return { released };
}

describe('EmbeddedStore', () => {

    describe('waits for another process\'s write lock (busy timeout) in every queue step that reads, then writes', () => {

        const lockMs = 300;

        /** A store with bob and carol leased, dave waiting and erin buried. */
        async function queued(): Promise<{ path: string; store: EmbeddedStore; jobs: Map<string, QueueJob> }> {

            const path = tempPath();
            const store = new EmbeddedStore({ path });
            await store.enqueue(['bob@example.test', 'carol@example.test', 'erin@example.test']);
            const jobs = new Map((await store.claim(10, 60_000)).map((job) => [job.name, job]));
            await store.bury(jobs.get('erin@example.test')!, 'test');
            await store.enqueue(['dave@example.test']);
            return { path, store, jobs };
        }

        const steps: Array<[string, (store: EmbeddedStore, jobs: Map<string, QueueJob>) => Promise<void>]> = [
            ['claim', async (store) => {

                expect((await store.claim(10, 60_000)).map((job) => job.name)).to.equal(['dave@example.test']);
            }],
            ['ack', async (store, jobs) => {

                await store.ack(jobs.get('bob@example.test')!, Date.now() + 60_000);
                expect(await store.claimName('bob@example.test', 60_000)).to.not.be.null();
            }],
            ['claimName', async (store) => {

                expect((await store.claimName('dave@example.test', 60_000))!.name).to.equal('dave@example.test');
            }],
            ['bury', async (store, jobs) => {

                await store.bury(jobs.get('carol@example.test')!, 'gave up');
                expect((await store.failedJobs()).map((job) => job.name)).to.equal(['erin@example.test', 'carol@example.test']);
            }],
            ['retryFailed', async (store) => {

                expect(await store.retryFailed()).to.equal(1);
                expect(await store.failedJobs()).to.equal([]);
            }]
        ];

        for (const [step, run] of steps) {
            it(step, async () => {

                const { path, store, jobs } = await queued();
                try {
                    const { released } = await holdWriteLock(path, lockMs);
                    const start = Date.now();
                    await run(store, jobs);
                    // It waited for the lock (not SQLITE_BUSY at once, not past the busy timeout).
                    expect(Date.now() - start).to.be.within(lockMs / 3, 5000);
                    await released;
                }
                finally {
                    await store.close();
                    Fs.rmSync(Path.dirname(Path.dirname(path)), { recursive: true, force: true });
                }
            });
        }
    });

    it('keeps data across close and reopen, in a private directory', async () => {

        const { path, registration } = await storeWithBob();
        expect(Fs.statSync(Path.dirname(path)).mode & 0o777).to.equal(0o700);

        const second = createStore({ dataDir: Path.dirname(path) });
        expect(second.kind).to.equal('embedded');
        expect(await second.getRegistrations('bob@example.test')).to.equal([registration]);
        await second.close();
    });

    it('keeps its files (password hashes) from other users, in a directory others can read too', async () => {

        const path = tempPath();
        Fs.mkdirSync(Path.dirname(path), { recursive: true, mode: 0o755 });
        const store = new EmbeddedStore({ path });
        await store.putRegistrations([makeRegistration('bob@example.test')]);
        for (const file of [path, `${path}-wal`]) {
            expect(Fs.statSync(file).mode & 0o777, file).to.equal(0o600);
        }

        await store.close();

        // A file left readable by an earlier version loses others' access, and keeps its group's.
        Fs.chmodSync(path, 0o664);
        const reopened = new EmbeddedStore({ path });
        expect(Fs.statSync(path).mode & 0o777).to.equal(0o660);
        await reopened.close();
        Fs.rmSync(Path.dirname(Path.dirname(path)), { recursive: true, force: true });
    });

    it('opens a store written by the previous schema and upgrades it in place', async () => {

        const { path } = await storeWithBob();

        // What schema 3 had: no document sources, one index over the queue's due times.
        const old = new Database(path);
        old.exec('DROP TABLE document_sources; DROP INDEX queue_waiting; DROP INDEX queue_leased; CREATE INDEX queue_due ON queue (due_at); PRAGMA user_version = 3;');
        old.close();

        const upgraded = new EmbeddedStore({ path });
        expect((await upgraded.claim(10, 1000)).map((job) => job.name)).to.equal(['bob@example.test']);
        expect((await upgraded.readForSigning('bob@example.test')).sources).to.equal(new Map());
        const { version } = await upgraded.readForSigning('bob@example.test');
        expect(await upgraded.updateDocuments('bob@example.test', new Map([['list', { document: { body: '<l/>', etag: '"e"', signedAt: 1000, notAfter: 2000 }, source: 's' }]]), [], version)).to.be.true();
        expect((await upgraded.readForSigning('bob@example.test')).sources.get('list')).to.equal({ source: 's', notAfter: 2000 });
        await upgraded.close();

        const check = new Database(path, { readonly: true });
        expect(check.pragma('user_version', { simple: true })).to.equal(5);
        expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queue' AND name LIKE 'queue_%' ORDER BY name").all()).to.equal([{ name: 'queue_leased' }, { name: 'queue_waiting' }]);
        check.close();
    });

    it('lets two handles on one file (server and CLI) see each other\'s writes', async () => {

        const path = tempPath();
        const server = new EmbeddedStore({ path });
        const cli = new EmbeddedStore({ path });
        await cli.putRegistrations([makeRegistration('carol@example.test')]);
        expect(await server.getRegistrations('carol@example.test')).to.have.length(1);
        expect((await server.claim(10, 1000)).map((job) => job.name)).to.equal(['carol@example.test']);
        await server.close();
        await cli.close();
    });

    it('reopens consistent after the writing process is killed with SIGKILL', async () => {

        const path = tempPath();
        new EmbeddedStore({ path }).close();
        const script = `
            require('ts-node').register({ transpileOnly: true });
            const { EmbeddedStore } = require(${JSON.stringify(Path.join(__dirname, '../../lib/store/embedded.ts'))});
            const store = new EmbeddedStore({ path: ${JSON.stringify(path)} });
            let i = 0;
            (async () => { for (;;) { await store.putRegistrations([{ name: 'n' + (i % 100) + '@example.test', keyId: String(i).padStart(16, '0'), algorithm: 'ed25519', size: 256, format: 'spki', fingerprint: 'f', spki: 'AA==', container: 'c', usage: ['sign'], registeredAt: i }]); if (++i === 50) process.stdout.write('writing\\n'); } })();`;
        const child = spawn(process.execPath, ['-e', script], { cwd: Path.join(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));

        const store = new EmbeddedStore({ path });
        let registrations = 0;
        for await (const name of store.scanNames()) {
            for (const registration of await store.getRegistrations(name)) {
                expect(registration.name).to.equal(name);
                registrations++;
            }
        }

        // Every registration written is queued with it (one transaction), none half-written.
        expect(registrations).to.be.at.least(50);
        expect(await store.queueDepth()).to.be.at.most(100);
        await store.close();
    });

    it('refuses to open where it cannot write, with the reason', () => {

        expect(() => new EmbeddedStore({ path: '/proc/iks/store.sqlite' })).to.throw();
        const file = tempPath();
        Fs.mkdirSync(Path.dirname(file), { recursive: true });
        Fs.mkdirSync(file);
        expect(() => new EmbeddedStore({ path: file })).to.throw(StoreUnavailable, /cannot open the embedded store/);
    });
});
