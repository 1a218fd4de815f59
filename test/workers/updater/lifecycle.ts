/**
 * The signature lifecycle of paper §6.2 with validity counted in seconds: documents are
 * re-signed before they expire (scheduled by expiry, not by a scan), a key leaves the list
 * at its expiry, revoked keys are purged after the retention period, and no lookup ever
 * returns a lapsed signature meanwhile.
 */
import { createPublicKey } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import { loadDomainPublicKey, loadDomainSigningKey } from '../../../lib/keys';
import { nameToUrlForm } from '../../../lib/names';
import type { KeyListDocument } from '../../../lib/xml/types';
import { verifyDocument } from '../../../lib/xmldsig';
import { plugin as iksQuery } from '../../../plugins/iks-query';
import { NameSigner, Updater, publishedDomainKeys } from '../../../workers/updater';
import { makeDomain, makeRegistration, type TestDomain } from '../../helpers/domain';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('signature lifecycle (short validity)', () => {

    let domain: TestDomain;

    before(async () => {

        domain = await makeDomain();
    });

    after(async () => {

        await domain.cleanup();
    });

    it('re-signs before expiry, drops expired keys at expiry, purges revoked keys, and never serves a lapsed signature', async () => {

        const { store } = domain;
        const policy = { validity: 3000, refreshBefore: 1500, retention: 1000 };
        const signer = new NameSigner({ store, domain: domain.domain, ksk: loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk'), published: publishedDomainKeys(domain.dataDir, domain.domain), policy });
        const signings = new Map<string, number>();
        const counting = new Proxy(signer, {
            get(target, property) {

                if (property === 'sign') {
                    return (name: string) => {

                        signings.set(name, (signings.get(name) ?? 0) + 1);
                        return target.sign(name);
                    };
                }

                const value = Reflect.get(target, property, target);
                return typeof value === 'function' ? value.bind(target) : value;
            }
        });

        const start = Date.now();
        const expiresAt = Math.ceil((start + 2500) / 1000) * 1000;
        const bob = makeRegistration('bob@example.test');
        const carolStays = makeRegistration('carol@example.test');
        const carolExpires = makeRegistration('carol@example.test', 'ec', { expiresAt });
        const dave = makeRegistration('dave@example.test', 'ed25519', { revokedAt: start, revocationReason: 'superseded' });
        const daveActive = makeRegistration('dave@example.test', 'ec');
        await store.putRegistrations([bob, carolStays, carolExpires, dave, daveActive]);

        const updater = new Updater({ store, signer: counting, batchSize: 50, lease: 10_000, pollInterval: 20 });
        await updater.drain();
        updater.start();

        const server = Hapi.server();
        await server.register({ plugin: iksQuery, options: { domain: domain.domain, dataDir: domain.dataDir, store } });
        const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
        const publicKey = createPublicKey(ksk.pem);

        // Poll for more than two validity periods; check every answer as a client would.
        const seenSignedAt = new Set<number>();
        const unavailable = { bob: 0, carol: 0 };
        let lookups = 0;
        while (Date.now() < start + 7000) {
            for (const name of ['bob@example.test', 'carol@example.test'] as const) {
                const res = await server.inject(`/ikqs/v1/n/${nameToUrlForm(name)}`);
                const receivedAt = Date.now();
                lookups++;
                if (res.statusCode === 503) {
                    // Allowed only as the fallback for a lapsed document, with Retry-After.
                    expect(res.headers['retry-after']).to.equal('1');
                    unavailable[name === 'bob@example.test' ? 'bob' : 'carol']++;
                    continue;
                }

                expect(res.statusCode).to.equal(200);
                const list = verifyDocument(res.payload, { publicKey, keyName: ksk.keyName, type: 'KeyList', name, now: receivedAt }) as KeyListDocument;
                expect(list.notAfter).to.be.above(receivedAt);
                if (name === 'bob@example.test') {
                    seenSignedAt.add(list.issuedAt);
                }
                else {
                    const ids = list.keys.map((key) => key.id);
                    // A key is listed before its expiry and never after it.
                    expect(ids.sort()).to.equal(receivedAt < expiresAt ? [carolStays.keyId, carolExpires.keyId].sort() : [carolStays.keyId]);
                }
            }

            await sleep(40);
        }

        await updater.stop();

        // bob was re-signed ahead of every expiry: never unavailable, several signatures seen.
        expect(unavailable.bob).to.equal(0);
        expect(seenSignedAt.size).to.be.at.least(3);
        expect(lookups).to.be.above(50);
        // Scheduled by due time: bob signed about once per (validity − refreshBefore), not per poll.
        expect(signings.get('bob@example.test') ?? 0).to.be.at.least(4).and.at.most(8);

        // carol's expiring key left the list; dave's revoked key was purged after the retention.
        const carolList = await store.getDocument('carol@example.test', 'list');
        expect(carolList!.body).to.not.contain(carolExpires.keyId);
        expect(await store.getRegistration('dave@example.test', dave.keyId)).to.be.null();
        expect(await store.getRegistration('dave@example.test', daveActive.keyId)).to.exist();
        expect(await store.getDocument('dave@example.test', `key:${dave.keyId}`)).to.be.null();
        expect((await server.inject(`/ikqs/v1/n/${nameToUrlForm('dave@example.test')}/k/${dave.keyId}`)).statusCode).to.equal(404);
    });
});
