/**
 * Reads an IKS document (the inverse of render.ts) strictly: the root must be one of
 * the four document elements in the IKS namespace, children must come in the schema's
 * order, nothing unknown is skipped, every value is checked. Anything else is
 * InvalidXml. Verification feeds this only the octets the signature covers.
 */
import { excerpt, InvalidXml } from '../errors';
import type { DomainKeyRole, KeyAlgorithm, KeyFormat } from '../keys/types';
import { childElements, isWhitespace, parseXml, type XmlElement } from './parse';
import { IKS_NAMESPACE } from './render';
import type { AuthenticationMethod, IksDocument, KeyMaterial, KeyMetadata, KeyListDocument, KeyDocument, NegativeAnswerDocument, PublishedKeyDocument, RegisteredKey, RegistrationAnswerDocument } from './types';

const internals = {
    maxBytes: 256 * 1024,
    dateTime: /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/,
    size: /^[1-9][0-9]{0,5}$/,
    fingerprint: /^[0-9a-f]{64}$/,
    keyId: /^[A-Za-z0-9._-]{1,64}$/,
    base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
    token: /^[\x21-\x7E]{1,64}$/,
    algorithms: new Set<KeyAlgorithm>(['rsa', 'ec', 'ed25519', 'x25519', 'ed448', 'x448']),
    formats: new Set<KeyFormat>(['spki', 'x509', 'openssh']),
    roles: new Set<DomainKeyRole>(['ksk', 'rsk', 'enc', 'zsk']),
    documentTypes: new Set(['KeyList', 'KeyDocument', 'NegativeAnswer', 'PublishedKey', 'RegistrationAnswer']),
    digest: /^[0-9a-f]{64}$/,
    operations: ['register', 'revoke', 'list'] as const,
    outcomes: ['accepted', 'authentication-failed', 'not-authorized', 'locked', 'refused'] as const,
    methods: ['password', 'user-key', 'assertion'] as const satisfies readonly AuthenticationMethod[]
};

/** Walks an element's children in order, one expected element at a time (IKS namespace only). */
export class Cursor {
    readonly #children: XmlElement[];
    readonly #parent: string;
    #index = 0;

    constructor(parent: XmlElement) {

        this.#parent = parent.localName;
        for (const child of parent.children) {
            if (typeof child === 'string' && !isWhitespace(child)) {
                throw new InvalidXml(`Element ${parent.localName} contains unexpected text`);
            }
        }

        this.#children = childElements(parent);
        for (const child of this.#children) {
            if (child.namespace !== IKS_NAMESPACE) {
                throw new InvalidXml(`Element ${child.name} in ${parent.localName} is not in the IKS namespace`);
            }
        }
    }

    optional(localName: string): XmlElement | undefined {

        const next = this.#children[this.#index];
        if (next?.localName === localName) {
            ++this.#index;
            return next;
        }

        return undefined;
    }

