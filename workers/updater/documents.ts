/**
 * What the updater publishes for one name (paper §6.2): the KSK-signed key list of
 * its currently valid keys, one KSK-signed document per key (a signed revocation for
 * revoked keys still within retention), and when the name must be looked at again.
 * Pure: the same registrations and clock give the same documents.
 */
import { createHash } from 'node:crypto';

import { InvalidXml } from '../../lib/errors';
import type { PublicKeyInfo, SigningKey } from '../../lib/keys/types';
import { isActive, keyMetadataOf } from '../../lib/store/registration';
import type { DocumentSource, Registration, StoredDocument } from '../../lib/store/types';
import type { IksDocument, KeyDocument, KeyMaterial } from '../../lib/xml/types';
import { renderDocument } from '../../lib/xml';
import { renderAndSign } from '../../lib/xmldsig';

const internals = {
    // Documents state times in whole seconds (ms).
    timeGranularity: 1000
};

export interface SigningPolicy {
    /** Signature validity, ms. */
    readonly validity: number;
    /** Re-sign this long before a signature expires, ms. */
    readonly refreshBefore: number;
    /** How long revoked and expired keys are kept (revocations stay published) before they are purged, ms. */
    readonly retention: number;
}

export interface NameDocuments {
    /** Slot → document signed now; with no previous documents, every document of the name. */
    readonly documents: Map<string, StoredDocument>;
    /** Slot → what each document in `documents` was signed from (DocumentSource). */
    readonly sources: Map<string, string>;
    /** Slots whose stored documents are still current: left as they are, not signed again. */
    readonly kept: readonly string[];
    /** When the name must be processed again (earliest re-sign or key expiry), or null. */
    readonly nextDue: number | null;
    /**
     * Registrations left out because no document can carry them (a stored value from an
     * older version or a damaged store): the name's other keys are published without them.
     */
    readonly unpublishable: ReadonlyArray<{ readonly keyId: string; readonly reason: string }>;
}

function materialOf(registration: Registration): KeyMaterial {

    return { ...keyMetadataOf(registration), spki: registration.spki, container: registration.container };
}

/**
 * When a registration may be forgotten: `retention` after its revocation, or after its
 * expiry; never for a key that is still valid (paper §6.2: "expired, or purged").
 */
export function purgeTime(registration: Registration, retention: number): number | null {

    if (registration.revokedAt !== undefined) {
        return registration.revokedAt + retention;
    }

    return registration.expiresAt === undefined ? null : registration.expiresAt + retention;
}

