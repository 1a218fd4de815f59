/**
 * Route handlers of iks-query. Typed errors from lib/ become Boom answers here and
 * nowhere else; anything unexpected is logged and answered as a plain 500.
 */
import Boom from '@hapi/boom';
import Bounce from '@hapi/bounce';
import type { Lifecycle, Request, ResponseObject, ResponseToolkit } from '@hapi/hapi';

import { StoreUnavailable } from '../../lib/errors';
import type { SigningKey } from '../../lib/keys/types';
import { nameFromUrlForm, type ParsedName } from '../../lib/names';
import type { Store, StoredDocument } from '../../lib/store/types';
import { renderAndSign } from '../../lib/xmldsig';
import { entityTag } from '../../workers/updater/documents';
import type { NameSigner, SigningResult } from '../../workers/updater/signer';

export interface LookupSettings {
    readonly domain: string;
    readonly store: Store;
    readonly rsk: SigningKey;
    /** ms */
    readonly negativeValidity: number;
    /** s */
    readonly maxCacheAge: number;
    /** `ondemand` strategy (paper §6): this plugin holds the KSK and signs missing or lapsed documents. */
    readonly signer?: Pick<NameSigner, 'signIfRegistered'> | undefined;
}

const internals = {
    xml: 'application/xml; charset=utf-8',
    // Seconds a client is asked to wait while an expired document is being re-signed.
    retryAfter: 1,
    // On demand: signings of a name tried before answering 503 while its keys keep changing.
    signAttempts: 3,
    // URL-form names longer than this are refused before decoding (a name is at most ~1.3 KB).
    maxEncodedName: 2048,
    // Decoding and canonicalising a name (NFC, IDNA) costs more than the store read of a
    // lookup; results are memoised for short names, in a map cleared whenever it fills.
    memoisedNameLength: 256,
    memoisedNames: 8192
};

// Requests answered with a signed negative answer rather than an error: both are 404s by
// the time the lookup is counted (iks-query's onPostResponse).
const signedNegatives = new WeakSet<Request>();

/** Whether `request` was answered with an RSK-signed negative answer. */
export function isSignedNegative(request: Request): boolean {

    return signedNegatives.has(request);
}

export class LookupHandlers {

    readonly #settings: LookupSettings;
    readonly #parsedNames = new Map<string, ParsedName>();
    // On-demand signings under way, by name and key id: concurrent lookups that find the same
    // document missing or lapsed share one signing instead of each signing the whole name.
    readonly #signing = new Map<string, Promise<SigningResult | null>>();

    constructor(settings: LookupSettings) {

        this.#settings = settings;
    }

    /** Joi validation failures of route params become 400s with the reason. */
    readonly failAction = (_request: Request, _h: ResponseToolkit, error: Error | undefined): Lifecycle.ReturnValue => {

        throw Boom.badRequest(error?.message ?? 'invalid request');
    };

    readonly keyList = async (request: Request, h: ResponseToolkit): Promise<Lifecycle.ReturnValue> => {

        const name = this.#parseName(request.params.name as string);
        return this.#serve(h, name, 'list', () => this.#negative(h, name, 'no-keys'));
    };

    readonly key = async (request: Request, h: ResponseToolkit): Promise<Lifecycle.ReturnValue> => {

        const name = this.#parseName(request.params.name as string);
        const keyId = request.params.keyId as string;
        return this.#serve(h, name, `key:${keyId}`, () => this.#negative(h, name, 'no-such-key', keyId));
    };

    publishedKey(slot: 'rsk' | 'enc'): Lifecycle.Method {

        return async (_request: Request, h: ResponseToolkit) => {

            const document = await this.#readOrSign(this.#settings.domain, slot);
            if (!document || document === 'changing' || document.notAfter <= Date.now()) {
                await this.#requestResign(this.#settings.domain);
                throw Boom.serverUnavailable(`the signed ${slot.toUpperCase()} document of ${this.#settings.domain} is not published yet; retry shortly`);
            }

            return this.#respond(h, document, 200);
        };
    }

    #parseName(encoded: string): ParsedName {

        let parsed = this.#parsedNames.get(encoded);
        if (parsed === undefined) {
            parsed = this.#decodeName(encoded);
        }

        if (parsed.domain !== this.#settings.domain) {
            throw Boom.notFound(`this key service does not serve the domain "${parsed.domain}"`);
        }

