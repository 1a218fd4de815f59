/**
 * The registration client (paper §5.2 steps 2–3, §5.3): builds an authenticated SOAP
 * request, sends it, and reports success only after verifying the answer: the answer
 * must be signed by the domain's RSK, the RSK must be published KSK-signed, the KSK
 * must match its DNS commitment (the same chain as lookups, paper §5.1 step 4), and
 * the answer must name the digest of the very request that was sent.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

import { RegistrationRefused, SoapFaultReceived, TransportError, UnexpectedDocument, BadSignature } from '../errors';
import { sha256Hex, spkiDer } from '../keys';
import { parseName } from '../names';
import { sealPassword } from '../registration/password';
import { readAssertion, renderRequest, requestDigest, type Authentication, type OperationContent, type RegistrationRequest } from '../registration/request';
import { signRequestDigest } from '../registration/signatures';
import { readAnswerEnvelope, renderEnvelope, SOAP_MEDIA_TYPE } from '../registration/soap';
import { parseXml } from '../xml';
import type { PublishedKeyDocument, RegistrationAnswerDocument } from '../xml/types';
import { verifyDocument } from '../xmldsig';
import { verifyCommitment, type Commitment } from './commitment';
import { claimedSigner, type VerifiedLink } from './index';

export interface RegistrationClientOptions {
    /** Base URL of the gateway (the registration and the query service), including any route prefix. */
    readonly baseUrl: string;
    /** The DNS commitment of KSK `keyName` of `domain` (DNSSEC-validated by the caller). */
    readonly commitmentFor: (keyName: string, domain: string) => Promise<Commitment>;
    readonly fetch?: typeof fetch;
    readonly now?: () => number;
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

const internals = {
    maxBody: 1024 * 1024,
    refusals: {
        'authentication-failed': 'AUTHENTICATION_FAILED',
        'not-authorized': 'NOT_AUTHORIZED',
        locked: 'LOCKED_OUT',
        refused: 'REQUEST_REFUSED'
    } as const
};

export class RegistrationClient {

    readonly #options: RegistrationClientOptions;
    readonly #fetch: typeof fetch;
    readonly #now: () => number;
    readonly #ksks = new Map<string, KeyObject>();
    readonly #published = new Map<string, PublishedKey>();

    constructor(options: RegistrationClientOptions) {

        this.#options = options;
        this.#fetch = options.fetch ?? fetch;
        this.#now = options.now ?? Date.now;
    }

