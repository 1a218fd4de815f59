/**
 * The registration authority (paper §5.2, §5.3, §6.1; boulder's RA): decides what a
 * registration request may do. Order: the name must be ours and canonical, the
 * timestamp fresh and the nonce unseen (else InvalidRequest → SOAP Fault); then
 * authentication establishes a principal, authorization requires the principal to be
 * the name itself, and only then is the store changed. Registrations and revocations
 * are written together with the enqueue of their name (Store.putRegistrations), so the
 * updater publishes them at its next poll. A registration is written only at the version
 * of the name's registrations it was decided on; when they changed meanwhile, the request
 * is decided again on what is stored now.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { excerpt, InvalidKey, InvalidName, InvalidRequest, RegistrationsChanged, ReplayedRequest, StaleRequest } from '../errors';
import { parsePublicKey } from '../keys';
import { VerificationKeys } from '../keys/verification-keys';
import type { PublicKeyInfo, SigningKey } from '../keys/types';
import { parseName } from '../names';
import { isActive, keyMetadataOf, registrationOf } from '../store/registration';
import type { FailureLimiter, Registration, Store, VersionedRegistrations } from '../store/types';
import type { AuthenticationMethod, RegisteredKey, RegistrationAnswerDocument } from '../xml/types';
import { clientNetwork } from './client-network';
import { encodeFields } from './fields';
import { openPassword, verifyPassword } from './password';
import { answeredDigest, requestDigest, type Assertion, type Authentication, type RegistrationRequest } from './request';
import { verifyAssertionSignature, verifyRequestSignature } from './signatures';

export interface AuthoritySettings {
    readonly domain: string;
    readonly store: Store;
    /** The password-encryption key (private half): only for RSA-OAEP decryption. */
    readonly encKey: SigningKey;
    readonly methods: readonly AuthenticationMethod[];
    readonly maxKeysPerName: number;
    /**
     * Most registrations a name may have stored, active, expired and revoked alike: expired
     * and revoked ones stay stored and published until the updater purges them.
     */
    readonly maxRegistrationsPerName: number;
    readonly maxKeySize: number;
    /** ms */
    readonly replayWindow: number;
    /** ms */
    readonly assertionMaxLifetime: number;
    readonly passwordFailures: { readonly perEntity: number; readonly perAddress: number; readonly window: number; readonly lockout: number };
    readonly now?: () => number;
}

/** The content of the RSK-signed answer, plus who asked how (for the audit log only). */
export type Decision = Omit<RegistrationAnswerDocument, 'type' | 'issuedAt' | 'notAfter'> & {
    readonly method: AuthenticationMethod;
    readonly principal?: string;
};

/**
 * The registrations read while deciding one request, by name: authenticating with a key
 * of the name and then changing that name's keys read them once, not twice.
 */
class DecisionReads {

    readonly #store: Store;
    readonly #reads = new Map<string, Promise<VersionedRegistrations>>();

    constructor(store: Store) {

        this.#store = store;
    }

    #read(name: string): Promise<VersionedRegistrations> {

        let read = this.#reads.get(name);
        if (read === undefined) {
            read = this.#store.readRegistrations(name);
            this.#reads.set(name, read);
        }

