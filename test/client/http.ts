import * as Crypto from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { IksClient, type Discovery, type Endpoint } from '../../lib/client';
import { RegistrationClient } from '../../lib/client/registration';
import { BadSignature, TransportError, type IksError } from '../../lib/errors';

export const lab = Lab.script();
const { describe, it } = lab;

const internals = {
    limit: 1024 * 1024,
    chunk: 64 * 1024,
    baseUrl: 'http://iks.example.test'
};

/** A body that keeps producing 64 KiB chunks (up to 4 MiB, so a client that buffers it all still ends), counting the pulls. */
function endless() {

    const state = { pulls: 0, cancelled: false };
    const stream = new ReadableStream<Uint8Array>({
        pull: (controller) => {

            if (++state.pulls > 64) {
                controller.close();
                return;
            }

            controller.enqueue(new Uint8Array(internals.chunk).fill(0x61));
        },
        cancel: () => {

            state.cancelled = true;
        }
    });

    return { state, stream };
}

/** A body whose connection is reset after its first chunk. */
function breaking(): ReadableStream<Uint8Array> {

    let pulls = 0;
    return new ReadableStream<Uint8Array>({
        pull: (controller) => {

            if (++pulls === 1) {
                controller.enqueue(new TextEncoder().encode('<KeyList xmlns="urn:iks:xml:1">'));
                return;
            }

            controller.error(new Error('connection reset by peer'));
        }
    });
}

/** A fetch that answers every request with `answer(url)`, recording the URLs asked for. */
function fetchDouble(answer: (url: URL) => Response) {

    const urls: string[] = [];
    const fetchImpl: typeof fetch = async (input) => {

        const url = new URL(String(input));
        urls.push(url.href);
        return answer(url);
    };

    return { urls, fetchImpl };
}

/** Discovery that finds two targets of any service; commitments are never reached here. */
function twoTargets(): Discovery {

    return {
        endpoints: async function* (): AsyncIterable<Endpoint> {

            yield { baseUrl: 'http://first.example.test', link: { link: 'address', detail: 'first' } };
            yield { baseUrl: 'http://second.example.test', link: { link: 'address', detail: 'second' } };
        },
        commitment: async () => ({})
    };
}

const lookup = (fetchImpl: typeof fetch, options: { discovery?: Discovery } = {}) => new IksClient({ ...(options.discovery ? { discovery: options.discovery } : { baseUrl: internals.baseUrl }), commitmentFor: async () => ({}), fetch: fetchImpl }).lookup('bob@example.test');

const register = (fetchImpl: typeof fetch, options: { discovery?: Discovery } = {}) => {

    const client = new RegistrationClient({ ...(options.discovery ? { discovery: options.discovery } : { baseUrl: internals.baseUrl }), commitmentFor: async () => ({}), fetch: fetchImpl });
    const publicPem = Crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    return client.register('bob@example.test', { container: publicPem, usage: ['sign'] }, { authKey: Crypto.generateKeyPairSync('ed25519').privateKey });
};

