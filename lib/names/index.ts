/**
 * IKS names `N = entity@domain` (paper §5.1) and their URL form (ARCHITECTURE.md §3).
 *
 * Canonical form: the domain is a lowercase IDNA A-label name without trailing dot;
 * the entity is Unicode NFC. Every component compares and signs canonical names only,
 * so two spellings of one name can never carry different keys.
 */
import { domainToASCII } from 'node:url';

import { InvalidName } from '../errors';
import { FORBIDDEN_CHARACTER } from '../xml/characters';

const internals = {
    maxEntityBytes: 255,
    maxDomainLength: 253,
    maxLabelLength: 63,
    // LDH rule (RFC 1035 §2.3.1, RFC 5891 §4.2.3.1) applied to A-labels.
    ldhLabel: /^(?!-)[a-z0-9-]{1,63}(?<!-)$/,
    controlCharacters: /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u,
    base64url: /^[A-Za-z0-9_-]+$/,
    utf8: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
};

/** The parts of a canonical name. */
export interface ParsedName {
    readonly entity: string;
    readonly domain: string;
    readonly name: string;
}

/**
 * Canonicalises a DNS domain: IDNA (UTS #46) to A-labels, lowercase, no trailing dot.
 * Throws InvalidName naming the rule that failed.
 */
export function canonicalDomain(input: string): string {

    if (typeof input !== 'string' || input.length === 0) {
        throw new InvalidName('domain is empty');
    }

    const trimmed = input.endsWith('.') ? input.slice(0, -1) : input;
    if (trimmed.length === 0 || trimmed.startsWith('.') || trimmed.includes('..')) {
        throw new InvalidName(`domain "${input}" has an empty label`);
    }

    const ascii = domainToASCII(trimmed);
    if (ascii === '') {
        throw new InvalidName(`domain "${input}" is not a valid IDNA domain name`);
    }

    if (ascii.length > internals.maxDomainLength) {
        throw new InvalidName(`domain "${input}" is longer than ${internals.maxDomainLength} characters`);
    }

    for (const label of ascii.split('.')) {
        if (label.length > internals.maxLabelLength) {
            throw new InvalidName(`domain label "${label}" is longer than ${internals.maxLabelLength} characters`);
        }

        if (!internals.ldhLabel.test(label)) {
            throw new InvalidName(`domain label "${label}" may contain only letters, digits and inner hyphens`);
        }
    }

    return ascii;
}

/** Canonicalises the entity part: Unicode NFC, no control characters, 1–255 UTF-8 bytes. */
export function canonicalEntity(input: string): string {

    const entity = input.normalize('NFC');
    if (entity.length === 0) {
        throw new InvalidName('entity part is empty');
    }

    if (entity.includes('@')) {
        throw new InvalidName('entity part must not contain "@"');
    }

    if (internals.controlCharacters.test(entity)) {
        throw new InvalidName('entity part contains a control character');
    }

    // The name is signed into every answer about it, negative ones included.
    if (FORBIDDEN_CHARACTER.test(entity)) {
        throw new InvalidName('entity part contains a character IKS documents cannot carry (U+FFFE, U+FFFF or a lone surrogate)');
    }

    if (entity.trim() !== entity) {
        throw new InvalidName('entity part must not start or end with white space');
    }

    if (Buffer.byteLength(entity, 'utf8') > internals.maxEntityBytes) {
        throw new InvalidName(`entity part is longer than ${internals.maxEntityBytes} bytes`);
    }

    return entity;
}

/** Parses and canonicalises `entity@domain`. */
export function parseName(input: string): ParsedName {

    if (typeof input !== 'string' || input.length === 0) {
        throw new InvalidName('name is empty; expected entity@domain');
    }

    const at = input.indexOf('@');
    if (at === -1) {
        throw new InvalidName(`name "${input}" has no "@"; expected entity@domain`);
    }

    if (input.indexOf('@', at + 1) !== -1) {
        throw new InvalidName(`name "${input}" has more than one "@"`);
    }

    if (at === 0) {
        throw new InvalidName(`name "${input}" has an empty entity part`);
    }

    if (at === input.length - 1) {
        throw new InvalidName(`name "${input}" has an empty domain part`);
    }

    const entity = canonicalEntity(input.slice(0, at));
    const domain = canonicalDomain(input.slice(at + 1));
    return { entity, domain, name: `${entity}@${domain}` };
}

/** The canonical form of a name. */
export function canonicalName(input: string): string {

    return parseName(input).name;
}

/** The URL form: base64url (RFC 4648 §5, no padding) of the canonical name's UTF-8 bytes. */
export function nameToUrlForm(name: string): string {

    return Buffer.from(canonicalName(name), 'utf8').toString('base64url');
}

/**
 * Decodes a URL-form name. Only the one canonical encoding of a canonical name is
 * accepted, so a cache or signature keyed by URL can never be reached by a variant.
 */
export function nameFromUrlForm(encoded: string): ParsedName {

    if (!internals.base64url.test(encoded) || encoded.length % 4 === 1) {
        throw new InvalidName('name is not base64url (RFC 4648 §5, no padding)');
    }

    const bytes = Buffer.from(encoded, 'base64url');
    if (bytes.toString('base64url') !== encoded) {
        throw new InvalidName('name is not in canonical base64url form');
    }

    let decoded: string;
    try {
        decoded = internals.utf8.decode(bytes);
    }
    catch {
        throw new InvalidName('name is not valid UTF-8');
    }

    const parsed = parseName(decoded);
    if (parsed.name !== decoded) {
        throw new InvalidName(`name "${decoded}" is not canonical; use "${parsed.name}"`);
    }

    return parsed;
}
