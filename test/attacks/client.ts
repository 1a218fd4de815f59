/**
 * Attacks on the client that the per-module suites do not already cover (docs/security.md
 * maps each threat to its test): documents signed by the wrong one of the domain's two
 * keys, signature-algorithm downgrades and a signed-content wrapper as served to a real
 * client, and the same against registration answers. Each must fail with its typed error.
 */
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import { IksClient, type Commitment } from '../../lib/client';
import { RegistrationClient } from '../../lib/client/registration';
import { BadSignature, CommitmentMismatch, UnexpectedDocument, type IksError } from '../../lib/errors';
import { createGateway } from '../../lib/gateway';
import { loadDomainPublicKey, loadDomainSigningKey, parsePublicKey } from '../../lib/keys';
import { nameToUrlForm } from '../../lib/names';
import { registrationOf } from '../../lib/store/registration';
import { readAnswerEnvelope, renderEnvelope } from '../../lib/registration/soap';
import { readDocument } from '../../lib/xml';
import { renderAndSign } from '../../lib/xmldsig';
import { createUpdater } from '../../workers/updater';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';
import { injectFetch } from '../helpers/inject-fetch';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const internals = {
    ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
    downgrades: ['http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2000/09/xmldsig#hmac-sha1', 'http://www.w3.org/2000/09/xmldsig#dsa-sha1']
};

