import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import { RolloverRefused } from '../../lib/errors';
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
