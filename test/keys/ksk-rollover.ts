import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import { InvalidConfig, RolloverRefused } from '../../lib/errors';
import { activateIncomingKsk, createIncomingKsk, ensureDomainKeys, loadDomainSigningKey, publishedKsks, rolloverPhase, withdrawRetiredKsk } from '../../lib/keys';
import { EmbeddedStore } from '../../lib/store';
import { plugin as iksQuery } from '../../plugins/iks-query';

export const lab = Lab.script();
const { describe, it, beforeEach, afterEach } = lab;

describe('KSK set and rollover files', () => {

    let dataDir: string;
    const domain = 'example.test';
    const states = () => publishedKsks(dataDir, domain).map((ksk) => ksk.state);

    beforeEach(() => {

        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-ksk-'));
        ensureDomainKeys(dataDir, domain);
    });

    afterEach(() => {

        Fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('says to run `iks init` when the data directory has no keys, and writes nothing', () => {

        const empty = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-ksk-empty-'));
        try {
            expect(() => createIncomingKsk(empty, domain)).to.throw(InvalidConfig, /cannot read the ksk public key file .* create the domain keys with "iks init"/);
            expect(Fs.readdirSync(empty)).to.equal([]);
        }
        finally {
            Fs.rmSync(empty, { recursive: true, force: true });
        }
    });

    it('publishes the active KSK alone, then active + incoming, active + retired, and the new one alone', () => {

        const old = publishedKsks(dataDir, domain)[0]!;
        expect(states()).to.equal(['active']);
        const incoming = createIncomingKsk(dataDir, domain, { now: 1000 });
        expect(Fs.statSync(Path.join(dataDir, domain, 'private', 'ksk.next.pem')).mode & 0o777).to.equal(0o600);
        expect(publishedKsks(dataDir, domain).map((ksk) => [ksk.state, ksk.keyName])).to.equal([['active', old.keyName], ['incoming', incoming.keyName]]);
        expect(rolloverPhase(dataDir, domain)).to.equal({ phase: 'published', state: { publishedAt: 1000 } });

        const { active, retired } = activateIncomingKsk(dataDir, domain, { overlap: 500, now: 1500 });
        expect([active.keyName, retired.keyName]).to.equal([incoming.keyName, old.keyName]);
        expect(states()).to.equal(['active', 'retired']);
        // The retired KSK cannot sign any more: its private key is gone, the new one is in its place.
        expect(loadDomainSigningKey(dataDir, domain, 'ksk').keyName).to.equal(incoming.keyName);
        expect(Fs.readdirSync(Path.join(dataDir, domain, 'private')).sort()).to.equal(['enc.pem', 'ksk.pem', 'rsk.pem', 'zsk.pem']);

        expect(withdrawRetiredKsk(dataDir, domain, { overlap: 500, now: 2000 }).keyName).to.equal(old.keyName);
        expect(publishedKsks(dataDir, domain).map((ksk) => [ksk.state, ksk.keyName])).to.equal([['active', incoming.keyName]]);
        expect(rolloverPhase(dataDir, domain)).to.equal({ phase: 'none', state: {} });
    });

    it('refuses each step before its overlap and out of order', () => {

        createIncomingKsk(dataDir, domain, { now: 1000 });
        expect(() => createIncomingKsk(dataDir, domain)).to.throw(RolloverRefused, /already published/);
        expect(() => withdrawRetiredKsk(dataDir, domain, { overlap: 0 })).to.throw(RolloverRefused, /not active yet/);
        expect(() => activateIncomingKsk(dataDir, domain, { overlap: 500, now: 1499 })).to.throw(RolloverRefused, /wait until 1970-01-01T00:00:01\.500Z/);
        activateIncomingKsk(dataDir, domain, { overlap: 500, now: 1500 });
        expect(() => createIncomingKsk(dataDir, domain)).to.throw(RolloverRefused, /previous rollover is not finished/);
        expect(() => activateIncomingKsk(dataDir, domain, { overlap: 0 })).to.throw(RolloverRefused, /already active/);
        expect(() => withdrawRetiredKsk(dataDir, domain, { overlap: 500, now: 1999 })).to.throw(RolloverRefused, /cached until 1970-01-01T00:00:02\.000Z/);
    });

    it('never overwrites an incoming private key left by an abandoned rollover', () => {

        const leftover = Path.join(dataDir, domain, 'private', 'ksk.next.pem');
        Fs.writeFileSync(leftover, 'left over', { mode: 0o600 });
        expect(() => createIncomingKsk(dataDir, domain)).to.throw(RolloverRefused, /already exists/);
        expect(Fs.readFileSync(leftover, 'utf8')).to.equal('left over');
    });

    describe('after a crash', () => {

        const file = (...parts: string[]) => Path.join(dataDir, domain, ...parts);
        const copy = (from: string, to: string) => Fs.copyFileSync(file(...from.split('/')), file(...to.split('/')));

        // What an interrupted activation leaves, one more step done each time (the order activateIncomingKsk writes in).
        const crashes: [string, () => void][] = [
            ['the retired public file', () => copy('public/ksk.pem', 'public/ksk.retired.pem')],
            ['the private key', () => copy('private/ksk.next.pem', 'private/ksk.pem')],
            ['the active public file', () => copy('public/ksk.next.pem', 'public/ksk.pem')],
            ['the activation time', () => Fs.writeFileSync(file('ksk-rollover.json'), JSON.stringify({ publishedAt: 1000, activatedAt: 1700 }))],
            ['the removal of the incoming private key', () => Fs.rmSync(file('private', 'ksk.next.pem'))]
        ];

        for (let done = 1; done <= crashes.length; ++done) {
            it(`resumes an activation interrupted after ${crashes[done - 1]![0]}, keeping the old KSK committed`, () => {

                const old = publishedKsks(dataDir, domain)[0]!;
                const incoming = createIncomingKsk(dataDir, domain, { now: 1000 });
                for (const [, step] of crashes.slice(0, done)) {
                    step();
                }

                const { active, retired } = activateIncomingKsk(dataDir, domain, { overlap: 500, now: 2000 });
                expect([active.keyName, retired.keyName]).to.equal([incoming.keyName, old.keyName]);
                expect(publishedKsks(dataDir, domain).map((ksk) => [ksk.state, ksk.keyName])).to.equal([['active', incoming.keyName], ['retired', old.keyName]]);
                expect(loadDomainSigningKey(dataDir, domain, 'ksk').keyName).to.equal(incoming.keyName);
                expect(Fs.readdirSync(file('private')).sort()).to.equal(['enc.pem', 'ksk.pem', 'rsk.pem', 'zsk.pem']);
                expect(rolloverPhase(dataDir, domain)).to.equal({ phase: 'active', state: { publishedAt: 1000, activatedAt: 2000 } });

                expect(withdrawRetiredKsk(dataDir, domain, { overlap: 500, now: 2500 }).keyName).to.equal(old.keyName);
                expect(publishedKsks(dataDir, domain).map((ksk) => [ksk.state, ksk.keyName])).to.equal([['active', incoming.keyName]]);
            });
        }

        it('refuses to activate when the old KSK\'s public half would not stay published', () => {

            const old = publishedKsks(dataDir, domain)[0]!;
            createIncomingKsk(dataDir, domain, { now: 1000 });
            const files = () => Object.fromEntries(['public', 'private'].flatMap((dir) => Fs.readdirSync(file(dir)).map((name) => [`${dir}/${name}`, Fs.readFileSync(file(dir, name), 'utf8')])));

            // The active file already holds the new key and nothing holds the old one.
            copy('public/ksk.next.pem', 'public/ksk.pem');
            let before = files();
            expect(() => activateIncomingKsk(dataDir, domain, { overlap: 0, now: 2000 })).to.throw(RolloverRefused, /ksk\.retired\.pem is missing, so the old KSK would lose its commitment/);
            expect(files()).to.equal(before);

            // The retired file holds the new key (what re-running the activation did before it was resumable).
            copy('public/ksk.next.pem', 'public/ksk.retired.pem');
            before = files();
            expect(() => activateIncomingKsk(dataDir, domain, { overlap: 0, now: 2000 })).to.throw(RolloverRefused, /not the KSK being retired/);
            expect(files()).to.equal(before);

            // The retired file holds some other key while the old one is still active: it is not overwritten either.
            Fs.writeFileSync(file('public', 'ksk.pem'), old.pem);
            before = files();
            expect(() => activateIncomingKsk(dataDir, domain, { overlap: 0, now: 2000 })).to.throw(RolloverRefused, new RegExp(`not the KSK being retired \\(${old.keyName}\\)`));
            expect(files()).to.equal(before);
        });

        it('records the publication time before it publishes the new KSK', () => {

            const publicPath = file('public', 'ksk.next.pem');
            const recorded: unknown[] = [];
            const fs = require('node:fs') as typeof Fs;
            const renameSync = fs.renameSync;
            fs.renameSync = (from: Fs.PathLike, to: Fs.PathLike) => {

                if (to === publicPath) {
                    recorded.push(rolloverPhase(dataDir, domain).state);
                }

                renameSync(from, to);
            };

            try {
                createIncomingKsk(dataDir, domain, { now: 1000 });
            }
            finally {
                fs.renameSync = renameSync;
            }

            expect(recorded).to.equal([{ publishedAt: 1000 }]);
        });

        it('restarts the overlap instead of skipping it when the publication time is lost or damaged', () => {

            const t0 = Date.now();
            const ready = new Date(t0 + 1000 + 3600_000).toISOString();
            for (const damage of [null, 'garbage', 'null', '{"publishedAt":"yesterday"}']) {
                Fs.rmSync(dataDir, { recursive: true, force: true });
                ensureDomainKeys(dataDir, domain);
                createIncomingKsk(dataDir, domain, { now: t0 });
                if (damage === null) {
                    Fs.rmSync(file('ksk-rollover.json'));
                }
                else {
                    Fs.writeFileSync(file('ksk-rollover.json'), damage);
                }

                expect(() => activateIncomingKsk(dataDir, domain, { overlap: 3600_000, now: t0 + 1000 })).to.throw(RolloverRefused, `no time is recorded for when the new KSK's commitment was published (${file('ksk-rollover.json')} is missing or damaged), so the wait counts from now: run \`iks keys rotate ksk --activate\` again after ${ready}`);
                expect(states()).to.equal(['active', 'incoming']);
                // The wait now runs from the refused attempt: refused until it has passed, allowed after.
                expect(() => activateIncomingKsk(dataDir, domain, { overlap: 3600_000, now: t0 + 3600_000 })).to.throw(RolloverRefused, new RegExp(`published at ${new Date(t0 + 1000).toISOString()}`));
                activateIncomingKsk(dataDir, domain, { overlap: 3600_000, now: t0 + 1000 + 3600_000 });
                expect(states()).to.equal(['active', 'retired']);
            }
        });

        it('restarts the overlap instead of skipping it when the activation time is lost', () => {

            createIncomingKsk(dataDir, domain, { now: 1000 });
            activateIncomingKsk(dataDir, domain, { overlap: 500, now: 1500 });
            Fs.rmSync(file('ksk-rollover.json'));

            expect(() => withdrawRetiredKsk(dataDir, domain, { overlap: 3600_000, now: 5000 })).to.throw(RolloverRefused, /no time is recorded for when the new KSK became active .* run `iks keys rotate ksk --finish` again after 1970-01-01T01:00:05\.000Z/);
            expect(states()).to.equal(['active', 'retired']);
            expect(() => withdrawRetiredKsk(dataDir, domain, { overlap: 3600_000, now: 3604_999 })).to.throw(RolloverRefused, /cached until 1970-01-01T01:00:05\.000Z/);
            withdrawRetiredKsk(dataDir, domain, { overlap: 3600_000, now: 3605_000 });
            expect(states()).to.equal(['active']);
        });
    });

    it('serves every published KSK from the query plugin, and only those', async () => {

        const store = new EmbeddedStore({ path: Path.join(dataDir, 'store.sqlite') });
        try {
            const server = Hapi.server();
            await server.register({ plugin: iksQuery, options: { domain, dataDir, store } });
            const old = publishedKsks(dataDir, domain)[0]!;
            const incoming = createIncomingKsk(dataDir, domain);
            expect((await server.inject(`/ikqs/v1/ksk/${old.keyName}`)).payload).to.equal(old.pem);
            // The key set is re-read on a miss at most once a second (a flood of unknown names costs no disk reads).
            const deadline = Date.now() + 10_000;
            let res = await server.inject(`/ikqs/v1/ksk/${incoming.keyName}`);
            while (res.statusCode === 404 && Date.now() < deadline) {
                await new Promise((resolve) => setTimeout(resolve, 100));
                res = await server.inject(`/ikqs/v1/ksk/${incoming.keyName}`);
            }

            expect(res.statusCode).to.equal(200);
            expect(res.payload).to.equal(incoming.pem);

            expect((await server.inject('/ikqs/v1/ksk/ksk-000000000000')).statusCode).to.equal(404);
            expect((await server.inject('/ikqs/v1/ksk/not-a-key-name')).statusCode).to.equal(404);
        }
        finally {
            await store.close();
        }
    });
});
