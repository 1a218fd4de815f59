/**
 * The registration requests (paper §5.2 register, §5.3 revoke, and ListMyKeys) as typed
 * values, their operation digest, and their XML (registration.xsd). The server reads
 * them strictly from the SOAP Body; the client renders them.
 */
import { createHash } from 'node:crypto';

import { InvalidRequest, InvalidXml } from '../errors';
import { Cursor, escapeAttribute, escapeText, IKS_NAMESPACE, matching, noAttributes, nonEmpty, oneOf, readTime, renderTime, textOf, type XmlElement } from '../xml';
import type { AuthenticationMethod, RegistrationOperation } from '../xml/types';
import { encodeFields } from './fields';

export interface Assertion {
    /** Name whose iks-certify key signed the assertion. */
    readonly issuer: string;
    readonly keyId: string;
    /** The entity the assertion vouches for. */
    readonly subject: string;
    readonly issuedAt: number;
    readonly notAfter: number;
    readonly signature: Buffer;
}

export type Authentication =
    | { readonly method: 'password'; readonly user: string; readonly encKey: string; readonly ciphertext: Buffer }
    | { readonly method: 'user-key'; readonly signer: string; readonly keyId: string; readonly signature: Buffer }
    | { readonly method: 'assertion'; readonly assertion: Assertion };

interface RequestHead {
    readonly name: string;
    /** ms since the epoch, whole seconds. */
    readonly timestamp: number;
    readonly nonce: string;
}

export interface RegisterContent extends RequestHead {
    readonly operation: 'register';
    /** The key as PEM or OpenSSH text. */
    readonly container: string;
    readonly usage: readonly string[];
    readonly expiresAt?: number;
}

export interface RevokeContent extends RequestHead {
    readonly operation: 'revoke';
    readonly keyId: string;
    readonly reason?: string;
}

export interface ListContent extends RequestHead {
    readonly operation: 'list';
}

/** What a request asks, without its authentication: the part the digest covers. */
export type OperationContent = RegisterContent | RevokeContent | ListContent;

export type RegistrationRequest = OperationContent & { readonly authentication: Authentication };

const internals = {
    elements: { register: 'Register', revoke: 'Revoke', list: 'ListMyKeys' } as const satisfies Record<RegistrationOperation, string>,
    operations: { Register: 'register', Revoke: 'revoke', ListMyKeys: 'list' } as Record<string, RegistrationOperation>,
    nonce: /^[A-Za-z0-9_-]{16,64}$/,
    usage: /^[a-z0-9][a-z0-9-]{0,31}$/,
    keyId: /^[A-Za-z0-9._-]{1,64}$/,
    base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
    token: /^[\x21-\x7E]{1,64}$/,
    maxUsages: 16,
    maxReason: 256,
    maxContainer: 16 * 1024
};

/**
 * SHA-256 of the request's operation content, encoded as registration.xsd describes.
 * A password ciphertext and a request signature are bound to this digest, so neither
 * can be moved onto another request. Answers name answeredDigest, which adds the
 * authentication.
 */
export function requestDigest(content: OperationContent): Buffer {

    const head = [content.operation, content.name, renderTime(content.timestamp, 'timestamp'), content.nonce];
    let rest: Array<string | undefined>;
    switch (content.operation) {
        case 'register':
            rest = [content.container, String(content.usage.length), ...content.usage, content.expiresAt === undefined ? undefined : renderTime(content.expiresAt, 'expires')];
            break;
        case 'revoke':
            rest = [content.keyId, content.reason];
            break;
        default:
            rest = [];
    }

    return createHash('sha256').update(encodeFields('IKS-REQUEST-1', [...head, ...rest])).digest();
}

/**
 * What a registration answer names (its RequestDigest): the request as sent, its
 * authentication included, as SHA-256 of "IKS-ANSWERED-1" 0x00 || the request digest (hex)
 * || the authentication's fields (registration.xsd). The request digest alone covers what
 * is asked, not how it is authenticated: a copy with its authentication spoiled on the way
 * got a signed refusal naming the genuine request, which its client then believed.
 */
