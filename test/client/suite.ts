import { createHash, generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import { IksClient, type ClientOptions, type Commitment } from '../../lib/client';
import { BadSignature, CommitmentMismatch, NameMismatch, SignatureExpired, TransportError, UnexpectedDocument } from '../../lib/errors';
import { keyNameFor, loadDomainPublicKey, loadDomainSigningKey } from '../../lib/keys';
import { createGateway } from '../../lib/gateway';
import { nameToUrlForm } from '../../lib/names';
import type { Store } from '../../lib/store/types';
import { renderAndSign } from '../../lib/xmldsig';
import { createUpdater } from '../../workers/updater';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';

/** Client lookups end to end over HTTP against a real gateway, once per store backend. */
export function clientSuite(lab: ReturnType<typeof Lab.script>, label: string, makeStore?: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {

    const { describe, it, before, after } = lab;

    describe(`IksClient (${label} store)`, () => {

        let domain: TestDomain;
        let server: Hapi.Server;
        let release: () => Promise<void> = async () => {};
        let commitment: Commitment;
        let kskName: string;
        const bobSign = makeRegistration('bob@example.test', 'ed25519', { usage: ['sign'] });
        const bobEncrypt = makeRegistration('bob@example.test', 'x25519', { usage: ['encrypt'] });
        const alice = makeRegistration('alice@example.test', 'rsa');

        const client = (overrides: Partial<ClientOptions> = {}) => new IksClient({
            baseUrl: server.info.uri,
            commitmentFor: async (keyName) => keyName === kskName ? commitment : {},
            ...overrides
        });

        /** A fetch that lets a test rewrite answers, as an attacker on the path would. */
        const tampering = (rewrite: (path: string, body: string, status: number) => { body: string; status?: number } | null): typeof fetch => async (input, init) => {

            const response = await fetch(input, init);
            const body = await response.text();
            const changed = rewrite(new URL(String(input)).pathname, body, response.status);
            return new Response(changed?.body ?? body, { status: changed?.status ?? response.status, headers: response.headers });
        };

        before(async () => {

            const backend = makeStore ? await makeStore() : undefined;
            release = backend?.cleanup ?? release;
            domain = await makeDomain(backend ? { store: backend.store } : {});
            await domain.store.putRegistrations([bobSign, bobEncrypt, alice]);
            await domain.store.enqueue([domain.domain]);
            await createUpdater(domain.config, domain.store).drain();
            server = await createGateway(domain.config, { store: domain.store, port: 0, dnsPort: 0 });
            await server.start();
            const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
            kskName = ksk.keyName;
            commitment = { sha256: createHash('sha256').update(ksk.spki).digest('hex'), sha1: createHash('sha1').update(ksk.spki).digest('hex') };
        });

        after(async () => {

            await server?.stop();
            await domain?.cleanup();
            await release();
        });

        it('returns the verified keys of a name, each link recorded', async () => {

            const result = await client().lookup('bob@example.test');
            expect(result.found).to.be.true();
            expect(result.keys.map((key) => key.id).sort()).to.equal([bobSign.keyId, bobEncrypt.keyId].sort());
            expect(result.selected.map((key) => key.spki).sort()).to.equal([bobSign.spki, bobEncrypt.spki].sort());
            expect(result.links.map((link) => link.link)).to.equal(['query-service', 'ksk', 'signature', 'name', 'validity', 'key', 'key']);
        });

        it('selects keys by algorithm, usage and size', async () => {

            expect((await client().lookup('bob@example.test', { algorithm: 'x25519' })).selected.map((key) => key.id)).to.equal([bobEncrypt.keyId]);
            expect((await client().lookup('bob@example.test', { usage: 'sign' })).selected.map((key) => key.id)).to.equal([bobSign.keyId]);
            expect((await client().lookup('alice@example.test', { minSize: 3072 })).selected).to.equal([]);
            expect((await client().lookup('alice@example.test', { algorithm: ['rsa', 'ec'], minSize: 2048, format: 'spki' })).selected).to.have.length(1);
        });

        it('proves a name has no keys with the RSK-signed negative answer', async () => {

            const result = await client().lookup('nobody@example.test');
            expect(result.found).to.be.false();
            expect(result.links.map((link) => link.link)).to.equal(['query-service', 'ksk', 'rsk', 'signature', 'name', 'validity', 'negative-answer']);
        });

        it('rejects a key list with one byte changed', async () => {

            const fetch = tampering((path, body) => path.endsWith(nameToUrlForm('bob@example.test')) ? { body: body.replace(bobSign.fingerprint, `${bobSign.fingerprint.slice(0, -1)}${bobSign.fingerprint.endsWith('0') ? '1' : '0'}`) } : null);
            expect((await expect(client({ fetch }).lookup('bob@example.test')).to.reject(BadSignature)).link).to.equal('signature');
        });

        it('rejects a key list with an extra key injected next to the signed ones', async () => {

            const fetch = tampering((path, body) => path.endsWith(nameToUrlForm('bob@example.test')) ? { body: body.replace('<ds:Signature', '<Key id="0000000000000000"></Key><ds:Signature') } : null);
            await expect(client({ fetch }).lookup('bob@example.test')).to.reject(BadSignature);
        });

        it('rejects an expired key list', async () => {

            expect((await expect(client({ now: () => Date.now() + 8 * 86400_000 }).lookup('bob@example.test')).to.reject(SignatureExpired)).link).to.equal('validity');
        });

        it('rejects a KSK that does not match its commitment', async () => {

            expect((await expect(client({ commitmentFor: async () => ({ sha256: '00'.repeat(32) }) }).lookup('bob@example.test')).to.reject(CommitmentMismatch, /does not match its DNS commitment/)).link).to.equal('ksk');
            await expect(client({ commitmentFor: async () => ({}) }).lookup('bob@example.test')).to.reject(CommitmentMismatch, /no commitment/);
            await expect(client({ commitmentFor: async () => ({ sha256: commitment.sha256!, sha1: '00'.repeat(20) }) }).lookup('bob@example.test')).to.reject(CommitmentMismatch, /disagree/);
        });

        it('rejects a key list signed by an attacker key published under the KSK\'s name', async () => {

            const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
            const spki = attacker.publicKey.export({ type: 'spki', format: 'der' });
            const forged = renderAndSign({ type: 'KeyList', name: 'bob@example.test', issuedAt: Date.now() - 1000, notAfter: Date.now() + 60_000, keys: [] }, {
                role: 'ksk', keyName: kskName, algorithm: 'ecdsa-p256-sha256', privateKey: attacker.privateKey, publicKey: attacker.publicKey, spki
            });
            const fetch = tampering((path) => path.endsWith(nameToUrlForm('bob@example.test')) ? { body: forged } :
                path.startsWith('/ikqs/v1/ksk/') ? { body: attacker.publicKey.export({ type: 'spki', format: 'pem' }) as string } : null);
            await expect(client({ fetch }).lookup('bob@example.test')).to.reject(CommitmentMismatch);
            expect(keyNameFor('ksk', spki)).to.not.equal(kskName);
        });

        it('rejects the signed key list of another name replayed for this one', async () => {

            const aliceList = await (await fetch(`${server.info.uri}/ikqs/v1/n/${nameToUrlForm('alice@example.test')}`)).text();
            const fetch_ = tampering((path) => path.endsWith(nameToUrlForm('bob@example.test')) ? { body: aliceList } : null);
            expect((await expect(client({ fetch: fetch_ }).lookup('bob@example.test')).to.reject(NameMismatch)).link).to.equal('name');
        });

        it('rejects a key document swapped for another key of the same name', async () => {

            const other = await (await fetch(`${server.info.uri}/ikqs/v1/n/${nameToUrlForm('bob@example.test')}/k/${bobEncrypt.keyId}`)).text();
            const fetch_ = tampering((path) => path.endsWith(`/k/${bobSign.keyId}`) ? { body: other } : null);
            expect((await expect(client({ fetch: fetch_ }).lookup('bob@example.test', { keyId: bobSign.keyId })).to.reject(UnexpectedDocument, /does not match the signed key list/)).link).to.equal('key');
        });

        it('rejects a signed document of another type where the key list belongs, and a tampered key document', async () => {

            const keyDocument = await (await fetch(`${server.info.uri}/ikqs/v1/n/${nameToUrlForm('bob@example.test')}/k/${bobSign.keyId}`)).text();
            const swapped = tampering((path) => path.endsWith(nameToUrlForm('bob@example.test')) ? { body: keyDocument } : null);
            expect((await expect(client({ fetch: swapped }).lookup('bob@example.test')).to.reject(UnexpectedDocument)).link).to.equal('document');
            const tamperedKey = tampering((path, body) => path.endsWith(`/k/${bobSign.keyId}`) ? { body: body.replace('<Usage>sign</Usage>', '<Usage>encrypt</Usage>') } : null);
            expect((await expect(client({ fetch: tamperedKey }).lookup('bob@example.test', { keyId: bobSign.keyId })).to.reject(BadSignature)).link).to.equal('key');
        });

        it('accepts a base URL with or without a trailing slash', async () => {

            expect((await client({ baseUrl: `${server.info.uri}/` }).lookup('bob@example.test')).found).to.be.true();
        });

        it('rejects a negative answer signed by the KSK instead of the RSK', async () => {

            const ksk = loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk');
            const forged = renderAndSign({ type: 'NegativeAnswer', name: 'bob@example.test', issuedAt: Date.now() - 1000, notAfter: Date.now() + 60_000, reason: 'no-keys' }, ksk);
            const fetch_ = tampering((path) => path.endsWith(nameToUrlForm('bob@example.test')) ? { body: forged, status: 404 } : null);
            expect((await expect(client({ fetch: fetch_ }).lookup('bob@example.test')).to.reject(UnexpectedDocument, /not the domain's published RSK/)).link).to.equal('rsk');
        });

        it('rejects an unsigned answer', async () => {

            const fetch_ = tampering((path) => path.endsWith(nameToUrlForm('bob@example.test')) ? { body: '<KeyList/>' } : null);
            expect((await expect(client({ fetch: fetch_ }).lookup('bob@example.test')).to.reject(BadSignature, /names no signing key/)).link).to.equal('signature');
        });

        it('rejects a published KSK that is not a key', async () => {

            const fetch_ = tampering((path) => path.startsWith('/ikqs/v1/ksk/') ? { body: 'not a key' } : null);
            expect((await expect(client({ fetch: fetch_ }).lookup('bob@example.test')).to.reject(BadSignature, /is not a public key/)).link).to.equal('ksk');
        });

        it('reports transport failures as such', async () => {

            expect((await expect(client({ baseUrl: 'http://127.0.0.1:1' }).lookup('bob@example.test')).to.reject(TransportError, /cannot reach/)).link).to.equal('query-service');
            const fetch_ = tampering(() => ({ body: 'x'.repeat(1024 * 1024 + 1) }));
            await expect(client({ fetch: fetch_ }).lookup('bob@example.test')).to.reject(TransportError, /larger than/);
            const teapot = tampering(() => ({ body: 'no', status: 418 }));
            await expect(client({ fetch: teapot }).lookup('bob@example.test')).to.reject(TransportError, /answered 418/);
        });
    });
}
