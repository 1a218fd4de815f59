/**
 * The three signing strategies of paper §6 end to end, each proving with loadedKeyFiles()
 * that the KSK is loaded by exactly the component the paper names (ARCHITECTURE.md §2).
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import type { SigningStrategy } from '../../../config';
import { runUpdater } from '../../../lib/cli/updater';
import { RegistrationClient } from '../../../lib/client/registration';
import { createGateway } from '../../../lib/gateway';
import { domainKeyPaths, loadDomainPublicKey, loadedKeyFiles, parsePublicKey } from '../../../lib/keys';
import { nameToUrlForm } from '../../../lib/names';
import { hashPassword } from '../../../lib/registration/password';
import type { KeyListDocument } from '../../../lib/xml/types';
import { verifyDocument } from '../../../lib/xmldsig';
import { plugin as iksQuery } from '../../../plugins/iks-query';
import { createUpdater, inlineSigningOptions } from '../../../workers/updater';
import { makeDomain, makeRegistration, overrideStore, type TestDomain } from '../../helpers/domain';
import { injectFetch } from '../../helpers/inject-fetch';

export const lab = Lab.script();
const { describe, it, afterEach } = lab;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The KSK private-key loads made while `action` runs. */
async function kskLoadsDuring<T>(domain: TestDomain, action: () => Promise<T>): Promise<{ loads: number; value: T }> {

    const before = loadedKeyFiles().length;
    const value = await action();
    const { privatePath } = domainKeyPaths(domain.dataDir, domain.domain, 'ksk');
    return { loads: loadedKeyFiles().slice(before).filter((entry) => entry.path === privatePath).length, value };
}