export function answeredDigest(request: RegistrationRequest, digest: Buffer = requestDigest(request)): Buffer {

    const authentication = request.authentication;
    let fields: string[];
    switch (authentication.method) {
        case 'password':
            fields = [authentication.method, authentication.user, authentication.encKey, authentication.ciphertext.toString('base64')];
            break;
        case 'user-key':
            fields = [authentication.method, authentication.signer, authentication.keyId, authentication.signature.toString('base64')];
            break;
        default: {
            const { assertion } = authentication;
            fields = [authentication.method, assertion.issuer, assertion.keyId, assertion.subject, renderTime(assertion.issuedAt, 'issuedAt'), renderTime(assertion.notAfter, 'notAfter'), assertion.signature.toString('base64')];
        }
    }

    return createHash('sha256').update(encodeFields('IKS-ANSWERED-1', [digest.toString('hex'), ...fields])).digest();
}

// ---- reading (server) ----

/** Text content of an element whose attributes the caller has checked. */
function contentOf(element: XmlElement): string {

    if (element.children.some((child) => typeof child !== 'string')) {
        throw new InvalidXml(`Element ${element.localName} must contain text only`);
    }

    return element.children.join('');
}

function base64(element: XmlElement, what: string): Buffer {

    const text = contentOf(element);
    if (text.length === 0 || !internals.base64.test(text)) {
        throw new InvalidXml(`${what} must be base64`);
    }

    return Buffer.from(text, 'base64');
}

function attribute(element: XmlElement, name: string, pattern: RegExp): string {

    const value = element.attributes[name];
    if (value === undefined || !pattern.test(value)) {
        throw new InvalidXml(`Element ${element.localName} lacks a valid ${name} attribute`);
    }

    return value;
}

/** Reads an Assertion element (inside a request, or a file a third party issued). */
export function readAssertion(element: XmlElement): Assertion {

    if (element.namespace !== IKS_NAMESPACE || element.localName !== 'Assertion') {
        throw new InvalidXml(`Expected an IKS Assertion, found ${element.name}`);
    }

    noAttributes(element, ['issuer', 'keyId']);
    const issuer = attribute(element, 'issuer', /^.{1,600}$/su);
    const keyId = attribute(element, 'keyId', internals.keyId);
    const cursor = new Cursor(element);
    const subject = nonEmpty(cursor.required('Subject'));
    const issuedAt = readTime(textOf(cursor.required('Issued')));
    const notAfter = readTime(textOf(cursor.required('NotAfter')));
    const signature = base64(cursor.required('Value'), 'Assertion Value');
    cursor.end();
    return { issuer, keyId, subject, issuedAt, notAfter, signature };
}

function readAuthentication(element: XmlElement): Authentication {

    noAttributes(element);
    const cursor = new Cursor(element);
    const password = cursor.optional('Password');
    if (password) {
        cursor.end();
        noAttributes(password, ['user', 'encKey']);
        return { method: 'password', user: attribute(password, 'user', /^.{1,600}$/su), encKey: attribute(password, 'encKey', internals.token), ciphertext: base64(password, 'Password') };
    }

    const userKey = cursor.optional('UserKey');
    if (userKey) {
        cursor.end();
        noAttributes(userKey, ['name', 'keyId']);
        return { method: 'user-key', signer: attribute(userKey, 'name', /^.{1,600}$/su), keyId: attribute(userKey, 'keyId', internals.keyId), signature: base64(userKey, 'UserKey') };
    }

    const assertion = cursor.required('Assertion');
    cursor.end();
    return { method: 'assertion', assertion: readAssertion(assertion) };
}

/**
 * Reads the request element of a SOAP Body strictly (registration.xsd). Throws
 * InvalidRequest naming what is wrong; values are not interpreted yet (names are
 * canonicalised and keys parsed by the registration authority).
 */
