/**
 * The IKS client (paper §5.1): find the domain's query service through DNSSEC-validated
 * SRV records, fetch a name's signed key list, check the signing KSK against its
 * DNSSEC-validated commitment, verify the list, select keys by criteria, then fetch and
 * verify each selected key. Every step that fails raises a typed error marked with the
 * link it broke (`error.link`); a result is returned only when every link held.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

import Bounce from '@hapi/bounce';

import { BadSignature, excerpt, NameMismatch, SignatureExpired, SignatureNotYetValid, TransportError, UnexpectedDocument } from '../errors';
import type { KeyAlgorithm, KeyFormat } from '../keys/types';
import { nameToUrlForm, parseName } from '../names';
import { IKS_NAMESPACE, parseXml } from '../xml';
import type { IksDocument, KeyDocument, KeyListDocument, KeyMaterial, KeyMetadata, NegativeAnswerDocument, PublishedKeyDocument } from '../xml/types';
import { verifyDocument } from '../xmldsig';
import type { Endpoint } from './discovery';
import { EndpointUnreachable, readBody } from './http';
import { assertTrustSources, fetchVerifiedKsk, type ClientTrustOptions } from './ksk';
import { atLink, markLink, type LinkRecorder, type VerifiedLink } from './links';

export { verifyCommitment, type Commitment } from './commitment';
export { DnsDiscovery, type Discovery, type DnsDiscoveryOptions, type Endpoint, type IksServiceLabel } from './discovery';
export { fetchVerifiedKsk, type ClientTrustOptions, type KskSources, type TrustedKsk } from './ksk';
export { atLink, type LinkRecorder, type VerifiedLink } from './links';
export { orderSrvTargets, selectSrvTarget } from './srv';

export interface KeyCriteria {
    readonly algorithm?: KeyAlgorithm | readonly KeyAlgorithm[];
    readonly minSize?: number;
    readonly format?: KeyFormat;
    readonly usage?: string;
    readonly keyId?: string;
}

export interface ClientOptions extends ClientTrustOptions {
    /** Per-request timeout, ms (default 5000). */
    readonly timeout?: number;
    /** Called with each link as it is verified, including those verified before a failure. */
    readonly onLink?: LinkRecorder;
}

export interface LookupResult {
    readonly name: string;
    /** False when the server proved, RSK-signed, that the name has no keys. */
    readonly found: boolean;
    readonly keys: readonly KeyMetadata[];
    readonly selected: readonly KeyMaterial[];
    readonly links: readonly VerifiedLink[];
}

interface VerifiedKsk {
    readonly keyName: string;
    readonly publicKey: KeyObject;
    /** The links that established it, replayed when the cached KSK is used again. */
    readonly links: readonly VerifiedLink[];
}

/** What one lookup has verified so far, and where it reports it. */
interface Trail {
    readonly links: VerifiedLink[];
    readonly record: LinkRecorder;
}

const internals = {
    maxBody: 1024 * 1024,
    keyName: /<ds:KeyName>([a-z0-9-]{1,63})<\/ds:KeyName>/
};

/** Which key signed a document, read before verification only to know which key to fetch. */
export function claimedSigner(xml: string): string {

    const match = internals.keyName.exec(xml);
    if (!match) {
        throw new BadSignature('the document names no signing key (KeyInfo/KeyName)');
    }

    return match[1]!;
}

/**
 * Whether a key may be used for `usage`. `any` (what `iks register` records without
 * `--usage`) stands for every application use, but never for the service's own `iks-*`
 * usages: those grant powers (authenticating registrations, certifying others) that
 * must be given by name.
 */
export function permitsUsage(key: Pick<KeyMetadata, 'usage'>, usage: string): boolean {

    return key.usage.includes(usage) || (key.usage.includes('any') && !usage.startsWith('iks-'));
}

