/**
 * The registration record: how a parsed public key is stored for a name, and when a
 * stored key may be relied on. Shared by everything that writes registrations (the
 * register plugin, `iks import`, the quickstart) and by the updater that lists them.
 */
import type { PublicKeyInfo } from '../keys/types';
import type { KeyMetadata } from '../xml/types';
import type { Registration } from './types';

/**
 * The store record of `key` registered for `name` (canonical) with its permitted uses.
 * The expiry is kept in whole seconds, as documents state it: the signer works in whole
 * seconds too, and an expiry between two of them would leave the key listed past its time
 * and the name due again at once, over and over, until the next second.
 */
export function registrationOf(name: string, key: PublicKeyInfo, usage: readonly string[], registeredAt: number, expiresAt?: number): Registration {

    return {
        name,
        keyId: key.id,
        algorithm: key.algorithm,
        size: key.size,
        ...(key.curve !== undefined ? { curve: key.curve } : {}),
        format: key.format,
        fingerprint: key.fingerprint,
        spki: key.spki.toString('base64'),
        container: key.container,
        usage,
        registeredAt,
        ...(expiresAt !== undefined ? { expiresAt: expiresAt - expiresAt % 1000 } : {})
    };
}

/** A key that may be relied on at `now`: not revoked and not past its expiry (paper §5.3). */
export function isActive(registration: Registration, now: number): boolean {

    return registration.revokedAt === undefined && (registration.expiresAt === undefined || registration.expiresAt > now);
}

/** What a key list says of a stored key (no key material). */
export function keyMetadataOf(registration: Registration): KeyMetadata {

    return {
        id: registration.keyId,
        algorithm: registration.algorithm,
        size: registration.size,
        ...(registration.curve !== undefined ? { curve: registration.curve } : {}),
        format: registration.format,
        fingerprint: registration.fingerprint,
        usage: registration.usage,
        registeredAt: registration.registeredAt,
        ...(registration.expiresAt !== undefined ? { expiresAt: registration.expiresAt } : {})
    };
}
