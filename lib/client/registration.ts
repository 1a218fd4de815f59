/**
 * The registration client (paper §5.2 steps 2–3, §5.3): builds an authenticated SOAP
 * request, sends it, and reports success only after verifying the answer: the answer
 * must be signed by the domain's RSK, the RSK must be published KSK-signed, the KSK
 * must match its DNS commitment (the same chain as lookups, paper §5.1 step 4), and
 * the answer must name the digest of the very request that was sent.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

import { BadSignature, RegistrationRefused, SoapFaultReceived, TransportError, UnexpectedDocument } from '../errors';
import { parsePublicKey, sha256Hex, spkiDer } from '../keys';
import { parseName } from '../names';
import { sealPassword } from '../registration/password';
import { answeredDigest, readAssertion, renderRequest, requestDigest, type Authentication, type OperationContent, type RegistrationRequest } from '../registration/request';
import { signRequestDigest } from '../registration/signatures';
import { readAnswerEnvelope, renderEnvelope, SOAP_MEDIA_TYPE } from '../registration/soap';
import { parseXml } from '../xml';
import type { PublishedKeyDocument, RegistrationAnswerDocument } from '../xml/types';
import { verifyDocument } from '../xmldsig';
import type { Endpoint, IksServiceLabel } from './discovery';
import { EndpointUnreachable, readBody } from './http';
import { claimedSigner } from './index';
import { assertTrustSources, fetchVerifiedKsk, type ClientTrustOptions } from './ksk';
import { markLink, type LinkRecorder, type VerifiedLink } from './links';

export interface RegistrationClientOptions extends ClientTrustOptions {
    /** Per-request timeout, ms (default 10 000: password hashing takes a moment). */
    readonly timeout?: number;
}

/** How a request authenticates (paper §5.2). */
export type Credentials =
    /** Username/password; `user` defaults to the name the request is about. */
    | { readonly password: string; readonly user?: string }
    /** A private key whose public half is registered with usage iks-auth; `signer` defaults to the name. */
    | { readonly authKey: KeyObject; readonly signer?: string }
    /** A third-party assertion (the XML of an Assertion element). */
    | { readonly assertion: string };

export interface RegistrationReceipt {
    /** The verified, accepted answer. */
    readonly answer: RegistrationAnswerDocument;
    readonly links: readonly VerifiedLink[];
}

interface PublishedKey {
    readonly keyName: string;
    readonly publicKey: KeyObject;
}

/** An endpoint that answered, with the links that found it (replayed when it is reused). */
interface KnownEndpoint {
    readonly baseUrl: string;
    readonly links: readonly VerifiedLink[];
}

/** The links of one operation, each recorded once (discovery and commitment both validate the DNSKEY RRset). */
interface Trail {
    readonly links: VerifiedLink[];
    readonly record: LinkRecorder;
}

function newTrail(also?: LinkRecorder): Trail {

    const links: VerifiedLink[] = [];
    return {
        links,
        record: (link) => {

            if (!links.some((known) => known.link === link.link && known.detail === link.detail)) {
                links.push(link);
            }

            also?.(link);
        }
    };
}

const internals = {
    maxBody: 1024 * 1024,
    refusals: {
        'authentication-failed': 'AUTHENTICATION_FAILED',
        'not-authorized': 'NOT_AUTHORIZED',
        locked: 'LOCKED_OUT',
        refused: 'REQUEST_REFUSED'
    } as const,
    serviceLink: { '_ikqs._tcp': 'query-service', '_ikrs._tcp': 'registration-service' } as const
};

export class RegistrationClient {

    readonly #options: RegistrationClientOptions;
    readonly #fetch: typeof fetch;
    readonly #now: () => number;
    readonly #published = new Map<string, PublishedKey>();
    readonly #endpoints = new Map<string, KnownEndpoint>();

    constructor(options: RegistrationClientOptions) {

        assertTrustSources(options, 'the registration client');

        this.#options = options;
        this.#fetch = options.fetch ?? fetch;
        this.#now = options.now ?? Date.now;
    }

    /**
     * Registers `key` (PEM or OpenSSH text) for `name`. Security: the key is parsed here
     * first, so a private key (or text that is no public key) is refused with InvalidKey
     * before anything is sent; the service would refuse it too, but only after it crossed
     * the network.
     */
    async register(name: string, key: { readonly container: string; readonly usage: readonly string[]; readonly expiresAt?: number }, credentials: Credentials): Promise<RegistrationReceipt> {

        parsePublicKey(key.container);
        return await this.#send({ operation: 'register', ...this.#head(name), container: key.container, usage: key.usage, ...(key.expiresAt !== undefined ? { expiresAt: key.expiresAt } : {}) }, credentials);
    }

