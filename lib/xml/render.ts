/**
 * Renders the IKS documents (paper §5.5) directly in their exclusive-c14n canonical
 * form (W3C xml-exc-c14n, which uses the C14N 1.0 serialisation rules): no XML
 * declaration, no self-closing tags, one default namespace declared on the root,
 * no whitespace between elements, c14n escaping. Because the bytes are canonical by
 * construction, the signer digests them as they are instead of parsing and
 * canonicalising again — the step that dominates the cost of a generic signer.
 */
import { InvalidXml } from '../errors';
import { FORBIDDEN_CHARACTER } from './characters';
import type { IksDocument, KeyMaterial, KeyMetadata, RegisteredKey, RegistrationAnswerDocument } from './types';

/** Namespace of every IKS document element. */
export const IKS_NAMESPACE = 'urn:iks:xml:1';

const internals = {
    textSpecial: /[&<>\r]/,
    attributeSpecial: /[&<"\t\n\r]/,
    // xs:dateTime with four-digit years only: 0000-01-01T00:00:00Z … 9999-12-31T23:59:59Z.
    minTime: -62_167_219_200_000,
    maxTime: 253_402_300_799_999
};

/** C14N 1.0 §2.3 text node escaping, also rejecting characters XML cannot carry. */
export function escapeText(value: string, field: string): string {

    if (typeof value !== 'string') {
        throw new InvalidXml(`Document field ${field} must be a string`);
    }

    if (FORBIDDEN_CHARACTER.test(value)) {
        throw new InvalidXml(`Document field ${field} contains a character IKS documents cannot carry`);
    }

    if (!internals.textSpecial.test(value)) {
        return value;
    }

    return value.replace(/[&<>\r]/g, (char) => {

        switch (char) {
            case '&': return '&amp;';
            case '<': return '&lt;';
            case '>': return '&gt;';
            default: return '&#xD;';
        }
    });
}

/** C14N 1.0 §2.3 attribute value escaping. */
export function escapeAttribute(value: string, field: string): string {

    if (typeof value !== 'string') {
        throw new InvalidXml(`Document field ${field} must be a string`);
    }

    if (FORBIDDEN_CHARACTER.test(value)) {
        throw new InvalidXml(`Document field ${field} contains a character IKS documents cannot carry`);
    }

    if (!internals.attributeSpecial.test(value)) {
        return value;
    }

    return value.replace(/[&<"\t\n\r]/g, (char) => {

        switch (char) {
            case '&': return '&amp;';
            case '<': return '&lt;';
            case '"': return '&quot;';
            case '\t': return '&#x9;';
            case '\n': return '&#xA;';
            default: return '&#xD;';
        }
    });
}

/** Milliseconds since the epoch → xs:dateTime in UTC, second precision (truncated). */
export function renderTime(ms: number, field = 'time'): string {

    if (!Number.isFinite(ms) || ms < internals.minTime || ms > internals.maxTime) {
        throw new InvalidXml(`Document field ${field} is not a representable time`);
    }

    const iso = new Date(ms).toISOString();            // YYYY-MM-DDTHH:MM:SS.sssZ
    return iso.slice(0, 19) + 'Z';
}

function element(name: string, value: string, field: string): string {

    return `<${name}>${escapeText(value, field)}</${name}>`;
}

function timeElement(name: string, ms: number, field: string): string {

    return `<${name}>${renderTime(ms, field)}</${name}>`;
}

function size(value: number): string {

    if (!Number.isSafeInteger(value) || value <= 0) {
        throw new InvalidXml('Document field key.size must be a positive integer');
    }

    return `<Size>${value}</Size>`;
}

function metadataBody(key: KeyMetadata): string {

    let body = element('Algorithm', key.algorithm, 'key.algorithm') + size(key.size);
    if (key.curve !== undefined) {
        body += element('Curve', key.curve, 'key.curve');
    }

    body += element('Format', key.format, 'key.format') + element('Fingerprint', key.fingerprint, 'key.fingerprint');
    for (const usage of key.usage) {
        body += element('Usage', usage, 'key.usage');
    }

    body += timeElement('Registered', key.registeredAt, 'key.registeredAt');
    if (key.expiresAt !== undefined) {
        body += timeElement('Expires', key.expiresAt, 'key.expiresAt');
    }

    return body;
}

function keyMetadata(key: KeyMetadata): string {

    return `<Key id="${escapeAttribute(key.id, 'key.id')}">${metadataBody(key)}</Key>`;
}

function keyMaterial(key: KeyMaterial): string {

    return `<Key id="${escapeAttribute(key.id, 'key.id')}">${metadataBody(key)}${element('Material', key.spki, 'key.spki')}${element('Container', key.container, 'key.container')}</Key>`;
}

function registeredKey(key: RegisteredKey): string {

    let body = metadataBody(key) + element('State', key.state, 'key.state');
    if (key.revokedAt !== undefined) {
        body += timeElement('Revoked', key.revokedAt, 'key.revokedAt');
    }

    if (key.revocationReason !== undefined) {
        body += element('Reason', key.revocationReason, 'key.revocationReason');
    }

    return `<RegisteredKey id="${escapeAttribute(key.id, 'key.id')}">${body}</RegisteredKey>`;
}

function registrationAnswerBody(doc: RegistrationAnswerDocument): string {

    let body = element('Operation', doc.operation, 'operation') + element('RequestDigest', doc.requestDigest, 'requestDigest') + element('Outcome', doc.outcome, 'outcome');
    if (doc.keyId !== undefined) {
        body += element('KeyId', doc.keyId, 'keyId');
    }

    if (doc.state !== undefined) {
        body += element('State', doc.state, 'state');
    }

    for (const key of doc.keys ?? []) {
        body += registeredKey(key);
    }

    for (const method of doc.acceptedMethods ?? []) {
        body += element('AcceptedMethod', method, 'acceptedMethods');
    }

    if (doc.retryAt !== undefined) {
        body += timeElement('RetryAfter', doc.retryAt, 'retryAt');
    }

    if (doc.reason !== undefined) {
        body += element('Reason', doc.reason, 'reason');
    }

    return body;
}

/**
 * Renders an unsigned document in exclusive-c14n canonical form. Times are truncated to
 * whole seconds. Throws InvalidXml for values XML cannot carry (control characters,
 * times outside years 0000–9999, non-integer sizes).
 */
export function renderDocument(doc: IksDocument): string {

    const head = element('Name', doc.name, 'name') + timeElement('Issued', doc.issuedAt, 'issuedAt') + timeElement('NotAfter', doc.notAfter, 'notAfter');
    let body: string;

    switch (doc.type) {
        case 'KeyList': {
            body = head;
            for (const key of doc.keys) {
                body += keyMetadata(key);
            }

            break;
        }

        case 'KeyDocument': {
            body = head + element('Status', doc.status, 'status');
            if (doc.revokedAt !== undefined) {
                body += timeElement('Revoked', doc.revokedAt, 'revokedAt');
            }

            if (doc.revocationReason !== undefined) {
                body += element('Reason', doc.revocationReason, 'revocationReason');
            }

            body += keyMaterial(doc.key);
            break;
        }

        case 'NegativeAnswer': {
            body = head + element('Reason', doc.reason, 'reason');
            if (doc.keyId !== undefined) {
                body += element('KeyId', doc.keyId, 'keyId');
            }

            break;
        }

        case 'PublishedKey': {
            body = head + element('Role', doc.role, 'role') + element('KeyName', doc.keyName, 'keyName') + keyMaterial(doc.key);
            break;
        }

        case 'RegistrationAnswer': {
            body = head + registrationAnswerBody(doc);
            break;
        }

        default:
            throw new InvalidXml(`Unknown document type ${String((doc as { type?: unknown }).type)}`);
    }

    return `<${doc.type} xmlns="${IKS_NAMESPACE}">${body}</${doc.type}>`;
}