/** Keys of a verified list that satisfy the criteria (paper §5.1 step 5). */
export function selectKeys(keys: readonly KeyMetadata[], criteria: KeyCriteria = {}): KeyMetadata[] {

    const algorithms = criteria.algorithm === undefined ? undefined : ([] as KeyAlgorithm[]).concat(criteria.algorithm);
    return keys.filter((key) => (algorithms === undefined || algorithms.includes(key.algorithm)) &&
        (criteria.minSize === undefined || key.size >= criteria.minSize) &&
        (criteria.format === undefined || key.format === criteria.format) &&
        (criteria.usage === undefined || permitsUsage(key, criteria.usage)) &&
        (criteria.keyId === undefined || key.id === criteria.keyId));
}

/** Whether a 404 body is an IKS NegativeAnswer at all; whether it is genuine is verified later. */
function isNegativeAnswer(body: string): boolean {

    try {
        const root = parseXml(body, { maxBytes: internals.maxBody });
        return root.localName === 'NegativeAnswer' && root.namespace === IKS_NAMESPACE;
    }
    catch (error) {
        Bounce.rethrow(error, 'system');
        return false;
    }
}

/** The link a failed document verification broke, from the kind of failure. */
function documentLink(error: unknown): string {

    if (error instanceof NameMismatch) {
        return 'name';
    }

    if (error instanceof SignatureExpired || error instanceof SignatureNotYetValid) {
        return 'validity';
    }

    return error instanceof UnexpectedDocument ? 'document' : 'signature';
}

/**
 * The query service of one domain for one lookup: tries endpoints in order, moving on
 * when one cannot be reached (RFC 2782), and sticks to the first that answers.
 */
class QueryService {

    readonly #endpoints: AsyncIterator<Endpoint>;
    readonly #describe: string;
    readonly #fetch: typeof fetch;
    readonly #timeout: number;
    readonly #trail: Trail;
    readonly #failures: string[] = [];
    #current: Endpoint | null = null;
    #answered = false;

    constructor(endpoints: AsyncIterable<Endpoint>, describe: string, fetchImpl: typeof fetch, timeout: number, trail: Trail) {

        this.#endpoints = endpoints[Symbol.asyncIterator]();
        this.#describe = describe;
        this.#fetch = fetchImpl;
        this.#timeout = timeout;
        this.#trail = trail;
    }

    async get(path: string, accepted: number[]): Promise<{ status: number; body: string; url: URL }> {

        for (;;) {
            const endpoint = this.#current ?? await this.#next();
            const url = new URL(path.replace(/^\//, ''), endpoint.baseUrl.endsWith('/') ? endpoint.baseUrl : `${endpoint.baseUrl}/`);
            let response: Response;
            try {
                response = await this.#fetch(url, { signal: AbortSignal.timeout(this.#timeout), redirect: 'error' });
            }
            catch (error) {
                this.#failures.push(`${url.origin}: ${(error as Error).message}${(error as { cause?: Error }).cause?.message ? ` (${(error as { cause: Error }).cause.message})` : ''}`);
                this.#current = null;
                continue;
            }

            let body: string;
            try {
                body = await readBody(response, url, internals.maxBody, 'query-service');
            }
            catch (error) {
                // An answer cut short is no answer: try the next target, as when there was no connection.
                if (!(error instanceof EndpointUnreachable)) {
                    throw error;
                }

                this.#failures.push(error.message);
                this.#current = null;
                continue;
            }

            this.#current = endpoint;
            if (!this.#answered) {
                this.#answered = true;
                this.#trail.record(endpoint.link);
            }

            if (!accepted.includes(response.status)) {
                throw markLink(new TransportError(`GET ${url.pathname} answered ${response.status}: ${body.slice(0, 200)}`), 'query-service');
            }

            return { status: response.status, body, url };
        }
    }

    async #next(): Promise<Endpoint> {

        const next = await this.#endpoints.next();
        if (next.done) {
            throw markLink(new TransportError(this.#failures.length > 0 ?
                `cannot reach the query service of ${this.#describe}: ${this.#failures.join('; ')}` :
                `cannot reach the query service of ${this.#describe}: no SRV target has an address`), 'query-service');
        }

        return next.value;
    }
}

export class IksClient {