describe('signing strategies (paper §6)', () => {

    let domain: TestDomain | null = null;
    let server: Hapi.Server | null = null;

    afterEach(async () => {

        await server?.stop();
        server = null;
        await domain?.cleanup();
        domain = null;
    });

    const setUp = async (signing: SigningStrategy) => {

        domain = await makeDomain({ env: { IKS_SIGNING: signing, IKS_DNS_ENABLED: 'false', IKS_LOG_LEVEL: 'silent', IKS_UPDATER_POLL_INTERVAL: '20' } });
        const current = domain;
        const { loads, value } = await kskLoadsDuring(current, () => createGateway(current.config, { store: current.store, port: 0 }));
        server = value;
        await server.initialize();
        return { domain: current, server: value, gatewayKskLoads: loads };
    };

    const keyListOf = (test: TestDomain, body: string, name: string) => {

        const ksk = loadDomainPublicKey(test.dataDir, test.domain, 'ksk');
        return verifyDocument(body, { publicKey: createPublicKey(ksk.pem), keyName: ksk.keyName, type: 'KeyList', name, now: Date.now() }) as KeyListDocument;
    };

    it('offline: the gateway never loads the KSK; only the updater does, and publishes', async () => {

        const { domain: test, server: gateway, gatewayKskLoads } = await setUp('offline');
        expect(gatewayKskLoads).to.equal(0);

        const bob = makeRegistration('bob@example.test');
        await test.store.putRegistrations([bob]);
        const url = `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`;
        // Not signed yet: the query plugin cannot sign, so it answers the RSK-signed negative.
        expect((await gateway.inject(url)).statusCode).to.equal(404);

        const { loads } = await kskLoadsDuring(test, () => createUpdater(test.config, test.store).drain());
        expect(loads).to.equal(1);
        const res = await gateway.inject(url);
        expect(res.statusCode).to.equal(200);
        expect(keyListOf(test, res.payload, 'bob@example.test').keys.map((key) => key.id)).to.equal([bob.keyId]);
    });

    it('ondemand: iks-query loads the KSK and signs a missing or lapsed document on the first request', async () => {

        const { domain: test, server: gateway, gatewayKskLoads } = await setUp('ondemand');
        expect(gatewayKskLoads).to.equal(1);

        // iks-query alone, without the option, loads no KSK: the load above is the option's.
        const bare = Hapi.server();
        const alone = await kskLoadsDuring(test, () => bare.register({ plugin: iksQuery, options: { domain: test.domain, dataDir: test.dataDir, store: test.store } }));
        const signing = await kskLoadsDuring(test, () => Hapi.server().register({ plugin: iksQuery, options: { domain: test.domain, dataDir: test.dataDir, store: test.store, onDemandSigning: inlineSigningOptions(test.config) } }));
        expect([alone.loads, signing.loads]).to.equal([0, 1]);

        const bob = makeRegistration('bob@example.test');
        await test.store.putRegistrations([bob]);
        const url = `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`;
        const first = await gateway.inject(url);
        expect(first.statusCode).to.equal(200);
        expect(keyListOf(test, first.payload, 'bob@example.test').keys.map((key) => key.id)).to.equal([bob.keyId]);

        // A lapsed document is re-signed on the request that finds it, never served.
        const stored = (await test.store.getDocument('bob@example.test', 'list'))!;
        await test.store.putDocument('bob@example.test', 'list', { ...stored, notAfter: Date.now() - 1000 });
        const again = await gateway.inject(url);
        expect(again.statusCode).to.equal(200);
        expect((await test.store.getDocument('bob@example.test', 'list'))!.notAfter).to.be.above(Date.now());

        // Made-up names and key ids get the negative answer and cost no signature.
        expect((await gateway.inject(`/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`)).statusCode).to.equal(404);
        expect((await gateway.inject(`${url}/k/0123456789abcdef`)).statusCode).to.equal(404);
        expect(await test.store.getDocument('nobody@example.test', 'list')).to.be.null();

        // And no second KSK holder: `iks updater` here signs only the zone.
        const lines: string[] = [];
        const refused = await kskLoadsDuring(test, () => runUpdater(test.config, test.store, { once: true }, { out: (line) => lines.push(line), err: (line) => lines.push(line) }, () => Promise.resolve('')));
        expect([refused.value, refused.loads]).to.equal([0, 0]);
        expect(lines.join('\n')).to.contain('iks-query plugin holds the KSK');
    });

    it('ondemand: documents built from a read that a change superseded are signed again, never served', async () => {

        domain = await makeDomain({ env: { IKS_SIGNING: 'ondemand', IKS_DNS_ENABLED: 'false', IKS_LOG_LEVEL: 'silent' } });
        const test = domain;
        // Every read for signing is followed by a change to the name, until `changes` runs out.
        let changes = 1;
        const racing = overrideStore(test.store, {
            readForSigning: async (name: string) => {

                const input = await test.store.readForSigning(name);
                if (changes-- > 0) {
                    await test.store.putRegistrations([makeRegistration(name)]);
                }

                return input;
            }
        });
        // Not initialised: its queue loop stays off, so every signing here is the lookup's own.
        server = await createGateway(test.config, { store: racing, port: 0 });

        const bob = makeRegistration('bob@example.test');
        await test.store.putRegistrations([bob]);
        const url = `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`;
        const signed = await server.inject(url);
        expect(signed.statusCode).to.equal(200);
        // The second signing read the change the first one missed.
        const listed = keyListOf(test, signed.payload, 'bob@example.test').keys.map((key) => key.id);
        expect(listed).to.have.length(2);
        expect(listed).to.include(bob.keyId);

        // A name whose keys change under every signing: asked to retry, neither denied nor served stale.
        changes = 10;
        const carol = makeRegistration('carol@example.test');
        await test.store.putRegistrations([carol]);
        const busy = await server.inject(`/ikqs/v1/n/${nameToUrlForm('carol@example.test')}`);
        expect(busy.statusCode).to.equal(503);
        expect(busy.headers['retry-after']).to.equal('1');
        expect(await test.store.getDocument('carol@example.test', 'list')).to.be.null();
    });

    it('ondemand: concurrent lookups share one signing, and names with nothing to publish sign nothing', async () => {

        domain = await makeDomain({ env: { IKS_SIGNING: 'ondemand', IKS_DNS_ENABLED: 'false', IKS_LOG_LEVEL: 'silent' } });
        const test = domain;
        const signings: string[] = [];
        const counting = overrideStore(test.store, {
            updateDocuments: (name: string, ...rest: unknown[]) => {

                signings.push(name);
                return (test.store.updateDocuments as (...args: unknown[]) => Promise<boolean>)(name, ...rest);
            }
        });
        // Not initialised: its queue loop stays off, so every signing here is a lookup's own.
        server = await createGateway(test.config, { store: counting, port: 0 });
        const gateway = server;

        // A name with ten keys, never signed, looked up by 50 clients at once: one signing.
        const bobs = Array.from({ length: 10 }, () => makeRegistration('bob@example.test'));
        await test.store.putRegistrations(bobs);
        const url = `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`;
        const answers = await Promise.all(Array.from({ length: 50 }, () => gateway.inject(url)));
        expect(answers.map((answer) => answer.statusCode)).to.equal(Array(50).fill(200));
        expect(signings).to.equal(['bob@example.test']);

        // Revoked and expired keys only: the key list has nothing to publish, nor has an expired key.
        const now = Date.now();
        const revoked = makeRegistration('carol@example.test', 'ed25519', { revokedAt: now - 1000 });
        const expired = makeRegistration('carol@example.test', 'ed25519', { expiresAt: now - 1000 });
        await test.store.putRegistrations([revoked, expired]);
        const carol = `/ikqs/v1/n/${nameToUrlForm('carol@example.test')}`;
        signings.length = 0;
        for (let i = 0; i < 10; ++i) {
            expect((await gateway.inject(carol)).statusCode).to.equal(404);
            expect((await gateway.inject(`${carol}/k/${expired.keyId}`)).statusCode).to.equal(404);
        }

        expect(signings).to.equal([]);
        // A revoked key's document is its signed revocation: signed once, then served as stored.
        for (let i = 0; i < 5; ++i) {
            const answer = await gateway.inject(`${carol}/k/${revoked.keyId}`);
            expect(answer.statusCode).to.equal(200);
            expect(answer.payload).to.contain('<Status>revoked</Status>');
        }

        expect(signings).to.equal(['carol@example.test']);
    });

    it('online: iks-register loads the KSK and a registration is published before it is acknowledged', async () => {

        const { domain: test, server: gateway, gatewayKskLoads } = await setUp('online');
        expect(gatewayKskLoads).to.equal(1);

        // The plugin's own queue loop publishes the domain's RSK and enc documents.
        for (let i = 0; i < 200 && !(await test.store.getDocument(test.domain, 'enc')); ++i) {
            await sleep(20);
        }

        const password = 'correct horse battery';
        await test.store.putUser({ name: 'alice@example.test', passwordHash: await hashPassword(password, { N: 1024, r: 8, p: 1 }), disabled: false, createdAt: Date.now() });
        const ksk = loadDomainPublicKey(test.dataDir, test.domain, 'ksk');
        const commitment = { sha256: createHash('sha256').update(ksk.spki).digest('hex') };
        const client = new RegistrationClient({ baseUrl: 'http://iks.example.test', commitmentFor: async (keyName) => keyName === ksk.keyName ? commitment : {}, fetch: injectFetch(gateway) });
        const key = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
        const receipt = await client.register('alice@example.test', { container: key, usage: ['sign'] }, { user: 'alice@example.test', password });
        expect(receipt.answer.outcome).to.equal('accepted');

        // No updater ran: the registration handler signed it on acceptance.
        const res = await gateway.inject(`/ikqs/v1/n/${nameToUrlForm('alice@example.test')}`);
        expect(res.statusCode).to.equal(200);
        expect(keyListOf(test, res.payload, 'alice@example.test').keys.map((listed) => listed.id)).to.equal([parsePublicKey(key).id]);
        // Signed once, inline: the queued job was consumed, not left for a second signing.
        const queued = await test.store.claim(100, 1000);
        expect(queued.map((job) => job.name)).to.not.include('alice@example.test');
    });
});