/** Entity tag of a signed body: a digest, so any two gateways agree on it. */
export function entityTag(body: string): string {

    return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/**
 * Signs `document` with the KSK into a stored document.
 * Security: the caller is the updater (or an on-line/on-demand signer); the KSK never leaves it.
 */
export function signStored(document: IksDocument, ksk: SigningKey): StoredDocument {

    const body = renderAndSign(document, ksk);
    return { body, etag: entityTag(body), signedAt: document.issuedAt, notAfter: document.notAfter };
}

/**
 * What a document is signed from: its content without its times, and the KSK that signs
 * it. Two documents with one source differ only in their validity period.
 */
export function sourceOf(document: IksDocument, ksk: SigningKey): string {

    return createHash('sha256').update(ksk.keyName).update('\n').update(JSON.stringify({ ...document, issuedAt: 0, notAfter: 0 })).digest('base64url');
}

/**
 * Builds the documents of `name` from its registrations, signed with the KSK.
 * A listed key's expiry caps the validity of the documents that list it, so a
 * cached answer can never vouch for an expired key.
 *
 * `previous` (the store's DocumentSources of the name) lets a change re-sign only what it
 * changed: a stored document with the same source whose signature is not yet due for
 * refreshing is kept, so adding a key signs the list and that key's document, not every
 * key document of the name again. An empty map signs everything (`--resign-all`).
 */
export function buildNameDocuments(name: string, registrations: readonly Registration[], ksk: SigningKey, policy: SigningPolicy, now: number, previous: ReadonlyMap<string, DocumentSource> = new Map()): NameDocuments {

    // A time that is not a number (a damaged stored value) would poison every comparison and
    // the name's next due time (NaN), which no queue can hold: such a registration is left out.
    const damaged = registrations.flatMap((registration) => {

        const reason = timeProblem(registration);
        return reason === null ? [] : [{ keyId: registration.keyId, reason }];
    });
    if (damaged.length === 0) {
        return buildRenderable(name, registrations, ksk, policy, now, previous);
    }

    const left = new Set(damaged.map((entry) => entry.keyId));
    const built = buildRenderable(name, registrations.filter((registration) => !left.has(registration.keyId)), ksk, policy, now, previous);
    return { ...built, unpublishable: [...damaged, ...built.unpublishable] };
}

/** Why a registration's times cannot be used, or null when they are all finite numbers. */
function timeProblem(registration: Registration): string | null {

    for (const field of ['registeredAt', 'expiresAt', 'revokedAt'] as const) {
        const value: unknown = registration[field];
        if ((value !== undefined || field === 'registeredAt') && (typeof value !== 'number' || !Number.isFinite(value))) {
            return `its stored ${field} is not a time (${String(value)})`;
        }
    }

    return null;
}

function buildRenderable(name: string, registrations: readonly Registration[], ksk: SigningKey, policy: SigningPolicy, now: number, previous: ReadonlyMap<string, DocumentSource>): NameDocuments {

    try {
        return buildAll(name, registrations, ksk, policy, now, previous);
    }
    catch (error) {
        // One registration that no document can carry must not keep the name's other keys
        // unpublished (and its list lapsing) for ever: find it, leave it out, report it.
        // Only a failed build pays for rendering each registration alone.
        if (!(error instanceof InvalidXml)) {
            throw error;
        }

        const unpublishable = registrations.flatMap((registration) => {

            const reason = renderProblem(name, registration, now);
            return reason === null ? [] : [{ keyId: registration.keyId, reason }];
        });
        // Defensive: every failure of a render comes from some registration's values.
        // $lab:coverage:off$
        if (unpublishable.length === 0) {
            throw error;
        }
        // $lab:coverage:on$

        const left = new Set(unpublishable.map((entry) => entry.keyId));
        const built = buildAll(name, registrations.filter((registration) => !left.has(registration.keyId)), ksk, policy, now, previous);
        // Left out of the documents, not out of the schedule: its retention still ends, and the
        // name must come back then to purge it (alone, it would leave the queue for good).
        const purges = registrations.filter((registration) => left.has(registration.keyId))
            .map((registration) => purgeTime(registration, policy.retention)).filter((time): time is number => time !== null);
        const nextDue = Math.min(built.nextDue ?? Infinity, ...purges.map((time) => Math.max(now, time)));
        return { ...built, nextDue: nextDue === Infinity ? null : nextDue, unpublishable };
    }
}

/**
 * The document of one key: its material, and for a revoked key the signed revocation.
 * The property order is part of the document's source (sourceOf): keep it.
 */
function keyDocumentOf(name: string, registration: Registration, issuedAt: number, notAfter: number): KeyDocument {

    return {
        type: 'KeyDocument',
        name,
        issuedAt,
        notAfter,
        status: registration.revokedAt !== undefined ? 'revoked' : 'active',
        key: materialOf(registration),
        ...(registration.revokedAt !== undefined ? { revokedAt: registration.revokedAt, ...(registration.revocationReason !== undefined ? { revocationReason: registration.revocationReason } : {}) } : {})
    };
}

/** Why `registration`'s own documents cannot be rendered, or null when they can. */
function renderProblem(name: string, registration: Registration, now: number): string | null {

    try {
        renderDocument({ type: 'KeyList', name, issuedAt: now, notAfter: now, keys: [keyMetadataOf(registration)] });
        renderDocument(keyDocumentOf(name, registration, now, now));
        return null;
    }
    catch (error) {
        if (error instanceof InvalidXml) {
            return error.message;
        }

        throw error;
    }
}

/** Whether a name's key list names `registration`: neither revoked nor past its expiry. */
export function isListed(registration: Registration, now: number): boolean {

    return isActive(registration, now);
}

/** Whether `registration` has a key document: a listed key, or a revoked one (its signed revocation). */
export function hasKeyDocument(registration: Registration, now: number): boolean {

    return registration.revokedAt !== undefined || isListed(registration, now);
}

function buildAll(name: string, registrations: readonly Registration[], ksk: SigningKey, policy: SigningPolicy, now: number, previous: ReadonlyMap<string, DocumentSource>): NameDocuments {

    const sorted = [...registrations].sort((a, b) => a.registeredAt - b.registeredAt || a.keyId.localeCompare(b.keyId));
    const listed = sorted.filter((registration) => isListed(registration, now));

    // Revoked and expired keys come back when their retention ends, to be purged.
    const purges = sorted.map((registration) => purgeTime(registration, policy.retention)).filter((time): time is number => time !== null);
    const earliestPurge = purges.length > 0 ? Math.max(now, Math.min(...purges)) : null;

    const fullValidity = now + policy.validity;
    const earliestExpiry = Math.min(fullValidity, ...listed.map((registration) => registration.expiresAt ?? fullValidity));

    const wanted = new Map<string, IksDocument>();
    if (listed.length > 0) {
        wanted.set('list', {
            type: 'KeyList',
            name,
            issuedAt: now,
            notAfter: earliestExpiry,
            keys: listed.map(keyMetadataOf)
        });
    }

    for (const registration of sorted.filter((candidate) => hasKeyDocument(candidate, now))) {
        // A revocation stays valid past the key's expiry; a listed key's document ends with it.
        const notAfter = registration.revokedAt !== undefined ? fullValidity : Math.min(fullValidity, registration.expiresAt ?? fullValidity);
        wanted.set(`key:${registration.keyId}`, keyDocumentOf(name, registration, now, notAfter));
    }

    const documents = new Map<string, StoredDocument>();
    const sources = new Map<string, string>();
    const kept: string[] = [];
    // Look again when the first signature needs refreshing, the first listed key expires
    // (it must leave the list at that moment) or the first retention ends.
    let nextDue = Math.min(earliestExpiry, earliestPurge ?? Infinity);
    for (const [slot, document] of wanted) {
        // A document whose validity a listed key's expiry caps gains nothing from a new
        // signature: it is kept until that expiry, which earliestExpiry already schedules.
        const capped = document.notAfter < fullValidity;
        const source = sourceOf(document, ksk);
        const stored = previous.get(slot);
        const atCap = capped && stored !== undefined && stored.notAfter >= document.notAfter;
        // `now` is in whole seconds and may trail the clock by up to one: refresh up to a
        // second early rather than schedule a refresh in the past.
        const fresh = stored !== undefined && stored.notAfter - policy.refreshBefore > now + internals.timeGranularity;
        if (stored?.source === source && (atCap || fresh)) {
            kept.push(slot);
            nextDue = atCap ? nextDue : Math.min(nextDue, stored.notAfter - policy.refreshBefore);
            continue;
        }

        documents.set(slot, signStored(document, ksk));
        sources.set(slot, source);
        nextDue = capped ? nextDue : Math.min(nextDue, Math.max(now, document.notAfter - policy.refreshBefore));
    }

    return { documents, sources, kept, nextDue: wanted.size > 0 ? nextDue : earliestPurge, unpublishable: [] };
}

/** A domain key published in IKS (paper §4.3: the RSK "can be retrieved from the IKS"). */
export interface PublishedDomainKey {
    readonly role: 'rsk' | 'enc';
    readonly keyName: string;
    readonly key: PublicKeyInfo;
}

const domainKeyUsage: Record<PublishedDomainKey['role'], string> = {
    rsk: 'iks-response-signing',
    enc: 'iks-password-encryption'
};

/** Builds the KSK-signed documents that publish the domain's RSK and encryption key (slots `rsk`, `enc`). */
export function buildDomainDocuments(domain: string, keys: readonly PublishedDomainKey[], ksk: SigningKey, policy: SigningPolicy, now: number): NameDocuments {

    const documents = new Map<string, StoredDocument>();
    const notAfter = now + policy.validity;
    for (const published of keys) {
        documents.set(published.role, signStored({
            type: 'PublishedKey',
            name: domain,
            issuedAt: now,
            notAfter,
            role: published.role,
            keyName: published.keyName,
            key: {
                id: published.key.id,
                algorithm: published.key.algorithm,
                size: published.key.size,
                ...(published.key.curve !== undefined ? { curve: published.key.curve } : {}),
                format: 'spki',
                fingerprint: published.key.fingerprint,
                usage: [domainKeyUsage[published.role]],
                registeredAt: now,
                spki: published.key.spki.toString('base64'),
                container: published.key.container
            }
        }, ksk));
    }

    return { documents, sources: new Map(), kept: [], nextDue: documents.size > 0 ? Math.max(now, notAfter - policy.refreshBefore) : null, unpublishable: [] };
}
