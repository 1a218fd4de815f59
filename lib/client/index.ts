/**
 * The IKS client (paper §5.1 steps 2–5): fetch a name's signed key list, verify it
 * with the domain's KSK, check the KSK against its DNS commitment, select keys by
 * criteria, then fetch and verify each selected key. Every step that fails raises a
 * typed error naming the link; a result is returned only when every link held.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

import { BadSignature, TransportError, UnexpectedDocument } from '../errors';
import type { KeyAlgorithm, KeyFormat } from '../keys/types';
import { nameToUrlForm, parseName } from '../names';
import type { IksDocument, KeyDocument, KeyListDocument, KeyMaterial, KeyMetadata, NegativeAnswerDocument, PublishedKeyDocument } from '../xml/types';
import { verifyDocument } from '../xmldsig';
import { verifyCommitment, type Commitment } from './commitment';

export { verifyCommitment, type Commitment } from './commitment';

export interface KeyCriteria {
    readonly algorithm?: KeyAlgorithm | readonly KeyAlgorithm[];
    readonly minSize?: number;
    readonly format?: KeyFormat;
    readonly usage?: string;
    readonly keyId?: string;
}

export interface ClientOptions {
    /** Base URL of the query service, including any route prefix. */
    readonly baseUrl: string;
    /** Returns the DNS commitment of KSK `keyName` of `domain` (DNSSEC-validated by the caller). */
    readonly commitmentFor: (keyName: string, domain: string) => Promise<Commitment>;
    readonly fetch?: typeof fetch;
    readonly now?: () => number;
    /** Per-request timeout, ms (default 5000). */
    readonly timeout?: number;
}

/** One verified link of the chain, for `iks lookup --json` and for audit. */
export interface VerifiedLink {
    readonly link: string;
    readonly detail: string;
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

/** Keys of a verified list that satisfy the criteria (paper §5.1 step 5). */
export function selectKeys(keys: readonly KeyMetadata[], criteria: KeyCriteria = {}): KeyMetadata[] {

    const algorithms = criteria.algorithm === undefined ? undefined : ([] as KeyAlgorithm[]).concat(criteria.algorithm);
    return keys.filter((key) => (algorithms === undefined || algorithms.includes(key.algorithm)) &&
        (criteria.minSize === undefined || key.size >= criteria.minSize) &&
        (criteria.format === undefined || key.format === criteria.format) &&
        (criteria.usage === undefined || key.usage.includes(criteria.usage)) &&
        (criteria.keyId === undefined || key.id === criteria.keyId));
}

export class IksClient {

    readonly #options: ClientOptions;
    readonly #fetch: typeof fetch;
    readonly #now: () => number;
    readonly #ksks = new Map<string, VerifiedKsk>();

    constructor(options: ClientOptions) {

        this.#options = options;
        this.#fetch = options.fetch ?? fetch;
        this.#now = options.now ?? Date.now;
    }

    /** Looks up `name` and returns its verified keys; throws the typed error of the first failed link. */
    async lookup(input: string, criteria: KeyCriteria = {}): Promise<LookupResult> {

        const { name, domain } = parseName(input);
        const links: VerifiedLink[] = [];
        const base = `/ikqs/v1/n/${nameToUrlForm(name)}`;

        const answer = await this.#get(base, [200, 404]);
        if (answer.status === 404) {
            const negative = await this.#verifyNegative(answer.body, name, domain, links);
            links.push({ link: 'negative-answer', detail: `RSK-signed: ${negative.reason}, issued ${new Date(negative.issuedAt).toISOString()}` });
            return { name, found: false, keys: [], selected: [], links };
        }

        const ksk = await this.#verifiedKsk(claimedSigner(answer.body), domain, links);
        const list = this.#verify<KeyListDocument>(answer.body, ksk, 'KeyList', name);
        links.push({ link: 'key-list', detail: `${list.keys.length} key(s), KSK-signed, valid until ${new Date(list.notAfter).toISOString()}` });

        const selected: KeyMaterial[] = [];
        for (const metadata of selectKeys(list.keys, criteria)) {
            selected.push(await this.#fetchKey(base, name, domain, metadata, links));
        }

        return { name, found: true, keys: list.keys, selected, links };
    }

    async #fetchKey(base: string, name: string, domain: string, metadata: KeyMetadata, links: VerifiedLink[]): Promise<KeyMaterial> {

        const answer = await this.#get(`${base}/k/${metadata.id}`, [200]);
        const ksk = await this.#verifiedKsk(claimedSigner(answer.body), domain, links);
        const document = this.#verify<KeyDocument>(answer.body, ksk, 'KeyDocument', name);
        const key = document.key;
        if (document.status !== 'active') {
            throw new UnexpectedDocument(`key ${metadata.id} of ${name} is ${document.status}`);
        }

        const fingerprint = createHash('sha256').update(Buffer.from(key.spki, 'base64')).digest('hex');
        if (key.id !== metadata.id || fingerprint !== key.fingerprint || fingerprint !== metadata.fingerprint) {
            throw new UnexpectedDocument(`key document ${metadata.id} of ${name} does not match the signed key list`);
        }

        links.push({ link: 'key', detail: `${key.id}: ${key.algorithm}/${key.size} sha256:${key.fingerprint}, KSK-signed` });
        return key;
    }