    readonly #options: ClientOptions;
    readonly #fetch: typeof fetch;
    readonly #now: () => number;
    readonly #ksks = new Map<string, VerifiedKsk>();

    constructor(options: ClientOptions) {

        assertTrustSources(options, 'the IKS client');

        this.#options = options;
        this.#fetch = options.fetch ?? fetch;
        this.#now = options.now ?? Date.now;
    }

    /** Looks up `name` and returns its verified keys; throws the typed error of the first failed link. */
    async lookup(input: string, criteria: KeyCriteria = {}): Promise<LookupResult> {

        const { name, domain } = parseName(input);
        const trail = this.#trail();
        const service = new QueryService(this.#endpoints(domain, trail), domain, this.#fetch, this.#options.timeout ?? 5000, trail);
        const base = `/ikqs/v1/n/${nameToUrlForm(name)}`;

        const answer = await service.get(base, [200, 404]);
        if (answer.status === 404) {
            // A wrong URL or another server answers 404 too: only a NegativeAnswer can prove "no keys".
            if (!isNegativeAnswer(answer.body)) {
                throw markLink(new TransportError(`GET ${answer.url.pathname} answered 404 without an IKS negative answer: ${excerpt(answer.body, 200)}`), 'query-service');
            }

            const negative = await this.#verifyNegative(service, answer.body, name, domain, trail);
            trail.record({ link: 'negative-answer', detail: `${name} has no keys (${negative.reason}), RSK-signed` });
            return { name, found: false, keys: [], selected: [], links: trail.links };
        }

        const ksk = await this.#verifiedKsk(service, await atLink('signature', async () => claimedSigner(answer.body)), domain, trail);
        const list = this.#verify<KeyListDocument>(answer.body, ksk, 'KeyList', name, trail);

        const selected: KeyMaterial[] = [];
        for (const metadata of selectKeys(list.keys, criteria)) {
            selected.push(await atLink('key', () => this.#fetchKey(service, base, name, domain, metadata, trail)));
        }

        return { name, found: true, keys: list.keys, selected, links: trail.links };
    }

    #trail(): Trail {

        const links: VerifiedLink[] = [];
        const record = (link: VerifiedLink) => {

            // Discovery and commitment both validate the DNSKEY RRset: record it once.
            if (!links.some((known) => known.link === link.link && known.detail === link.detail)) {
                links.push(link);
                this.#options.onLink?.(link);
            }
        };

        return { links, record };
    }

    async *#endpoints(domain: string, trail: Trail): AsyncIterable<Endpoint> {

        if (this.#options.baseUrl !== undefined) {
            yield { baseUrl: this.#options.baseUrl, link: { link: 'query-service', detail: `${this.#options.baseUrl} (given; SRV discovery skipped)` } };
            return;
        }

        yield* this.#options.discovery!.endpoints(domain, trail.record);
    }

    async #fetchKey(service: QueryService, base: string, name: string, domain: string, metadata: KeyMetadata, trail: Trail): Promise<KeyMaterial> {

        const answer = await service.get(`${base}/k/${metadata.id}`, [200]);
        const ksk = await this.#verifiedKsk(service, claimedSigner(answer.body), domain, trail);
        const document = this.#verify<KeyDocument>(answer.body, ksk, 'KeyDocument', name);
        const key = document.key;
        if (document.status !== 'active') {
            throw new UnexpectedDocument(`key ${metadata.id} of ${name} is ${document.status}`);
        }

        const fingerprint = createHash('sha256').update(Buffer.from(key.spki, 'base64')).digest('hex');
        if (key.id !== metadata.id || fingerprint !== key.fingerprint || fingerprint !== metadata.fingerprint) {
            throw new UnexpectedDocument(`key document ${metadata.id} of ${name} does not match the signed key list`);
        }

        trail.record({ link: 'key', detail: `${key.id}: ${key.algorithm}/${key.size} sha256:${key.fingerprint}, KSK-signed, valid until ${new Date(document.notAfter).toISOString()}` });
        return key;
    }

    /**
     * Negative answers are RSK-signed; the RSK itself is published KSK-signed (paper §4.3).
     * Only the key list takes one: a key the signed list names must be served (200).
     */
    async #verifyNegative(service: QueryService, body: string, name: string, domain: string, trail: Trail): Promise<NegativeAnswerDocument> {

        const rskName = await atLink('signature', async () => claimedSigner(body));
        const rsk = await atLink('rsk', async () => {

            const published = await service.get('/ikqs/v1/rsk', [200]);
            const ksk = await this.#verifiedKsk(service, claimedSigner(published.body), domain, trail);
            const rskDocument = this.#verify<PublishedKeyDocument>(published.body, ksk, 'PublishedKey', domain);
            if (rskDocument.role !== 'rsk' || rskDocument.keyName !== rskName) {
                throw new UnexpectedDocument(`the negative answer is signed by "${rskName}", which is not the domain's published RSK`);
            }

            trail.record({ link: 'rsk', detail: `${rskDocument.keyName}, published KSK-signed` });
            return { keyName: rskDocument.keyName, publicKey: createPublicKey({ key: Buffer.from(rskDocument.key.spki, 'base64'), format: 'der', type: 'spki' }), links: [] };
        });

        const negative = this.#verify<NegativeAnswerDocument>(body, rsk, 'NegativeAnswer', name, trail);

        // Anyone can get a signed "no key X of this name" for any X: only "no keys", about no key, answers the list.
        if (negative.reason !== 'no-keys' || negative.keyId !== undefined) {
            throw markLink(new UnexpectedDocument(`the negative answer says ${negative.reason}${negative.keyId === undefined ? '' : ` (key ${negative.keyId})`}, not no-keys: it does not answer the request for the key list`), 'negative-answer');
        }

        return negative;
    }