    /** Registers `key` (PEM or OpenSSH text) for `name`. */
    async register(name: string, key: { readonly container: string; readonly usage: readonly string[]; readonly expiresAt?: number }, credentials: Credentials): Promise<RegistrationReceipt> {

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
        const links: VerifiedLink[] = [];
        const digest = requestDigest(content);
        const request = { ...content, authentication: await this.#authentication(content, digest, credentials, domain, links) } as RegistrationRequest;
        const { body } = await this.#http('POST', '/ikrs/v1', renderEnvelope(renderRequest(request)));

        const envelope = readAnswerEnvelope(body, internals.maxBody);
        if ('fault' in envelope) {
            throw new SoapFaultReceived(envelope.fault.code, envelope.fault.subcode, envelope.fault.reason);
        }

        const rsk = await this.#publishedKey('rsk', domain, links);
        if (claimedSigner(envelope.document) !== rsk.keyName) {
            throw new BadSignature(`the answer is signed by "${claimedSigner(envelope.document)}", not by the domain's published RSK "${rsk.keyName}"`);
        }

        const answer = verifyDocument(envelope.document, { publicKey: rsk.publicKey, keyName: rsk.keyName, type: 'RegistrationAnswer', name: content.name, now: this.#now() }) as RegistrationAnswerDocument;
        if (answer.requestDigest !== digest.toString('hex') || answer.operation !== content.operation) {
            throw new UnexpectedDocument(`the signed answer is about another request (digest ${answer.requestDigest.slice(0, 16)}…)`);
        }

        links.push({ link: 'answer', detail: `RSK-signed ${answer.outcome} for request ${answer.requestDigest.slice(0, 16)}…` });
        if (answer.outcome !== 'accepted') {
            throw new RegistrationRefused(internals.refusals[answer.outcome], answer.reason ?? answer.outcome, {
                ...(answer.acceptedMethods !== undefined ? { acceptedMethods: answer.acceptedMethods } : {}),
                ...(answer.retryAt !== undefined ? { retryAt: answer.retryAt } : {})
            });
        }

        return { answer, links };
    }

    async #authentication(content: OperationContent, digest: Buffer, credentials: Credentials, domain: string, links: VerifiedLink[]): Promise<Authentication> {

        if ('password' in credentials) {
            // The enc key is trusted only through the KSK chain, like any other answer.
            const enc = await this.#publishedKey('enc', domain, links);
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

    /** The domain's RSK or enc key, from its KSK-signed PublishedKey document. */
    async #publishedKey(role: 'rsk' | 'enc', domain: string, links: VerifiedLink[]): Promise<PublishedKey> {

        const cached = this.#published.get(`${role}@${domain}`);
        if (cached) {
            return cached;
        }

        const { body } = await this.#http('GET', `/ikqs/v1/${role}`);
        const kskName = claimedSigner(body);
        const document = verifyDocument(body, { publicKey: await this.#verifiedKsk(kskName, domain, links), keyName: kskName, type: 'PublishedKey', name: domain, now: this.#now() }) as PublishedKeyDocument;
        if (document.role !== role) {
            throw new UnexpectedDocument(`GET /ikqs/v1/${role} published the ${document.role} key`);
        }

        const published = { keyName: document.keyName, publicKey: createPublicKey({ key: Buffer.from(document.key.spki, 'base64'), format: 'der', type: 'spki' }) };
        links.push({ link: role, detail: `${document.keyName}, KSK-signed` });
        this.#published.set(`${role}@${domain}`, published);
        return published;
    }

    /** Paper §5.1 steps 4a–4c: the KSK is trusted only if it matches its DNS commitment. */
    async #verifiedKsk(keyName: string, domain: string, links: VerifiedLink[]): Promise<KeyObject> {

        const cached = this.#ksks.get(`${keyName}@${domain}`);
        if (cached) {
            return cached;
        }

        const { body } = await this.#http('GET', `/ikqs/v1/ksk/${encodeURIComponent(keyName)}`);
        let publicKey: KeyObject;
        try {
            publicKey = createPublicKey({ key: body, format: 'pem' });
        }
        catch (error) {
            throw new BadSignature(`the published key-signing key "${keyName}" is not a public key`, { cause: error });
        }

        verifyCommitment(keyName, spkiDer(publicKey), await this.#options.commitmentFor(keyName, domain));
        links.push({ link: 'ksk-commitment', detail: `${keyName} matches sha256.${keyName}.${domain}` });
        this.#ksks.set(`${keyName}@${domain}`, publicKey);
        return publicKey;
    }

    async #http(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; body: string }> {

        const url = new URL(path.replace(/^\//, ''), this.#options.baseUrl.endsWith('/') ? this.#options.baseUrl : `${this.#options.baseUrl}/`);
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
            throw new TransportError(`cannot reach ${url.origin}: ${(error as Error).message}`, { cause: error });
        }

        const text = await response.text();
        if (text.length > internals.maxBody) {
            throw new TransportError(`answer from ${url.pathname} is larger than ${internals.maxBody} bytes`);
        }

        // Registration answers and faults come with 200/400/429/500/503; lookups of keys with 200.
        const soap = (response.headers.get('content-type') ?? '').startsWith(SOAP_MEDIA_TYPE);
        if (method === 'GET' ? response.status !== 200 : !soap) {
            throw new TransportError(`${method} ${url.pathname} answered ${response.status}: ${text.slice(0, 200)}`);
        }

        return { status: response.status, body: text };
    }
}
