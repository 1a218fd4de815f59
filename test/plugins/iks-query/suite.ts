import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import { StoreUnavailable } from '../../../lib/errors';
import { loadDomainPublicKey } from '../../../lib/keys';
import { nameToUrlForm } from '../../../lib/names';
import type { Store } from '../../../lib/store/types';
import type { NegativeAnswerDocument } from '../../../lib/xml/types';
import { verifyDocument } from '../../../lib/xmldsig';
import { plugin as iksQuery, type IksQueryOptions } from '../../../plugins/iks-query';
import { createUpdater, entityTag } from '../../../workers/updater';
import { makeDomain, makeRegistration, overrideStore, runTool, tempFile, type TestDomain } from '../../helpers/domain';

/** The lookup suite, run once per store backend (index.ts: embedded, redis.ts: Redis). */
export function lookupSuite(lab: ReturnType<typeof Lab.script>, label: string, makeStore?: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {

    const { describe, it, before, after } = lab;

    describe(`iks-query (${label} store)`, () => {

        let domain: TestDomain;
        let server: Hapi.Server;
        let release: () => Promise<void> = async () => {};
        const bob = makeRegistration('bob@example.test', 'ec');
        const bobUrl = `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`;

        const serverWith = async (store: Store, extra: Partial<IksQueryOptions> = {}, prefix?: string) => {

            const instance = Hapi.server();
            await instance.register({ plugin: iksQuery, options: { domain: domain.domain, dataDir: domain.dataDir, store, ...extra } }, prefix ? { routes: { prefix } } : {});
            return instance;
        };

        before(async () => {

            const backend = makeStore ? await makeStore() : undefined;
            release = backend?.cleanup ?? release;
            domain = await makeDomain(backend ? { store: backend.store } : {});
            await domain.store.putRegistrations([bob]);
            await domain.store.enqueue([domain.domain]);
            await createUpdater(domain.config, domain.store).drain();
            server = await serverWith(domain.store);
        });

        after(async () => {

            await domain?.cleanup();
            await release();
        });

        it('answers a known name with the KSK-signed key list, cacheable until it expires', async () => {

            const res = await server.inject(bobUrl);
            expect(res.statusCode).to.equal(200);
            expect(res.headers['content-type']).to.equal('application/xml; charset=utf-8');
            expect(res.headers.etag).to.match(/^"[A-Za-z0-9_-]+"$/);
            const maxAge = Number(/max-age=(\d+)/.exec(res.headers['cache-control'] as string)![1]);
            expect(maxAge).to.be.above(0).and.at.most(3600);
            expect(res.payload).to.contain('bob@example.test');
            expect(res.payload).to.contain(bob.fingerprint);
        });

        it('answers 304 when If-None-Match carries the current ETag', async () => {

            const first = await server.inject(bobUrl);
            const second = await server.inject({ url: bobUrl, headers: { 'if-none-match': first.headers.etag as string } });
            expect(second.statusCode).to.equal(304);
            expect(second.payload).to.equal('');

            // "*" matches any current representation (RFC 9110 §13.1.2).
            const any = await server.inject({ url: bobUrl, headers: { 'if-none-match': '*' } });
            expect(any.statusCode).to.equal(304);
            expect(any.payload).to.equal('');
            expect(any.headers.etag).to.equal(first.headers.etag);
        });

        it('answers a Range request with the whole signed document (a part of one verifies nothing)', async () => {

            const whole = await server.inject(bobUrl);
            for (const range of ['bytes=0-9', 'bytes=99999-']) {
                const res = await server.inject({ url: bobUrl, headers: { range } });
                expect(res.statusCode, range).to.equal(200);
                expect(res.payload).to.equal(whole.payload);
                expect(res.headers['accept-ranges']).to.not.exist();
            }

            for (const url of ['/ikqs/v1/rsk', '/ikqs/v1/enc']) {
                expect((await server.inject({ url, headers: { range: 'bytes=0-9' } })).statusCode, url).to.equal(200);
            }
        });

        it('serves each key with its material', async () => {

            const res = await server.inject(`${bobUrl}/k/${bob.keyId}`);
            expect(res.statusCode).to.equal(200);
            expect(res.payload).to.contain(bob.spki);
        });

        it('answers an unknown name with an RSK-signed negative answer that xmlsec1 verifies', async () => {

            const res = await server.inject(`/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`);
            expect(res.statusCode).to.equal(404);
            expect(res.headers.etag).to.equal(entityTag(res.payload));
            const rsk = loadDomainPublicKey(domain.dataDir, domain.domain, 'rsk');
            const negative = verifyDocument(res.payload, { publicKey: rsk.publicKey, keyName: rsk.keyName, type: 'NegativeAnswer', name: 'nobody@example.test' }) as NegativeAnswerDocument;
            expect(negative.reason).to.equal('no-keys');
            expect(negative.notAfter - negative.issuedAt).to.equal(300_000);
            const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', tempFile('rsk.pem', rsk.pem), tempFile('nobody.xml', res.payload)]);
            expect(verified.status, verified.output).to.equal(0);
        });

        it('lets no cache keep a negative answer past its NotAfter (issued at the start of its second)', async () => {

            // Away from a second's edge, so the answer is issued in the second the request starts.
            while (Date.now() % 1000 < 100 || Date.now() % 1000 > 800) {
                await new Promise((resolve) => setTimeout(resolve, 20));
            }

            const sent = Date.now();
            const res = await server.inject(`/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`);
            const rsk = loadDomainPublicKey(domain.dataDir, domain.domain, 'rsk');
            const negative = verifyDocument(res.payload, { publicKey: rsk.publicKey, keyName: rsk.keyName, type: 'NegativeAnswer', name: 'nobody@example.test' }) as NegativeAnswerDocument;
            const maxAge = Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))![1]);
            expect(maxAge).to.be.above(0);
            expect(sent + maxAge * 1000).to.be.at.most(negative.notAfter);
        });

        it('answers an unknown key id with a signed negative naming the key', async () => {

            const res = await server.inject(`${bobUrl}/k/0123456789abcdef`);
            expect(res.statusCode).to.equal(404);
            expect(res.headers.etag).to.equal(entityTag(res.payload));
            const rsk = loadDomainPublicKey(domain.dataDir, domain.domain, 'rsk');
            const negative = verifyDocument(res.payload, { publicKey: rsk.publicKey, keyName: rsk.keyName, type: 'NegativeAnswer', name: 'bob@example.test' }) as NegativeAnswerDocument;
            expect(negative.reason).to.equal('no-such-key');
            expect(negative.keyId).to.equal('0123456789abcdef');
        });

        const badRequests: Array<[string, string, RegExp]> = [
            ['padded base64', `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}==`, /not base64url/],
            ['a non-canonical name', `/ikqs/v1/n/${Buffer.from('bob@EXAMPLE.test').toString('base64url')}`, /not canonical; use "bob@example.test"/],
            ['a name without @', `/ikqs/v1/n/${Buffer.from('bob').toString('base64url')}`, /no "@"/],
            ['an over-long name', `/ikqs/v1/n/${'A'.repeat(3000)}`, /name is longer than 2048 characters/],
            ['a malformed key id', `${bobUrl}/k/XYZ`, /key id must be 16 lowercase hex digits/]
        ];

        for (const [what, url, message] of badRequests) {
            it(`answers 400 with the reason for ${what}`, async () => {

                const res = await server.inject(url);
                expect(res.statusCode).to.equal(400);
                expect(res.result).to.include({ error: 'Bad Request' });
                expect((res.result as { message: string }).message).to.match(message);
            });
        }

        it('does not answer for a domain it does not serve', async () => {

            const res = await server.inject(`/ikqs/v1/n/${nameToUrlForm('bob@other.test')}`);
            expect(res.statusCode).to.equal(404);
            expect((res.result as { message: string }).message).to.contain('does not serve the domain "other.test"');
        });

        it('publishes the KSK by name and the RSK and encryption key as signed documents', async () => {

            const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
            const res = await server.inject(`/ikqs/v1/ksk/${ksk.keyName}`);
            expect(res.statusCode).to.equal(200);
            expect(res.payload).to.equal(ksk.pem);
            expect(res.headers.etag).to.equal(entityTag(ksk.pem));
            const again = await server.inject({ url: `/ikqs/v1/ksk/${ksk.keyName}`, headers: { 'if-none-match': res.headers.etag as string } });
            expect(again.statusCode).to.equal(304);
            expect((await server.inject('/ikqs/v1/ksk/ksk-000000000000')).statusCode).to.equal(404);

            for (const slot of ['rsk', 'enc']) {
                const doc = await server.inject(`/ikqs/v1/${slot}`);
                expect(doc.statusCode).to.equal(200);
                expect(verifyDocument(doc.payload, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'PublishedKey', name: domain.domain })).to.include({ role: slot });
            }
        });

        it('reports liveness and readiness', async () => {

            expect((await server.inject('/healthz')).result).to.equal({ status: 'ok' });
            expect((await server.inject('/readyz')).result).to.equal({ status: 'ready' });
        });

        it('never serves an expired signature: answers 503 and asks for a re-sign', async () => {

            const stale = { ...(await domain.store.getDocument('bob@example.test', 'list'))!, notAfter: Date.now() - 1 };
            const enqueued: string[][] = [];
            const store: Store = overrideStore(domain.store, {
                getDocument: async () => stale,
                enqueue: async (names: string[]) => enqueued.push(names)
            });

            const staleServer = await serverWith(store);
            const res = await staleServer.inject(bobUrl);
            expect(res.statusCode).to.equal(503);
            expect(res.headers['retry-after']).to.equal('1');
            expect(enqueued).to.equal([['bob@example.test']]);
            expect((await staleServer.inject('/ikqs/v1/rsk')).statusCode).to.equal(503);
        });

        it('answers 503 when the store is unavailable', async () => {

            const store: Store = overrideStore(domain.store, {
                getDocument: () => Promise.reject(new StoreUnavailable('connection refused')),
                ping: () => Promise.reject(new StoreUnavailable('connection refused')),
                enqueue: () => Promise.reject(new StoreUnavailable('connection refused'))
            });

            const downServer = await serverWith(store);
            const res = await downServer.inject(bobUrl);
            expect(res.statusCode).to.equal(503);
            expect((res.result as { message: string }).message).to.equal('key store unavailable; retry shortly');
            expect((await downServer.inject('/readyz')).statusCode).to.equal(503);
            expect((await downServer.inject('/ikqs/v1/enc')).statusCode).to.equal(503);
        });

        it('hides unexpected store errors behind a plain 500', async () => {

            const store: Store = overrideStore(domain.store, { getDocument: () => Promise.reject(new Error('secret internal detail'))

        });
            const res = await (await serverWith(store)).inject(bobUrl);
            expect(res.statusCode).to.equal(500);
            expect(res.payload).to.not.contain('secret internal detail');
        });

        it('mounts under a route prefix next to the host application\'s routes', async () => {

            const host = await serverWith(domain.store, {}, '/keys');
            host.route({ method: 'GET', path: '/ikqs/v1/n/{name}', handler: () => 'host route' });
            expect((await host.inject(`/keys${bobUrl}`)).statusCode).to.equal(200);
            expect((await host.inject(bobUrl)).payload).to.equal('host route');
        });
    });
}
