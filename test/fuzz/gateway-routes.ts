/**
 * The gateway's two untrusted inputs under fuzzing, through server.inject: SOAP bodies
 * on `POST /ikrs/v1` and URL-form names on the lookup routes. Invariants: every request
 * gets an answer (no crash, no unhandled rejection); client errors never answer 5xx —
 * except the 500 that SOAP 1.2's HTTP binding (Part 2 §7.5.2.2) prescribes for
 * env:VersionMismatch and env:MustUnderstand faults; no entity is ever expanded into an
 * answer; heap growth stays coarse-bounded; valid traffic is still served afterwards.
 */
import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';
import * as fc from 'fast-check';

import { createGateway } from '../../lib/gateway';
import { nameToUrlForm } from '../../lib/names';
import { SOAP_MEDIA_TYPE } from '../../lib/registration/soap';
import { createUpdater } from '../../workers/updater';
import { makeDomain, type TestDomain } from '../helpers/domain';
import { makeEntities, registerRequest, type Entity } from '../helpers/registration-requests';
import { fuzzParameters } from './budget';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const internals = {
    soapNamespace: 'http://www.w3.org/2003/05/soap-envelope',
    /** Faults SOAP 1.2's HTTP binding answers with 500 although the sender erred. */
    specifiedServerFaults: /<env:Value>env:(?:VersionMismatch|MustUnderstand)<\/env:Value>/,
    heapGrowthBoundBytes: 256 * 1024 * 1024
};