    /** Revokes key `keyId` of `name` (paper §5.3). */
    async revoke(name: string, keyId: string, reason: string | undefined, credentials: Credentials): Promise<RegistrationReceipt> {

        return await this.#send({ operation: 'revoke', ...this.#head(name), keyId, ...(reason !== undefined ? { reason } : {}) }, credentials);
    }

    /** Lists every key registered for `name`, whatever its state. */
    async listMyKeys(name: string, credentials: Credentials): Promise<RegistrationReceipt> {

        return await this.#send({ operation: 'list', ...this.#head(name) }, credentials);
    }

    #head(name: string): { name: string; timestamp: number; nonce: string } {

        const now = this.#now();
        return { name: parseName(name).name, timestamp: now - now % 1000, nonce: randomBytes(18).toString('base64url') };
    }

    async #send(content: OperationContent, credentials: Credentials): Promise<RegistrationReceipt> {

        const { domain } = parseName(content.name);
        const trail = newTrail();
        const digest = requestDigest(content);
        const request = { ...content, authentication: await this.#authentication(content, digest, credentials, domain, trail) } as RegistrationRequest;
        const { body } = await this.#http('_ikrs._tcp', domain, trail, 'POST', '/ikrs/v1', renderEnvelope(renderRequest(request)));

        const envelope = readAnswerEnvelope(body, internals.maxBody);
        if ('fault' in envelope) {
            throw new SoapFaultReceived(envelope.fault.code, envelope.fault.subcode, envelope.fault.reason);
        }

        const rsk = await this.#publishedKey('rsk', domain, trail);
        if (claimedSigner(envelope.document) !== rsk.keyName) {
            throw new BadSignature(`the answer is signed by "${claimedSigner(envelope.document)}", not by the domain's published RSK "${rsk.keyName}"`);
        }

        const answer = verifyDocument(envelope.document, { publicKey: rsk.publicKey, keyName: rsk.keyName, type: 'RegistrationAnswer', name: content.name, now: this.#now() }) as RegistrationAnswerDocument;
        // Names this request with this authentication: a copy spoiled on the way is another request.
        if (answer.requestDigest !== answeredDigest(request, digest).toString('hex') || answer.operation !== content.operation) {
            throw new UnexpectedDocument(`the signed answer is about another request (digest ${answer.requestDigest.slice(0, 16)}…)`);
        }

        trail.record({ link: 'answer', detail: `RSK-signed ${answer.outcome} for request ${answer.requestDigest.slice(0, 16)}…` });
        if (answer.outcome !== 'accepted') {
            throw new RegistrationRefused(internals.refusals[answer.outcome], answer.reason ?? answer.outcome, {
                ...(answer.acceptedMethods !== undefined ? { acceptedMethods: answer.acceptedMethods } : {}),
                ...(answer.retryAt !== undefined ? { retryAt: answer.retryAt } : {})
            });
        }

        return { answer, links: trail.links };
    }

    async #authentication(content: OperationContent, digest: Buffer, credentials: Credentials, domain: string, trail: Trail): Promise<Authentication> {

        if ('password' in credentials) {
            // The enc key is trusted only through the KSK chain, like any other answer.
            const enc = await this.#publishedKey('enc', domain, trail);
            return {
                method: 'password',
                user: credentials.user ?? content.name,
                encKey: enc.keyName,
                ciphertext: sealPassword(enc.publicKey, { digest, timestamp: content.timestamp, password: credentials.password })
            };
        }

        if ('authKey' in credentials) {
            const publicKey = createPublicKey(credentials.authKey);
            return {
                method: 'user-key',
                signer: credentials.signer ?? content.name,
                keyId: sha256Hex(spkiDer(publicKey)).slice(0, 16),
                signature: signRequestDigest(credentials.authKey, digest)
            };
        }

        return { method: 'assertion', assertion: readAssertion(parseXml(credentials.assertion, { maxBytes: 16 * 1024, maxDepth: 4 })) };
    }

    /** The domain's RSK or enc key, from its KSK-signed PublishedKey document; the KSK checked against DNS. */
    async #publishedKey(role: 'rsk' | 'enc', domain: string, trail: Trail): Promise<PublishedKey> {

        const cached = this.#published.get(`${role}@${domain}`);
        if (cached) {
            return cached;
        }

        const get = async (path: string) => (await this.#http('_ikqs._tcp', domain, trail, 'GET', path)).body;
        const body = await get(`/ikqs/v1/${role}`);
        const ksk = await fetchVerifiedKsk(claimedSigner(body), domain, {
            fetchPem: get,
            commitment: (keyName, zone) => this.#options.commitmentFor ? this.#options.commitmentFor(keyName, zone) : this.#options.discovery!.commitment(keyName, zone, trail.record)
        }, trail.record);
        const document = verifyDocument(body, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'PublishedKey', name: domain, now: this.#now() }) as PublishedKeyDocument;
        if (document.role !== role) {
            throw new UnexpectedDocument(`GET /ikqs/v1/${role} published the ${document.role} key`);
        }

        const published = { keyName: document.keyName, publicKey: createPublicKey({ key: Buffer.from(document.key.spki, 'base64'), format: 'der', type: 'spki' }) };
        trail.record({ link: role, detail: `${document.keyName}, KSK-signed` });
        this.#published.set(`${role}@${domain}`, published);
        return published;
    }

    /** Where `service` of `domain` is: the given base URL, or its validated SRV targets (RFC 2782 order). */
    async *#candidates(service: IksServiceLabel, domain: string, trail: Trail): AsyncIterable<Endpoint> {

        if (this.#options.baseUrl !== undefined) {
            yield { baseUrl: this.#options.baseUrl, link: { link: internals.serviceLink[service], detail: `${this.#options.baseUrl} (given; SRV discovery skipped)` } };
            return;
        }

        yield* this.#options.discovery!.endpoints(domain, trail.record, service);
    }

    /**
     * One HTTP exchange with `service` of `domain`: the endpoint that answered last, else
     * each candidate in turn until one can be reached (an HTTP answer of any status counts).
     */
    async #http(service: IksServiceLabel, domain: string, trail: Trail, method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; body: string }> {

        const key = `${service}@${domain}`;
        const known = this.#endpoints.get(key);
        if (known) {
            const answer = await this.#exchange(service, known.baseUrl, method, path, body).catch((error: unknown) => error);
            if (!(answer instanceof EndpointUnreachable)) {
                known.links.forEach(trail.record);
                return this.#checked(service, method, path, answer);
            }

            this.#endpoints.delete(key);
        }

        const failures: string[] = [];
        const found = newTrail(trail.record);
        for await (const endpoint of this.#candidates(service, domain, found)) {
            const answer = await this.#exchange(service, endpoint.baseUrl, method, path, body).catch((error: unknown) => error);
            if (answer instanceof EndpointUnreachable) {
                failures.push(answer.message);
                continue;
            }

            found.record(endpoint.link);
            this.#endpoints.set(key, { baseUrl: endpoint.baseUrl, links: [...found.links] });
            return this.#checked(service, method, path, answer);
        }

        throw markLink(new TransportError(failures.length > 0 ?
            `cannot reach the ${internals.serviceLink[service]} of ${domain}: ${failures.join('; ')}` :
            `cannot reach the ${internals.serviceLink[service]} of ${domain}: no SRV target has an address`), internals.serviceLink[service]);
    }

    /** Rethrows a failed exchange; refuses an answer that is not what `method` expects. */
    #checked(service: IksServiceLabel, method: 'GET' | 'POST', path: string, answer: unknown): { status: number; body: string } {

        if (answer instanceof Error) {
            throw answer;
        }

        const { status, soap, body } = answer as { status: number; soap: boolean; body: string };
        // Registration answers and faults come with 200/400/429/500/503; lookups of keys with 200.
        if (method === 'GET' ? status !== 200 : !soap) {
            throw markLink(new TransportError(`${method} ${path} answered ${status}: ${body.slice(0, 200)}`), internals.serviceLink[service]);
        }

        return { status, body };
    }

    async #exchange(service: IksServiceLabel, baseUrl: string, method: 'GET' | 'POST', path: string, body: string | undefined): Promise<{ status: number; soap: boolean; body: string }> {

        const url = new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
        let response: Response;
        try {
            response = await this.#fetch(url, {
                method,
                ...(body !== undefined ? { body, headers: { 'content-type': `${SOAP_MEDIA_TYPE}; charset=utf-8` } } : {}),
                signal: AbortSignal.timeout(this.#options.timeout ?? 10_000),
                redirect: 'error'
            });
        }
        catch (error) {
            throw new EndpointUnreachable(`cannot reach ${url.origin}: ${(error as Error).message}`, { cause: error });
        }

        const text = await readBody(response, url, internals.maxBody, internals.serviceLink[service]);
        return { status: response.status, soap: (response.headers.get('content-type') ?? '').startsWith(SOAP_MEDIA_TYPE), body: text };
    }
}