    /** Negative answers are RSK-signed; the RSK itself is published KSK-signed (paper §4.3). */
    async #verifyNegative(body: string, name: string, domain: string, links: VerifiedLink[]): Promise<NegativeAnswerDocument> {

        const rskName = claimedSigner(body);
        const published = await this.#get('/ikqs/v1/rsk', [200]);
        const ksk = await this.#verifiedKsk(claimedSigner(published.body), domain, links);
        const rskDocument = this.#verify<PublishedKeyDocument>(published.body, ksk, 'PublishedKey', domain);
        if (rskDocument.role !== 'rsk' || rskDocument.keyName !== rskName) {
            throw new UnexpectedDocument(`the negative answer is signed by "${rskName}", which is not the domain's published RSK`);
        }

        links.push({ link: 'rsk', detail: `${rskDocument.keyName}, KSK-signed` });
        const rsk = { keyName: rskDocument.keyName, publicKey: createPublicKey({ key: Buffer.from(rskDocument.key.spki, 'base64'), format: 'der', type: 'spki' }) };
        return this.#verify<NegativeAnswerDocument>(body, rsk, 'NegativeAnswer', name);
    }

    /** Paper §5.1 steps 4a–4c: fetch the KSK, then trust it only if it matches the DNS commitment. */
    async #verifiedKsk(keyName: string, domain: string, links: VerifiedLink[]): Promise<VerifiedKsk> {

        const cached = this.#ksks.get(`${keyName}@${domain}`);
        if (cached) {
            return cached;
        }

        const answer = await this.#get(`/ikqs/v1/ksk/${encodeURIComponent(keyName)}`, [200]);
        let publicKey: KeyObject;
        try {
            publicKey = createPublicKey({ key: answer.body, format: 'pem' });
        }
        catch (error) {
            throw new BadSignature(`the published key-signing key "${keyName}" is not a public key`, { cause: error });
        }

        const spki = publicKey.export({ type: 'spki', format: 'der' });
        verifyCommitment(keyName, spki, await this.#options.commitmentFor(keyName, domain));
        links.push({ link: 'ksk-commitment', detail: `${keyName} matches sha256.${keyName}.${domain}` });

        const verified = { keyName, publicKey };
        this.#ksks.set(`${keyName}@${domain}`, verified);
        return verified;
    }

    #verify<T extends IksDocument>(xml: string, key: VerifiedKsk, type: T['type'], name: string): T {

        return verifyDocument(xml, { publicKey: key.publicKey, keyName: key.keyName, type, name, now: this.#now() }) as T;
    }

    async #get(path: string, accepted: number[]): Promise<{ status: number; body: string }> {

        const url = new URL(path.replace(/^\//, ''), this.#options.baseUrl.endsWith('/') ? this.#options.baseUrl : `${this.#options.baseUrl}/`);
        let response: Response;
        try {
            response = await this.#fetch(url, { signal: AbortSignal.timeout(this.#options.timeout ?? 5000), redirect: 'error' });
        }
        catch (error) {
            throw new TransportError(`cannot reach ${url.origin}: ${(error as Error).message}`, { cause: error });
        }

        const body = await response.text();
        if (body.length > internals.maxBody) {
            throw new TransportError(`answer from ${url.pathname} is larger than ${internals.maxBody} bytes`);
        }

        if (!accepted.includes(response.status)) {
            throw new TransportError(`GET ${url.pathname} answered ${response.status}: ${body.slice(0, 200)}`);
        }

        return { status: response.status, body };
    }
}