describe('gateway routes under fuzzing (iks-register SOAP bodies, iks-query names)', () => {

    let domain: TestDomain;
    let server: Hapi.Server;
    let entity: Entity;
    let validBodies: string[];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);

    const postSoap = async (payload: string | Buffer, contentType = `${SOAP_MEDIA_TYPE}; charset=utf-8`) => {

        const response = await server.inject({ method: 'POST', url: '/ikrs/v1', payload, headers: { 'content-type': contentType } });
        return { status: response.statusCode, body: response.payload };
    };

    /** A request that was not a valid one: answered, 4xx or an answer saying why not, never a server failure. */
    const refusedAsClientError = async (payload: string | Buffer) => {

        const { status, body } = await postSoap(payload);
        if (status >= 500) {
            expect(body, `status ${status}`).to.match(internals.specifiedServerFaults);
        }

        expect(body).to.not.contain('root:x:0:0');
        expect(body).to.not.contain('LOLLOLLOL');
        return status;
    };

    before(async () => {

        process.on('unhandledRejection', onUnhandled);
        domain = await makeDomain({ env: { IKS_DNS_ENABLED: 'false', IKS_REGISTER_MAX_KEYS_PER_NAME: '1000' } });
        await domain.store.enqueue([domain.domain]);
        await createUpdater(domain.config, domain.store).drain();
        server = await createGateway(domain.config, { store: domain.store, port: 0 });
        await server.initialize();
        entity = (await makeEntities(domain.store, 1, 'fuzz'))[0]!;
        validBodies = Array.from({ length: 8 }, () => registerRequest(entity).body);
    });

    after(async () => {

        process.off('unhandledRejection', onUnhandled);
        await server?.stop();
        await domain?.cleanup();
    });

    it('accepts the valid requests it mutates (the corpus is valid)', async () => {

        const { status, body } = await postSoap(registerRequest(entity).body);
        expect(status).to.equal(200);
        expect(body).to.contain('<Outcome>accepted</Outcome>');
    });

    it('answers random bodies with a client error', async () => {

        await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes))), async (payload) => {

            expect(await refusedAsClientError(payload)).to.be.below(500);
        }), fuzzParameters(200));
    });

    it('answers mutated valid requests without a server error', async () => {

        const mutation = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }));
        await fc.assert(fc.asyncProperty(mutation, async ([which, at, edit, text]) => {

            const valid = validBodies[which % validBodies.length]!;
            const i = at % valid.length;
            const mutated = edit === 'insert' ? valid.slice(0, i) + text + valid.slice(i) :
                edit === 'delete' ? valid.slice(0, i) + valid.slice(i + text.length) :
                    valid.slice(0, i) + text + valid.slice(i + text.length);
            await refusedAsClientError(mutated);
        }), fuzzParameters(300));
    });

    it('refuses deep nesting, huge attributes and oversized bodies with a client error', async () => {

        const deep = fc.integer({ min: 17, max: 20_000 }).map((depth) => `<env:Envelope xmlns:env="${internals.soapNamespace}"><env:Body>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</env:Body></env:Envelope>`);
        const hugeAttribute = fc.integer({ min: 1024, max: 200_000 }).map((size) => validBodies[0]!.replace('<env:Body>', `<env:Body x="${'A'.repeat(size)}">`));
        const manyAttributes = fc.integer({ min: 50, max: 5000 }).map((count) => validBodies[0]!.replace('<env:Envelope', `<env:Envelope ${Array.from({ length: count }, (_, i) => `a${i}="${i}"`).join(' ')}`));
        await fc.assert(fc.asyncProperty(fc.oneof(deep, hugeAttribute, manyAttributes), async (payload) => {

            const status = await refusedAsClientError(payload);
            expect(status).to.be.within(400, 499);
        }), fuzzParameters(60));
    });

    it('never expands entities: DOCTYPE, internal and external entities are refused', async () => {

        const tricks = [
            '<!DOCTYPE env:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            '<!DOCTYPE lol [<!ENTITY lol "LOL"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
            '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
            '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">',
            '<!doctype x>'
        ];
        const uses = ['&xxe;', '&lol3;', '&lol;', '&undefined;', ''];
        await fc.assert(fc.asyncProperty(fc.constantFrom(...tricks), fc.constantFrom(...uses), fc.nat(), fc.boolean(), async (doctype, use, which, withDeclaration) => {

            const valid = validBodies[which % validBodies.length]!.replace(/^<\?xml[^>]*\?>/, '');
            const payload = `${withDeclaration ? '<?xml version="1.0" encoding="UTF-8"?>' : ''}${doctype}${valid.replace('<Name>', `<Name>${use}`)}`;
            expect(await refusedAsClientError(payload)).to.be.within(400, 499);
        }), fuzzParameters(50));
    });

    it('refuses envelopes in the wrong namespaces without a server error', async () => {

        const namespaces = fc.constantFrom(
            ['http://www.w3.org/2003/05/soap-envelope', 'http://schemas.xmlsoap.org/soap/envelope/'],
            ['http://www.w3.org/2003/05/soap-envelope', ''],
            ['http://www.w3.org/2003/05/soap-envelope', 'http://www.w3.org/2003/05/soap-envelope/'],
            ['urn:', 'urn:x'],
            ['xmlns:env=', 'xmlns:other='],
            ['<env:Body>', '<Body>'],
            ['</env:Body>', '</Body>']
        );
        await fc.assert(fc.asyncProperty(namespaces, fc.nat(), fc.boolean(), async ([from, to], which, everywhere) => {

            const valid = validBodies[which % validBodies.length]!;
            const payload = everywhere ? valid.split(from).join(to) : valid.replace(from, to);
            fc.pre(payload !== valid);
            await refusedAsClientError(payload);
        }), fuzzParameters(60));
    });

    it('answers random URL-form names on the lookup routes with 200, 304, 400 or 404', async () => {

        // Names with characters no document can carry, which random graphemes seldom hold (a 500 before).
        for (const name of ['\uFFFE@example.test', 'a\uFFFF@example.test']) {
            for (const suffix of ['', '/k/0123456789abcdef']) {
                const url = `/ikqs/v1/n/${Buffer.from(name, 'utf8').toString('base64url')}${suffix}`;
                expect((await server.inject(url)).statusCode, url).to.equal(400);
            }
        }

        const base64url = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 400 });
        const encodedName = fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.domain()).map(([entity, domain]) => nameToUrlFormOrRaw(`${entity}@${domain}`));
        const encodedBytes = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64url'));
        const anything = fc.string({ unit: 'binary', maxLength: 200 }).map((text) => encodeURIComponent(text));
        const keyId = fc.oneof(fc.constant(''), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 }), fc.string({ maxLength: 80 }).map((text) => `/${encodeURIComponent(text)}`));
        await fc.assert(fc.asyncProperty(fc.oneof(base64url, encodedName, encodedBytes, anything), keyId, async (name, key) => {

            const url = `/ikqs/v1/n/${name}${key === '' ? '' : key.startsWith('/') ? `/k${key}` : `/k/${key}`}`;
            const response = await server.inject(url);
            expect([200, 304, 400, 404], `${url} → ${response.statusCode}`).to.include(response.statusCode);
        }), fuzzParameters(400));
    });

    it('still serves valid traffic afterwards, with no unhandled rejection and a bounded heap', async () => {

        const heapBefore = process.memoryUsage().heapUsed;
        for (let i = 0; i < 100; ++i) {
            await postSoap(validBodies[i % validBodies.length]!.replace('<Name>', '<Name>&xxe;'));
        }

        const { status, body } = await postSoap(registerRequest(entity).body);
        expect(status).to.equal(200);
        expect(body).to.contain('<Outcome>accepted</Outcome>');
        await createUpdater(domain.config, domain.store).drain();
        expect((await server.inject(`/ikqs/v1/n/${nameToUrlForm(entity.name)}`)).statusCode).to.equal(200);
        expect((await server.inject(`/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`)).statusCode).to.equal(404);
        expect(process.memoryUsage().heapUsed - heapBefore).to.be.below(internals.heapGrowthBoundBytes);
        expect(unhandled).to.equal([]);
    });
});

/** The URL form of a canonicalisable name, else its raw UTF-8 in base64url (what a fuzzer would send). */
function nameToUrlFormOrRaw(name: string): string {

    try {
        return nameToUrlForm(name);
    }
    catch {
        return Buffer.from(name, 'utf8').toString('base64url');
    }
}