    required(localName: string): XmlElement {

        const next = this.optional(localName);
        if (next === undefined) {
            throw new InvalidXml(`Element ${this.#parent} lacks ${localName}` + (this.#children[this.#index] ? ` (found ${this.#children[this.#index]!.localName})` : ''));
        }

        return next;
    }

    end(): void {

        const next = this.#children[this.#index];
        if (next !== undefined) {
            throw new InvalidXml(`Element ${this.#parent} contains the unexpected element ${next.localName}`);
        }
    }
}

export function noAttributes(element: XmlElement, allowed: readonly string[] = []): void {

    for (const name of Object.keys(element.attributes)) {
        if (!allowed.includes(name)) {
            throw new InvalidXml(`Element ${element.localName} has the unexpected attribute ${name}`);
        }
    }
}

export function textOf(element: XmlElement): string {

    noAttributes(element);
    let text = '';
    for (const child of element.children) {
        if (typeof child !== 'string') {
            throw new InvalidXml(`Element ${element.localName} must contain text only`);
        }

        text += child;
    }

    return text;
}

export function nonEmpty(element: XmlElement): string {

    const text = textOf(element);
    if (text.length === 0) {
        throw new InvalidXml(`Element ${element.localName} is empty`);
    }

    return text;
}

export function matching(element: XmlElement, pattern: RegExp): string {

    const text = textOf(element);
    if (!pattern.test(text)) {
        throw new InvalidXml(`Element ${element.localName} has an invalid value`);
    }

    return text;
}

export function oneOf<T extends string>(element: XmlElement, allowed: ReadonlySet<T> | readonly T[]): T {

    const text = textOf(element);
    const ok = Array.isArray(allowed) ? allowed.includes(text as T) : (allowed as ReadonlySet<T>).has(text as T);
    if (!ok) {
        throw new InvalidXml(`Element ${element.localName} has the unknown value "${excerpt(text, 40)}"`);
    }

    return text as T;
}

/** xs:dateTime as rendered (UTC, second precision) → ms since the epoch; rejects impossible dates. */
export function readTime(text: string): number {

    const match = internals.dateTime.exec(text);
    if (match) {
        const [, year, month, day, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number];
        // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999. Impossible
        // dates (02-30, 24:00:00, leap seconds) roll over and no longer print as the input.
        const date = new Date(0);
        date.setUTCFullYear(year, month - 1, day);
        date.setUTCHours(hour, minute, second, 0);
        if (date.toISOString().slice(0, 19) + 'Z' === text) {
            return date.getTime();
        }
    }

    throw new InvalidXml(`"${excerpt(text, 40)}" is not a UTC date-time of the form 2026-11-24T18:00:00Z`);
}

function time(element: XmlElement): number {

    return readTime(textOf(element));
}

function readMetadata(cursor: Cursor, id: string): KeyMetadata {

    const algorithm = oneOf(cursor.required('Algorithm'), internals.algorithms);
    const size = Number(matching(cursor.required('Size'), internals.size));
    const curve = cursor.optional('Curve');
    const format = oneOf(cursor.required('Format'), internals.formats);
    const fingerprint = matching(cursor.required('Fingerprint'), internals.fingerprint);
    const usage: string[] = [];
    for (let element = cursor.optional('Usage'); element; element = cursor.optional('Usage')) {
        usage.push(matching(element, internals.token));
    }

    const registeredAt = time(cursor.required('Registered'));
    const expires = cursor.optional('Expires');

    return {
        id,
        algorithm,
        size,
        ...(curve !== undefined ? { curve: matching(curve, internals.token) } : {}),
        format,
        fingerprint,
        usage,
        registeredAt,
        ...(expires !== undefined ? { expiresAt: time(expires) } : {})
    };
}

function keyId(element: XmlElement): string {

    noAttributes(element, ['id']);
    const id = element.attributes.id;
    if (id === undefined || !internals.keyId.test(id)) {
        throw new InvalidXml('Element Key lacks a valid id attribute');
    }

    return id;
}

function readKeyMetadata(element: XmlElement): KeyMetadata {

    const cursor = new Cursor(element);
    const metadata = readMetadata(cursor, keyId(element));
    cursor.end();
    return metadata;
}

function readKeyMaterial(element: XmlElement): KeyMaterial {

    const cursor = new Cursor(element);
    const metadata = readMetadata(cursor, keyId(element));
    const spki = matching(cursor.required('Material'), internals.base64);
    if (spki.length === 0) {
        throw new InvalidXml('Element Material is empty');
    }

    const container = nonEmpty(cursor.required('Container'));
    cursor.end();
    return { ...metadata, spki, container };
}

function readRegisteredKey(element: XmlElement): RegisteredKey {

    const cursor = new Cursor(element);
    const metadata = readMetadata(cursor, keyId(element));
    const state = oneOf(cursor.required('State'), ['active', 'revoked', 'expired'] as const);
    const revoked = cursor.optional('Revoked');
    const reason = cursor.optional('Reason');
    cursor.end();
    return {
        ...metadata,
        state,
        ...(revoked !== undefined ? { revokedAt: time(revoked) } : {}),
        ...(reason !== undefined ? { revocationReason: textOf(reason) } : {})
    };
}

function readRegistrationAnswer(cursor: Cursor, base: { name: string; issuedAt: number; notAfter: number }): RegistrationAnswerDocument {

    const operation = oneOf(cursor.required('Operation'), internals.operations);
    const requestDigest = matching(cursor.required('RequestDigest'), internals.digest);
    const outcome = oneOf(cursor.required('Outcome'), internals.outcomes);
    const keyIdElement = cursor.optional('KeyId');
    const state = cursor.optional('State');
    const keys: RegisteredKey[] = [];
    for (let key = cursor.optional('RegisteredKey'); key; key = cursor.optional('RegisteredKey')) {
        keys.push(readRegisteredKey(key));
    }

    const acceptedMethods: AuthenticationMethod[] = [];
    for (let method = cursor.optional('AcceptedMethod'); method; method = cursor.optional('AcceptedMethod')) {
        acceptedMethods.push(oneOf(method, internals.methods));
    }

    const retryAfter = cursor.optional('RetryAfter');
    const reason = cursor.optional('Reason');
    return {
        type: 'RegistrationAnswer',
        ...base,
        operation,
        requestDigest,
        outcome,
        ...(keyIdElement !== undefined ? { keyId: matching(keyIdElement, internals.keyId) } : {}),
        ...(state !== undefined ? { state: oneOf(state, ['active', 'revoked'] as const) } : {}),
        ...(keys.length > 0 ? { keys } : {}),
        ...(acceptedMethods.length > 0 ? { acceptedMethods } : {}),
        ...(retryAfter !== undefined ? { retryAt: time(retryAfter) } : {}),
        ...(reason !== undefined ? { reason: textOf(reason) } : {})
    };
}

/**
 * Converts an IKS document's XML into the typed model. Strict: wrong namespace, unknown
 * or misplaced elements, missing required fields, bad values or dates → InvalidXml.
 * A signed document is refused too (ds:Signature is not in the IKS namespace): only
 * lib/xmldsig's verifyDocument may hand over the content a signature covers.
 */
export function readDocument(canonicalXml: string): IksDocument {

    const root = parseXml(canonicalXml, { maxBytes: internals.maxBytes, maxDepth: 8 });
    if (root.namespace !== IKS_NAMESPACE) {
        throw new InvalidXml(`Document root ${root.name} is not in the namespace ${IKS_NAMESPACE}`);
    }

    if (!internals.documentTypes.has(root.localName)) {
        throw new InvalidXml(`Unknown document element ${root.localName}`);
    }

    noAttributes(root);
    const cursor = new Cursor(root);
    const name = nonEmpty(cursor.required('Name'));
    const issuedAt = time(cursor.required('Issued'));
    const notAfter = time(cursor.required('NotAfter'));
    const base = { name, issuedAt, notAfter };

    let doc: IksDocument;
    switch (root.localName) {
        case 'KeyList': {
            const keys: KeyMetadata[] = [];
            for (let key = cursor.optional('Key'); key; key = cursor.optional('Key')) {
                keys.push(readKeyMetadata(key));
            }

            doc = { type: 'KeyList', ...base, keys } satisfies KeyListDocument;
            break;
        }

        case 'KeyDocument': {
            const status = oneOf(cursor.required('Status'), ['active', 'revoked'] as const);
            const revoked = cursor.optional('Revoked');
            const reason = cursor.optional('Reason');
            const key = readKeyMaterial(cursor.required('Key'));
            doc = {
                type: 'KeyDocument',
                ...base,
                status,
                key,
                ...(revoked !== undefined ? { revokedAt: time(revoked) } : {}),
                ...(reason !== undefined ? { revocationReason: textOf(reason) } : {})
            } satisfies KeyDocument;
            break;
        }

        case 'NegativeAnswer': {
            const reason = oneOf(cursor.required('Reason'), ['no-keys', 'no-such-key'] as const);
            const keyIdElement = cursor.optional('KeyId');
            doc = {
                type: 'NegativeAnswer',
                ...base,
                reason,
                ...(keyIdElement !== undefined ? { keyId: matching(keyIdElement, internals.keyId) } : {})
            } satisfies NegativeAnswerDocument;
            break;
        }

        case 'RegistrationAnswer': {
            doc = readRegistrationAnswer(cursor, base);
            break;
        }

        default: {           // PublishedKey: the set above admits nothing else
            const role = oneOf(cursor.required('Role'), internals.roles);
            const keyName = nonEmpty(cursor.required('KeyName'));
            const key = readKeyMaterial(cursor.required('Key'));
            doc = { type: 'PublishedKey', ...base, role, keyName, key } satisfies PublishedKeyDocument;
        }
    }

    cursor.end();
    return doc;
}