    /** Paper §5.1 steps 4a–4c: fetch the KSK, then trust it only if it matches the DNS commitment. */
    async #verifiedKsk(service: QueryService, keyName: string, domain: string, trail: Trail): Promise<VerifiedKsk> {

        const cached = this.#ksks.get(`${keyName}@${domain}`);
        if (cached) {
            cached.links.forEach(trail.record);
            return cached;
        }

        const links: VerifiedLink[] = [];
        const record = (link: VerifiedLink) => {

            links.push(link);
            trail.record(link);
        };

        const { publicKey } = await fetchVerifiedKsk(keyName, domain, {
            fetchPem: async (path) => (await service.get(path, [200])).body,
            commitment: (name, zone) => this.#options.commitmentFor ? this.#options.commitmentFor(name, zone) : this.#options.discovery!.commitment(name, zone, record)
        }, record);

        const verified = { keyName, publicKey, links };
        this.#ksks.set(`${keyName}@${domain}`, verified);
        return verified;
    }

    /**
     * Verifies a signed document (xmldsig profile, signer, type, name, validity). With a
     * trail, its signature, name and validity are recorded as links of their own.
     */
    #verify<T extends IksDocument>(xml: string, key: Pick<VerifiedKsk, 'keyName' | 'publicKey'>, type: T['type'], name: string, trail?: Trail): T {

        let document: T;
        try {
            document = verifyDocument(xml, { publicKey: key.publicKey, keyName: key.keyName, type, name, now: this.#now() }) as T;
        }
        catch (error) {
            // Without a trail the caller's step (key, rsk) names the link.
            throw trail ? markLink(error, documentLink(error)) : error;
        }

        if (trail) {
            trail.record({ link: 'signature', detail: `${type} signed by ${key.keyName}` });
            trail.record({ link: 'name', detail: `${type} is about ${document.name}` });
            trail.record({ link: 'validity', detail: `${type} issued ${new Date(document.issuedAt).toISOString()}, valid until ${new Date(document.notAfter).toISOString()}` });
        }

        return document;
    }
}