        return parsed;
    }

    #decodeName(encoded: string): ParsedName {

        if (encoded.length > internals.maxEncodedName) {
            throw Boom.badRequest(`name is longer than ${internals.maxEncodedName} characters in URL form`);
        }

        let parsed: ParsedName;
        try {
            parsed = nameFromUrlForm(encoded);
        }
        catch (error) {
            Bounce.rethrow(error, 'system');
            throw Boom.badRequest((error as Error).message);
        }

        if (encoded.length <= internals.memoisedNameLength) {
            if (this.#parsedNames.size >= internals.memoisedNames) {
                this.#parsedNames.clear();
            }

            this.#parsedNames.set(encoded, parsed);
        }

        return parsed;
    }

    async #serve(h: ResponseToolkit, name: ParsedName, slot: string, negative: () => ResponseObject): Promise<Lifecycle.ReturnValue> {

        const document = await this.#readOrSign(name.name, slot);
        if (!document) {
            return negative();
        }

        // Never serve a lapsed signature (it would be rejected anyway); have it re-made.
        // Only without a signer (offline, online): on demand it was re-signed just now.
        // On demand, a name whose keys kept changing while it was signed is queued already.
        const changing = document === 'changing';
        if (changing || document.notAfter <= Date.now()) {
            if (!changing) {
                await this.#requestResign(name.name);
            }

            return h.response(Boom.serverUnavailable('the signed answer for this name is being refreshed; retry shortly').output.payload)
                .code(503)
                .header('retry-after', String(internals.retryAfter));
        }

        return this.#respond(h, document, 200);
    }

    /**
     * The stored document; in the `ondemand` strategy a missing or lapsed one is signed
     * now (paper §6: "Otherwise, it is immediately signed and returned").
     */
    async #readOrSign(name: string, slot: string): Promise<StoredDocument | null | 'changing'> {

        try {
            const document = await this.#settings.store.getDocument(name, slot);
            const signer = this.#settings.signer;
            if (!signer || (document && document.notAfter > Date.now())) {
                return document;
            }

            for (let attempt = 0; attempt < internals.signAttempts; ++attempt) {
                const signed = await this.#signShared(signer, name, slot.startsWith('key:') ? slot.slice(4) : undefined);
                // No registrations (or no such key): the negative answer is the truth. A document
                // the signer kept (still current: another worker signed it meanwhile) is read back.
                // Documents of a read a change superseded were not stored and are not served:
                // sign again from what is stored now.
                if (signed === null || !signed.superseded) {
                    return signed === null ? null : signed.documents.get(slot) ?? await this.#settings.store.getDocument(name, slot);
                }
            }

            return 'changing';
        }
        catch (error) {
            if (error instanceof StoreUnavailable) {
                throw Boom.serverUnavailable('key store unavailable; retry shortly');
            }

            throw error;
        }
    }

    #signShared(signer: Pick<NameSigner, 'signIfRegistered'>, name: string, keyId: string | undefined): Promise<SigningResult | null> {

        const key = `${name}\n${keyId ?? ''}`;
        let signing = this.#signing.get(key);
        if (signing === undefined) {
            signing = signer.signIfRegistered(name, keyId).finally(() => this.#signing.delete(key));
            this.#signing.set(key, signing);
        }

        return signing;
    }

    async #requestResign(name: string): Promise<void> {

        try {
            await this.#settings.store.enqueue([name]);
        }
        catch {
            // Best effort: the scheduled re-sign is already queued in normal operation.
        }
    }

    #respond(h: ResponseToolkit, document: StoredDocument, code: number): ResponseObject {

        const remaining = Math.floor((document.notAfter - Date.now()) / 1000);
        // RFC 9110 §13.1.2: "*" matches any current representation (hapi compares tags only).
        const unmodified = code === 200 && String(h.request.headers['if-none-match'] ?? '').trim() === '*';
        return h.response(unmodified ? undefined : document.body)
            .code(unmodified ? 304 : code)
            .type(internals.xml)
            .etag(document.etag.replace(/^"|"$/g, ''))
            .header('cache-control', `public, max-age=${Math.max(0, Math.min(this.#settings.maxCacheAge, remaining))}`);
    }

    /** RSK-signed negative answer (paper §5.1: "signed with a response-signing key"). */
    #negative(h: ResponseToolkit, name: ParsedName, reason: 'no-keys' | 'no-such-key', keyId?: string): ResponseObject {

        signedNegatives.add(h.request);
        const now = Date.now();
        const issuedAt = now - now % 1000;
        const body = renderAndSign({
            type: 'NegativeAnswer',
            name: name.name,
            issuedAt,
            notAfter: issuedAt + this.#settings.negativeValidity,
            reason,
            ...(keyId !== undefined ? { keyId } : {})
        }, this.#settings.rsk);

        // From now, not from issuedAt (rounded down to the second): a cache must not keep it past NotAfter.
        const maxAge = Math.max(0, Math.min(this.#settings.maxCacheAge, Math.floor((issuedAt + this.#settings.negativeValidity - now) / 1000)));
        // Every lookup answer carries an ETag (ARCHITECTURE.md §3), the negative ones too.
        return h.response(body).code(404).type(internals.xml).etag(entityTag(body).slice(1, -1)).header('cache-control', `public, max-age=${maxAge}`);
    }
}