describe('attacks on the client (issue 7)', () => {

    let domain: TestDomain;
    let server: Hapi.Server;
    let commitment: Commitment;
    let kskName: string;
    const bob = makeRegistration('bob@example.test', 'ed25519', { usage: ['sign'] });
    const carol = generateKeyPairSync('ed25519');

    /** A fetch through server.inject whose answers an attacker on the path may replace. */
    const tampering = (rewrite: (path: string, body: string, status: number) => { body: string; status?: number } | null): typeof fetch => {

        const inner = injectFetch(server);
        return async (input, init) => {

            const response = await inner(input, init);
            const body = await response.text();
            const changed = rewrite(new URL(String(input)).pathname, body, response.status);
            return new Response(changed?.body ?? body, { status: changed?.status ?? response.status, headers: response.headers });
        };
    };

    const lookupClient = (fetchImpl: typeof fetch) => new IksClient({ baseUrl: 'http://iks.example.test', commitmentFor: async (keyName) => keyName === kskName ? commitment : {}, fetch: fetchImpl });
    const registrationClient = (fetchImpl: typeof fetch) => new RegistrationClient({ baseUrl: 'http://iks.example.test', commitmentFor: async (keyName) => keyName === kskName ? commitment : {}, fetch: fetchImpl });
    const registerCarol = (client: RegistrationClient) => client.register('carol@example.test', { container: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string, usage: ['sign'] }, { authKey: carol.privateKey });
    const isBobsList = (path: string) => path.endsWith(nameToUrlForm('bob@example.test'));

    /** The genuine signed answer with its SignatureMethod replaced; the value stays or becomes an HMAC keyed with the public key. */
    const downgraded = (xml: string, method: string, keyName: string) => {

        const swapped = xml.replace(internals.ecdsaSha256, method);
        if (!method.endsWith('hmac-sha1')) {
            return swapped;
        }

        // Key confusion: an HMAC "keyed" with the verifier's public key, which anyone can compute.
        const publicPem = loadDomainPublicKey(domain.dataDir, domain.domain, keyName === kskName ? 'ksk' : 'rsk').publicKey.export({ type: 'spki', format: 'pem' });
        const signedInfo = /<ds:SignedInfo[\s\S]*<\/ds:SignedInfo>/.exec(swapped)![0];
        return swapped.replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, `<ds:SignatureValue>${createHmac('sha1', publicPem).update(signedInfo).digest('base64')}</ds:SignatureValue>`);
    };

    before(async () => {

        domain = await makeDomain({ env: { IKS_DNS_ENABLED: 'false' } });
        await domain.store.putRegistrations([bob, registrationOf('carol@example.test', parsePublicKey(carol.publicKey.export({ type: 'spki', format: 'pem' }) as string), ['iks-auth'], Date.now())]);
        await domain.store.enqueue([domain.domain]);
        await createUpdater(domain.config, domain.store).drain();
        server = await createGateway(domain.config, { store: domain.store, port: 0 });
        await server.initialize();
        const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
        kskName = ksk.keyName;
        commitment = { sha256: createHash('sha256').update(ksk.spki).digest('hex') };
    });

    after(async () => {

        await server?.stop();
        await domain?.cleanup();
    });

    it('looks bob up through the untampered path (the attacks below start from working traffic)', async () => {

        expect((await lookupClient(injectFetch(server)).lookup('bob@example.test')).selected.map((key) => key.id)).to.equal([bob.keyId]);
        expect((await registerCarol(registrationClient(injectFetch(server)))).answer.outcome).to.equal('accepted');
    });

    it('rejects a key list signed by the RSK under its own name: the RSK has no KSK commitment', async () => {

        const rsk = loadDomainSigningKey(domain.dataDir, domain.domain, 'rsk');
        const forged = renderAndSign({ type: 'KeyList', name: 'bob@example.test', issuedAt: Date.now() - 1000, notAfter: Date.now() + 60_000, keys: [] }, rsk);
        const fetchImpl = tampering((path) => isBobsList(path) ? { body: forged } :
            path === `/ikqs/v1/ksk/${rsk.keyName}` ? { body: rsk.publicKey.export({ type: 'spki', format: 'pem' }) as string, status: 200 } : null);
        const error = await expect(lookupClient(fetchImpl).lookup('bob@example.test')).to.reject(CommitmentMismatch, /no commitment is published/);
        expect((error as unknown as IksError).link).to.equal('ksk');
    });

    it('rejects a key list signed by the RSK but naming the KSK', async () => {

        const rsk = loadDomainSigningKey(domain.dataDir, domain.domain, 'rsk');
        const forged = renderAndSign({ type: 'KeyList', name: 'bob@example.test', issuedAt: Date.now() - 1000, notAfter: Date.now() + 60_000, keys: [] }, { ...rsk, keyName: kskName });
        const error = await expect(lookupClient(tampering((path) => isBobsList(path) ? { body: forged } : null)).lookup('bob@example.test')).to.reject(BadSignature);
        expect((error as unknown as IksError).link).to.equal('signature');
    });

    it('rejects a key list whose SignatureMethod is downgraded to RSA-SHA1, HMAC-SHA1 or DSA-SHA1', async () => {

        for (const method of internals.downgrades) {
            const fetchImpl = tampering((path, body) => isBobsList(path) ? { body: downgraded(body, method, kskName) } : null);
            const error = await expect(lookupClient(fetchImpl).lookup('bob@example.test')).to.reject(BadSignature);
            expect((error as unknown as IksError).link, method).to.equal('signature');
        }
    });

    it('rejects a forged key list that wraps the genuine signed one', async () => {

        const attacker = makeRegistration('bob@example.test', 'ed25519');
        const fetchImpl = tampering((path, body) => {

            if (!isBobsList(path)) {
                return null;
            }

            // The genuine list (signature and all) becomes a child of a forged one naming the attacker's key.
            const genuine = body.replace(/^<\?xml[^>]*\?>/, '');
            return { body: genuine.replace(/<Key id="[0-9a-f]{16}"/, `<Key id="${attacker.keyId}"`).replace(/(<KeyList[^>]*>)/, `$1<Extension>${genuine}</Extension>`) };
        });
        const error = await expect(lookupClient(fetchImpl).lookup('bob@example.test')).to.reject(BadSignature);
        expect((error as unknown as IksError).link).to.equal('signature');
    });

    it('rejects a genuine "no such key" answer served as "no keys" for the key list (downgrade to not found)', async () => {

        // The query service signs "no key 0123456789abcdef for bob" for anyone who asks.
        const noSuchKey = await (await injectFetch(server)(`http://iks.example.test/ikqs/v1/n/${nameToUrlForm('bob@example.test')}/k/0123456789abcdef`)).text();
        expect(noSuchKey).to.contain('no-such-key');
        const fetchImpl = tampering((path) => isBobsList(path) ? { body: noSuchKey, status: 404 } : null);
        const error = await expect(lookupClient(fetchImpl).lookup('bob@example.test')).to.reject(UnexpectedDocument, /says no-such-key \(key 0123456789abcdef\), not no-keys/);
        expect((error as unknown as IksError).link).to.equal('negative-answer');
        expect((await lookupClient(injectFetch(server)).lookup('nobody@example.test')).found).to.be.false();
    });

    it('rejects an RSK-signed negative answer for the key list unless it says "no-keys" about no key', async () => {

        const rsk = loadDomainSigningKey(domain.dataDir, domain.domain, 'rsk');
        for (const [answer, message] of [
            [{ reason: 'no-keys', keyId: bob.keyId }, `says no-keys (key ${bob.keyId}), not no-keys`],
            [{ reason: 'no-such-key' }, 'says no-such-key, not no-keys']
        ] as const) {
            const forged = renderAndSign({ type: 'NegativeAnswer', name: 'bob@example.test', issuedAt: Date.now() - 1000, notAfter: Date.now() + 60_000, ...answer }, rsk);
            const error = await expect(lookupClient(tampering((path) => isBobsList(path) ? { body: forged, status: 404 } : null)).lookup('bob@example.test')).to.reject(UnexpectedDocument);
            expect(error.message).to.contain(message);
            expect((error as unknown as IksError).link).to.equal('negative-answer');
        }
    });

    it('rejects a registration answer signed by the KSK instead of the RSK', async () => {

        const ksk = loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk');
        const fetchImpl = tampering((path, body) => {

            if (path !== '/ikrs/v1') {
                return null;
            }

            // The genuine answer's content re-signed with the KSK: a key the client trusts, for another job.
            const envelope = readAnswerEnvelope(body, 1024 * 1024) as { document: string };
            return { body: renderEnvelope(renderAndSign(readDocument(envelope.document.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')), ksk)) };
        });
        await expect(registerCarol(registrationClient(fetchImpl))).to.reject(BadSignature, /not by the domain's published RSK/);
    });

    it('rejects a registration answer whose SignatureMethod is downgraded', async () => {

        for (const method of internals.downgrades) {
            const fetchImpl = tampering((path, body) => path === '/ikrs/v1' ? { body: downgraded(body, method, 'rsk') } : null);
            await expect(registerCarol(registrationClient(fetchImpl)), method).to.reject(BadSignature);
        }
    });
});