describe('client answers over HTTP', () => {

    it('stops reading an endless key list soon after 1 MiB', async () => {

        const { state, stream } = endless();
        const { fetchImpl } = fetchDouble(() => new Response(stream, { status: 200 }));
        const error = await expect(lookup(fetchImpl)).to.reject(TransportError, /is larger than 1048576 bytes/);
        expect((error as IksError).link).to.equal('query-service');

        // 16 chunks make 1 MiB: the 17th is refused, at most a couple more were pulled ahead.
        expect(state.pulls).to.be.between(17, 20);
        const pulls = state.pulls;
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(state.pulls).to.equal(pulls);
        expect(state.cancelled).to.be.true();
    });

    it('stops reading an endless registration answer soon after 1 MiB', async () => {

        const { state, stream } = endless();
        const { fetchImpl, urls } = fetchDouble(() => new Response(stream, { status: 200 }));
        const error = await expect(register(fetchImpl)).to.reject(TransportError, /is larger than 1048576 bytes/);
        expect((error as IksError).link).to.equal('registration-service');
        expect(urls).to.equal([`${internals.baseUrl}/ikrs/v1`]);
        expect(state.pulls).to.be.between(17, 20);
        expect(state.cancelled).to.be.true();
    });

    it('refuses an answer announced larger than 1 MiB without reading it', async () => {

        const { state, stream } = endless();
        const { fetchImpl } = fetchDouble(() => new Response(stream, { status: 200, headers: { 'content-length': String(internals.limit + 1) } }));
        await expect(lookup(fetchImpl)).to.reject(TransportError, /is larger than 1048576 bytes/);
        // The stream asks for its first chunk on its own, before anyone reads.
        expect(state.pulls).to.be.at.most(1);
        expect(state.cancelled).to.be.true();
    });

    it('reads an answer without a body as empty', async () => {

        await expect(lookup(fetchDouble(() => new Response(null, { status: 204 })).fetchImpl)).to.reject(TransportError, /answered 204: $/);
    });

    it('reports a lookup answer that breaks off as a transport error, after trying the next target', async () => {

        const error = await expect(lookup(fetchDouble(() => new Response(breaking(), { status: 200 })).fetchImpl)).to.reject(TransportError, /cannot reach the query service of example\.test: the answer from http:\/\/iks\.example\.test\/ikqs\/v1\/n\/\S+ broke off: connection reset by peer/);
        expect((error as IksError).link).to.equal('query-service');
        expect((error as IksError).code).to.equal('TRANSPORT');

        const { fetchImpl, urls } = fetchDouble((url) => url.hostname === 'first.example.test' ? new Response(breaking(), { status: 200 }) : new Response('no', { status: 418 }));
        await expect(lookup(fetchImpl, { discovery: twoTargets() })).to.reject(TransportError, /answered 418/);
        expect(urls.map((url) => new URL(url).hostname)).to.equal(['first.example.test', 'second.example.test']);
    });

    it('reports a registration answer that breaks off as a transport error, after trying the next target', async () => {

        const error = await expect(register(fetchDouble(() => new Response(breaking(), { status: 200 })).fetchImpl)).to.reject(TransportError, /cannot reach the registration-service of example\.test: the answer from http:\/\/iks\.example\.test\/ikrs\/v1 broke off: connection reset by peer/);
        expect((error as IksError).link).to.equal('registration-service');

        const { fetchImpl, urls } = fetchDouble((url) => url.hostname === 'first.example.test' ? new Response(breaking(), { status: 200 }) : new Response('busy', { status: 503 }));
        await expect(register(fetchImpl, { discovery: twoTargets() })).to.reject(TransportError, /POST \/ikrs\/v1 answered 503: busy/);
        expect(urls).to.equal(['http://first.example.test/ikrs/v1', 'http://second.example.test/ikrs/v1']);
    });

    it('reports a 404 that is no IKS negative answer as a transport error, quoting it', async () => {

        for (const body of ['{"statusCode":404,"error":"Not Found","message":"Not Found"}', '<!DOCTYPE html><html><body>Not Found</body></html>', '<KeyList xmlns="urn:iks:xml:1"/>', '']) {
            const error = await expect(lookup(fetchDouble(() => new Response(body, { status: 404 })).fetchImpl), body).to.reject(TransportError);
            expect(error.message).to.equal(`GET /ikqs/v1/n/Ym9iQGV4YW1wbGUudGVzdA answered 404 without an IKS negative answer: ${body}`);
            expect((error as IksError).link).to.equal('query-service');
        }

        const long = `<p>${'x'.repeat(300)}</p>`;
        const error = await expect(lookup(fetchDouble(() => new Response(long, { status: 404 })).fetchImpl)).to.reject(TransportError);
        expect(error.message).to.endWith(`: ${long.slice(0, 200)}…`);

        // A NegativeAnswer that is not signed is still a verification failure, not a transport one.
        const unsigned = await expect(lookup(fetchDouble(() => new Response('<NegativeAnswer xmlns="urn:iks:xml:1"/>', { status: 404 })).fetchImpl)).to.reject(BadSignature, /names no signing key/);
        expect((unsigned as IksError).link).to.equal('signature');
    });
});