export function readRequest(element: XmlElement): RegistrationRequest {

    const operation = element.namespace === IKS_NAMESPACE ? internals.operations[element.localName] : undefined;
    if (operation === undefined) {
        throw new InvalidRequest(`the Body holds ${element.name}; expected Register, Revoke or ListMyKeys in the namespace ${IKS_NAMESPACE}`, { subcode: 'UnknownOperation' });
    }

    try {
        noAttributes(element);
        const cursor = new Cursor(element);
        const head: RequestHead = {
            name: nonEmpty(cursor.required('Name')),
            timestamp: readTime(textOf(cursor.required('Timestamp'))),
            nonce: matching(cursor.required('Nonce'), internals.nonce)
        };

        let content: OperationContent;
        switch (operation) {
            case 'register': {
                const container = nonEmpty(cursor.required('Container'));
                if (container.length > internals.maxContainer) {
                    throw new InvalidXml(`Container is longer than ${internals.maxContainer} characters`);
                }

                const usage: string[] = [];
                for (let element = cursor.optional('Usage'); element; element = cursor.optional('Usage')) {
                    usage.push(matching(element, internals.usage));
                }

                if (usage.length === 0 || usage.length > internals.maxUsages || new Set(usage).size !== usage.length) {
                    throw new InvalidXml(`Register needs 1 to ${internals.maxUsages} distinct Usage elements`);
                }

                const expires = cursor.optional('Expires');
                content = { operation, ...head, container, usage, ...(expires ? { expiresAt: readTime(textOf(expires)) } : {}) };
                break;
            }

            case 'revoke': {
                const keyId = matching(cursor.required('KeyId'), internals.keyId);
                const reasonElement = cursor.optional('Reason');
                const reason = reasonElement ? nonEmpty(reasonElement) : undefined;
                if (reason !== undefined && reason.length > internals.maxReason) {
                    throw new InvalidXml(`Reason is longer than ${internals.maxReason} characters`);
                }

                content = { operation, ...head, keyId, ...(reason !== undefined ? { reason } : {}) };
                break;
            }

            default:
                content = { operation, ...head };
        }

        const authentication = readAuthentication(cursor.required('Authentication'));
        cursor.end();
        return { ...content, authentication };
    }
    catch (error) {
        if (error instanceof InvalidXml) {
            throw new InvalidRequest(`${internals.elements[operation]}: ${error.message}`, { cause: error });
        }

        throw error;
    }
}

// ---- rendering (client) ----

function element(name: string, value: string, field: string): string {

    return `<${name}>${escapeText(value, field)}</${name}>`;
}

/** The Assertion element, as a third party issues it (standalone: declares its namespace). */
export function renderAssertion(assertion: Assertion): string {

    return `<Assertion xmlns="${IKS_NAMESPACE}" issuer="${escapeAttribute(assertion.issuer, 'issuer')}" keyId="${escapeAttribute(assertion.keyId, 'keyId')}">` +
        element('Subject', assertion.subject, 'subject') +
        element('Issued', renderTime(assertion.issuedAt, 'issuedAt'), 'issuedAt') +
        element('NotAfter', renderTime(assertion.notAfter, 'notAfter'), 'notAfter') +
        element('Value', assertion.signature.toString('base64'), 'signature') +
        '</Assertion>';
}

function renderAuthentication(authentication: Authentication): string {

    switch (authentication.method) {
        case 'password':
            return `<Password user="${escapeAttribute(authentication.user, 'user')}" encKey="${escapeAttribute(authentication.encKey, 'encKey')}">${authentication.ciphertext.toString('base64')}</Password>`;
        case 'user-key':
            return `<UserKey name="${escapeAttribute(authentication.signer, 'name')}" keyId="${escapeAttribute(authentication.keyId, 'keyId')}">${authentication.signature.toString('base64')}</UserKey>`;
        default:
            return renderAssertion(authentication.assertion);
    }
}

/**
 * Renders a request element for a SOAP Body. Text is escaped so that the values the
 * server reads back are exactly the values given (carriage returns included), which
 * keeps the digest both sides compute equal.
 */
export function renderRequest(request: RegistrationRequest): string {

    const tag = internals.elements[request.operation];
    let body = element('Name', request.name, 'name') + element('Timestamp', renderTime(request.timestamp, 'timestamp'), 'timestamp') + element('Nonce', request.nonce, 'nonce');
    switch (request.operation) {
        case 'register':
            body += element('Container', request.container, 'container') + request.usage.map((usage) => element('Usage', usage, 'usage')).join('');
            if (request.expiresAt !== undefined) {
                body += element('Expires', renderTime(request.expiresAt, 'expires'), 'expires');
            }

            break;
        case 'revoke':
            body += element('KeyId', request.keyId, 'keyId');
            if (request.reason !== undefined) {
                body += element('Reason', request.reason, 'reason');
            }

            break;
        default:
    }

    return `<${tag} xmlns="${IKS_NAMESPACE}">${body}<Authentication>${renderAuthentication(request.authentication)}</Authentication></${tag}>`;
}

/** The authentication methods, in the order answers list them. */
export const authenticationMethods: readonly AuthenticationMethod[] = Object.freeze(['password', 'user-key', 'assertion'] as const);