        return read;
    }

    async registrations(name: string): Promise<Registration[]> {

        return (await this.#read(name)).registrations;
    }

    /** The version `name`'s registrations were read at: a change decided on them is written only at it. */
    async version(name: string): Promise<number> {

        return (await this.#read(name)).version;
    }

    /** Starts reading `name`'s registrations; a failure surfaces when they are awaited. */
    prefetch(name: string): void {

        this.#read(name).catch(() => {});
    }

    async registration(name: string, keyId: string): Promise<Registration | null> {

        return (await this.registrations(name)).find((registration) => registration.keyId === keyId) ?? null;
    }
}

/** The store's failure counters of password attempts: per user (also reset by `iks user add --replace`) and per client address. */
export const PASSWORD_FAILURE_KINDS = { entity: 'password-entity', address: 'password-address' } as const;

type Authenticated = { readonly principal: string } | { readonly failed: string } | { readonly lockedFor: number; readonly reason: string };

const internals = {
    // Clock difference tolerated on an assertion's issue time, ms.
    assertionSkew: 60_000,
    authUsage: 'iks-auth',
    certifyUsage: 'iks-certify',
    // A nonce is remembered this long past the replay window, ms: a replay that passes the
    // freshness check at the window's edge must still find it, even if the store's clock is
    // ahead of ours or the write lands a round trip later.
    nonceMargin: 60_000,
    passwordRefused: 'the user name or password was not accepted',
    // Decisions made again when the name's keys change between their read and the write.
    decisionAttempts: 3
};

function registeredKeyOf(registration: Registration, now: number): RegisteredKey {

    return {
        ...keyMetadataOf(registration),
        state: registration.revokedAt !== undefined ? 'revoked' : isActive(registration, now) ? 'active' : 'expired',
        ...(registration.revokedAt !== undefined ? { revokedAt: registration.revokedAt } : {}),
        ...(registration.revocationReason !== undefined ? { revocationReason: registration.revocationReason } : {})
    };
}

export class RegistrationAuthority {

    readonly #settings: AuthoritySettings;
    readonly #now: () => number;
    readonly #entityFailures: FailureLimiter;
    readonly #addressFailures: FailureLimiter;
    readonly #verificationKeys = new VerificationKeys();

    constructor(settings: AuthoritySettings) {

        this.#settings = settings;
        this.#now = settings.now ?? Date.now;
        const { perEntity, perAddress, window, lockout } = settings.passwordFailures;
        this.#entityFailures = settings.store.failureLimiter({ kind: PASSWORD_FAILURE_KINDS.entity, maxFailures: perEntity, windowSeconds: window, lockoutSeconds: lockout });
        this.#addressFailures = settings.store.failureLimiter({ kind: PASSWORD_FAILURE_KINDS.address, maxFailures: perAddress, windowSeconds: window, lockoutSeconds: lockout });
    }

    /**
     * Decides a request from `clientAddress`. Throws InvalidRequest (StaleRequest,
     * ReplayedRequest) for requests that get a SOAP Fault; every other outcome is a
     * Decision to be signed with the RSK.
     */
    async decide(request: RegistrationRequest, clientAddress: string): Promise<Decision> {

        const { store, replayWindow } = this.#settings;
        const now = this.#now();

        const name = this.#ownName(request.name, 'Name');
        if (Math.abs(now - request.timestamp) > replayWindow) {
            throw new StaleRequest(`the request timestamp ${new Date(request.timestamp).toISOString()} is more than ${replayWindow / 1000} s away from the server's clock (${new Date(now).toISOString()}); check the clock and send a new request`);
        }

        const digest = requestDigest(request);
        // Authenticating with the name's own key and every change read the name's
        // registrations: ask for them in the nonce check's round trip. A read is harmless if
        // the nonce turns out to be a replay.
        let reads = new DecisionReads(store);
        reads.prefetch(name);
        if (!(await store.rememberNonce(name, request.nonce, request.timestamp + replayWindow + internals.nonceMargin))) {
            throw new ReplayedRequest(`the nonce of this request was already used for ${name}; every request needs a new nonce`);
        }

        // The answer names the request as sent, its authentication included (answeredDigest).
        const base = { name, operation: request.operation, requestDigest: answeredDigest(request, digest).toString('hex'), method: request.authentication.method };
        let authenticated = await this.#authenticate(request, digest, clientAddress, now, reads);
        for (let attempt = 1; ; ++attempt) {
            if ('failed' in authenticated) {
                return { ...base, outcome: 'authentication-failed', acceptedMethods: this.#settings.methods, reason: authenticated.failed };
            }

            if ('lockedFor' in authenticated) {
                return { ...base, outcome: 'locked', retryAt: now + authenticated.lockedFor, reason: authenticated.reason };
            }

            const withPrincipal = { ...base, principal: authenticated.principal };
            if (authenticated.principal !== name) {
                return { ...withPrincipal, outcome: 'not-authorized', reason: `${authenticated.principal} may manage only its own keys, not those of ${name}` };
            }

            try {
                return { ...withPrincipal, ...await this.#operate(name, request, now, reads) };
            }
            catch (error) {
                if (!(error instanceof RegistrationsChanged)) {
                    throw error;
                }

                if (attempt === internals.decisionAttempts) {
                    return { ...withPrincipal, outcome: 'refused', reason: `the keys of ${name} changed ${attempt} times while this request was decided; send it again with a new nonce` };
                }
            }

            // The name's keys changed between the read and the write: decide again on what is
            // stored now. A user-key request authenticated with one of those keys, so it is
            // authenticated again (a key revoked meanwhile authenticates nothing).
            reads = new DecisionReads(store);
            if (request.authentication.method === 'user-key') {
                authenticated = await this.#userKey(request.authentication, digest, now, reads);
            }
        }
    }

    async #operate(name: string, request: RegistrationRequest, now: number, reads: DecisionReads): Promise<Pick<Decision, 'outcome' | 'keyId' | 'state' | 'reason' | 'keys'>> {

        switch (request.operation) {
            case 'register':
                return await this.#register(name, request, now, reads);
            case 'revoke':
                return await this.#revoke(name, request.keyId, request.reason, now, reads);
            default: {
                const keys = (await reads.registrations(name)).map((registration) => registeredKeyOf(registration, now));
                return { outcome: 'accepted', ...(keys.length > 0 ? { keys } : {}), reason: `${keys.length} key(s) registered for ${name} in ${this.#settings.domain}` };
            }
        }
    }

    /** The canonical form of a name of our domain, or InvalidRequest. */
    #ownName(input: string, what: string): string {

        let parsed;
        try {
            parsed = parseName(input);
        }
        catch (error) {
            if (error instanceof InvalidName) {
                throw new InvalidRequest(`${what}: ${error.message}`, { subcode: 'InvalidName' });
            }

            throw error;
        }

        if (parsed.domain !== this.#settings.domain) {
            throw new InvalidRequest(`${what}: this service registers names of ${this.#settings.domain} only, not of ${parsed.domain}`, { subcode: 'WrongDomain' });
        }

        if (parsed.name !== input) {
            throw new InvalidRequest(`${what}: "${input}" is not canonical; send "${parsed.name}"`, { subcode: 'InvalidName' });
        }

        return parsed.name;
    }

    /** A name of our domain in an authentication element; null when it is not one. */
    #principalName(input: string): string | null {

        try {
            return this.#ownName(input, 'principal');
        }
        catch (error) {
            if (error instanceof InvalidRequest) {
                return null;
            }

            throw error;
        }
    }

    async #authenticate(request: RegistrationRequest, digest: Buffer, clientAddress: string, now: number, reads: DecisionReads): Promise<Authenticated> {

        const authentication = request.authentication;
        if (!this.#settings.methods.includes(authentication.method)) {
            return { failed: `the ${authentication.method} method is not accepted by ${this.#settings.domain}` };
        }

        switch (authentication.method) {
            case 'password':
                return await this.#password(authentication, request.timestamp, digest, clientAddress);
            case 'user-key':
                return await this.#userKey(authentication, digest, now, reads);
            default:
                return await this.#assertion(authentication.assertion, now, reads);
        }
    }

    /** A registered key of our domain that is active and carries `usage`, or a reason why not. */
    async #usableKey(name: string | null, keyId: string, usage: string, now: number, reads: DecisionReads): Promise<Registration | string> {

        const registration = name === null ? null : await reads.registration(name, keyId);
        if (registration === null || !isActive(registration, now) || !registration.usage.includes(usage)) {
            return `key ${keyId} is not an active ${usage} key of ${name ?? 'a name of this domain'}`;
        }

        return registration;
    }

    async #password(authentication: Extract<Authentication, { method: 'password' }>, timestamp: number, digest: Buffer, clientAddress: string): Promise<Authenticated> {

        const { store } = this.#settings;
        const user = authentication.user;
        const network = clientNetwork(clientAddress);
        const locked = (seconds: number): Authenticated => ({ lockedFor: seconds, reason: 'too many failed password attempts; password authentication is locked until the time given' });
        const opened = this.#openPassword(authentication, timestamp, digest);
        if ('failed' in opened) {
            // No guess: a ciphertext that does not open, or is bound to another request, tells
            // nothing about the password. Counted against the user, it would let anyone lock
            // them out with no cryptography at all; it counts against its sender only.
            const addressLocked = await this.#addressFailures.attempt(network);
            return addressLocked > 0 ? locked(addressLocked) : opened;
        }

        // A guess is counted before it is checked: a burst of concurrent guesses is counted in
        // full before any of them costs an scrypt, and none gets past the lockout it runs into.
        const [entityLocked, addressLocked] = await Promise.all([this.#entityFailures.attempt(user), this.#addressFailures.attempt(network)]);
        if (entityLocked > 0 || addressLocked > 0) {
            // Not checked: it counts only where it was one too many.
            await Promise.all([entityLocked > 0 ? null : this.#entityFailures.refund(user), addressLocked > 0 ? null : this.#addressFailures.refund(network)]);
            return locked(Math.max(entityLocked, addressLocked));
        }

        const name = this.#principalName(user);
        const record = name === null ? null : await store.getUser(name);
        // Unknown and disabled users cost the same scrypt work as known ones.
        const matches = await verifyPassword(opened.password, record && !record.disabled ? record.passwordHash : null);
        if (matches && record && !record.disabled && name !== null) {
            await Promise.all([this.#entityFailures.reset(user), this.#addressFailures.refund(network)]);
            return { principal: name };
        }

        return { failed: internals.passwordRefused };
    }

    /** The password of a request, or why it cannot be read: encrypted for another key, not decrypting, bound to another request. */
    #openPassword(authentication: Extract<Authentication, { method: 'password' }>, timestamp: number, digest: Buffer): { password: string } | { failed: string } {

        const { encKey } = this.#settings;
        if (authentication.encKey !== encKey.keyName) {
            return { failed: `the password is encrypted for key "${excerpt(authentication.encKey, 64)}"; this domain's encryption key is "${encKey.keyName}" (GET /ikqs/v1/enc)` };
        }

        const opened = openPassword(encKey.privateKey, authentication.ciphertext);
        if (opened === null) {
            return { failed: `the encrypted password does not decrypt with ${encKey.keyName}` };
        }

        if (opened.timestamp !== timestamp || !timingSafeEqual(opened.digest, digest)) {
            // A ciphertext lifted from another request (paper §5.2: bound to this one).
            return { failed: 'the encrypted password is bound to another request' };
        }

        return { password: opened.password };
    }

    async #userKey(authentication: Extract<Authentication, { method: 'user-key' }>, digest: Buffer, now: number, reads: DecisionReads): Promise<Authenticated> {

        const signer = this.#principalName(authentication.signer);
        const key = await this.#usableKey(signer, authentication.keyId, internals.authUsage, now, reads);
        if (typeof key === 'string') {
            return { failed: key };
        }

        const publicKey = this.#verificationKeys.get(key.spki);
        if (!verifyRequestSignature(publicKey, digest, authentication.signature)) {
            return { failed: `the request signature does not verify with key ${key.keyId} of ${key.name}` };
        }

        return { principal: key.name };
    }

    async #assertion(assertion: Assertion, now: number, reads: DecisionReads): Promise<Authenticated> {

        const issuer = this.#principalName(assertion.issuer);
        const key = await this.#usableKey(issuer, assertion.keyId, internals.certifyUsage, now, reads);
        if (typeof key === 'string') {
            return { failed: `the assertion's issuer: ${key}` };
        }

        const publicKey = this.#verificationKeys.get(key.spki);
        if (!verifyAssertionSignature(publicKey, assertion)) {
            return { failed: `the assertion's signature does not verify with key ${key.keyId} of ${key.name}` };
        }

        if (now > assertion.notAfter) {
            return { failed: `the assertion expired at ${new Date(assertion.notAfter).toISOString()}` };
        }

        if (assertion.issuedAt - internals.assertionSkew > now) {
            return { failed: `the assertion is issued for ${new Date(assertion.issuedAt).toISOString()}, later than now` };
        }

        if (assertion.notAfter - assertion.issuedAt > this.#settings.assertionMaxLifetime) {
            return { failed: `the assertion is valid for longer than the ${this.#settings.assertionMaxLifetime / 1000} s this domain accepts` };
        }

        const subject = this.#principalName(assertion.subject);
        if (subject === null) {
            return { failed: `the assertion's subject "${excerpt(assertion.subject, 100)}" is not a name of ${this.#settings.domain}` };
        }

        // One request per assertion. It is a bearer token bound to no request: reused, anyone
        // who read one request carrying it (plain HTTP) could send requests of their own until
        // it expires, and register a key of their own that outlives it.
        // Keyed by what is signed, not by the signature: an ECDSA signature has a second valid form.
        const used = createHash('sha256').update(encodeFields('IKS-ASSERTION-USED', [assertion.issuer, assertion.keyId, assertion.subject, String(assertion.issuedAt), String(assertion.notAfter)])).digest('hex');
        if (!await this.#settings.store.rememberNonce(key.name, `assertion:${used}`, assertion.notAfter + internals.nonceMargin)) {
            return { failed: `the assertion was already used for a request; each assertion authenticates one request, ask ${key.name} for a new one` };
        }

        return { principal: subject };
    }

    async #register(name: string, request: Extract<RegistrationRequest, { operation: 'register' }>, now: number, reads: DecisionReads): Promise<Pick<Decision, 'outcome' | 'keyId' | 'state' | 'reason'>> {

        const { store, maxKeySize, maxKeysPerName, maxRegistrationsPerName } = this.#settings;
        let key: PublicKeyInfo;
        try {
            key = parsePublicKey(request.container);
        }
        catch (error) {
            if (error instanceof InvalidKey) {
                return { outcome: 'refused', reason: error.message };
            }

            throw error;
        }

        const refuse = (reason: string) => ({ outcome: 'refused' as const, keyId: key.id, reason });
        // Whether it was revoked before this request read it or while it was decided.
        const revokedRefusal = () => refuse(`key ${key.id} of ${name} was revoked; a revoked key cannot be registered again`);
        if (request.usage.includes(internals.certifyUsage)) {
            // A certifying key vouches for every entity: only the administrator grants it (iks import).
            return refuse(`usage ${internals.certifyUsage} is granted by the domain administrator only`);
        }

        if (key.size > maxKeySize) {
            return refuse(`keys of ${key.size} bits are larger than the ${maxKeySize} bits this domain accepts`);
        }

        if (request.expiresAt !== undefined && request.expiresAt <= now) {
            return refuse(`the expiry ${new Date(request.expiresAt).toISOString()} is in the past`);
        }

        const existing = await reads.registrations(name);
        const same = existing.find((registration) => registration.keyId === key.id);
        if (same && same.fingerprint !== key.fingerprint) {
            return refuse(`another key with id ${key.id} is registered for ${name}`);
        }

        if (same?.revokedAt !== undefined) {
            return revokedRefusal();
        }

        // Only a new key adds to what is stored: re-registering a stored one stays possible.
        const stored = existing.filter((registration) => registration.keyId !== key.id).length;
        if (same === undefined && stored >= maxRegistrationsPerName) {
            return refuse(`${name} already has ${stored} stored keys (active, expired and revoked), the most this domain keeps for a name; expired and revoked keys are removed after the retention period`);
        }

        const others = existing.filter((registration) => registration.keyId !== key.id && isActive(registration, now)).length;
        if (others >= maxKeysPerName) {
            return refuse(`${name} already has ${others} active keys, the most this domain allows; revoke one first`);
        }

        // Registering an active key again updates its usage and expiry; the store keeps a key
        // revoked since it was read above as it is.
        // Written only if nothing changed since the read: the limits above hold for what is stored.
        const unwritten = await store.putRegistrations([registrationOf(name, key, request.usage, same?.registeredAt ?? now, request.expiresAt)], { ifVersion: await reads.version(name) });
        if (unwritten.length > 0) {
            return revokedRefusal();
        }

        return { outcome: 'accepted', keyId: key.id, state: 'active', reason: `key ${key.id} registered for ${name}; it is published at the updater's next run` };
    }

    async #revoke(name: string, keyId: string, reason: string | undefined, now: number, reads: DecisionReads): Promise<Pick<Decision, 'outcome' | 'keyId' | 'state' | 'reason'>> {

        const { store } = this.#settings;
        const registration = await reads.registration(name, keyId);
        if (registration === null) {
            return { outcome: 'refused', keyId, reason: `no key ${keyId} is registered for ${name}` };
        }

        if (registration.revokedAt === undefined) {
            // A revocation that lands meanwhile is kept (the first one stands): either way the key is revoked.
            await store.putRegistrations([{ ...registration, revokedAt: now, ...(reason !== undefined ? { revocationReason: reason } : {}) }]);
        }

        return { outcome: 'accepted', keyId, state: 'revoked', reason: `key ${keyId} of ${name} is revoked; its signed revocation is published at the updater's next run` };
    }
}
