import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { ReplayedRequest } from '../../lib/errors';
import { loadDomainSigningKey, parsePublicKey } from '../../lib/keys';
import { RegistrationAuthority, type AuthoritySettings } from '../../lib/registration/authority';
import { requestDigest, type OperationContent, type RegistrationRequest } from '../../lib/registration/request';
import { signRequestDigest } from '../../lib/registration/signatures';
import type { Store } from '../../lib/store/types';
import { makeDomain, type TestDomain } from '../helpers/domain';
import { redisBackend } from '../helpers/redis-server';
import { makeEntities, type Entity } from '../helpers/registration-requests';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const internals = {
    replayWindow: 300_000,
    maxKeysPerName: 3,
    maxRegistrationsPerName: 12,
    address: '192.0.2.1'
};

const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;
const newKey = () => pem(generateKeyPairSync('ed25519').publicKey);
const second = (ms: number) => ms - ms % 1000;

/** The authority decides directly (no SOAP, no gateway), with a clock of the test's own; once per store backend. */
function authoritySuite(label: string, makeStore?: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {

    describe(`RegistrationAuthority (${label} store)`, () => {

        let domain: TestDomain;
        let release: () => Promise<void> = async () => {};

        before(async () => {

            const backend = makeStore ? await makeStore() : undefined;
            release = backend?.cleanup ?? release;
            domain = await makeDomain({ ...(backend ? { store: backend.store } : {}), env: { IKS_DNS_ENABLED: 'false' } });
        });

        after(async () => {

            await domain?.cleanup();
            await release();
        });

        const authority = (now: () => number, settings: Partial<AuthoritySettings> = {}) => new RegistrationAuthority({
            domain: domain.domain,
            store: domain.store,
            encKey: loadDomainSigningKey(domain.dataDir, domain.domain, 'enc'),
            methods: ['user-key'],
            maxKeysPerName: internals.maxKeysPerName,
            maxRegistrationsPerName: internals.maxRegistrationsPerName,
            maxKeySize: 8192,
            replayWindow: internals.replayWindow,
            assertionMaxLifetime: 3_600_000,
            passwordFailures: { perEntity: 5, perAddress: 50, window: 900, lockout: 900 },
            now,
            ...settings
        });

        const signed = (entity: Entity, content: OperationContent): RegistrationRequest => ({
            ...content,
            authentication: { method: 'user-key', signer: entity.name, keyId: entity.authKeyId, signature: signRequestDigest(entity.authKey, requestDigest(content)) }
        });

        const head = (entity: Entity, now: number) => ({ name: entity.name, timestamp: second(now), nonce: randomBytes(18).toString('base64url') });

        /** A clock the test moves, and requests of `entity` stamped with it. */
        const session = (entity: Entity, settings: Partial<AuthoritySettings> = {}) => {

            const clock = { now: Date.now() };
            const decider = authority(() => clock.now, settings);
            return {
                clock,
                register: (container: string, expiresAt?: number, usage = ['sign']) => decider.decide(signed(entity, { operation: 'register', ...head(entity, clock.now), container, usage, ...(expiresAt !== undefined ? { expiresAt } : {}) }), internals.address),
                revoke: (keyId: string) => decider.decide(signed(entity, { operation: 'revoke', ...head(entity, clock.now), keyId, reason: 'superseded' }), internals.address)
            };
        };

        it('refuses new keys once a name stores maxRegistrationsPerName, counting keys that expired a second after registering', async () => {

            const [entity] = await makeEntities(domain.store, 1, 'expiring');
            const { clock, register } = session(entity!);
            const outcomes: string[] = [];
            let refusal = '';
            for (let i = 0; i < 20; ++i) {
                const decision = await register(newKey(), second(clock.now) + 1000);
                outcomes.push(decision.outcome);
                refusal = decision.outcome === 'refused' ? decision.reason! : refusal;
                clock.now += 2000;
            }

            // The iks-auth key and 11 expired keys make 12; the active-key limit (3) is never reached.
            expect(outcomes).to.equal([...Array(11).fill('accepted'), ...Array(9).fill('refused')]);
            expect(refusal).to.equal(`${entity!.name} already has 12 stored keys (active, expired and revoked), the most this domain keeps for a name; expired and revoked keys are removed after the retention period`);
            expect(await domain.store.getRegistrations(entity!.name)).to.have.length(12);
        });

        it('counts revoked registrations against maxRegistrationsPerName', async () => {

            const [entity] = await makeEntities(domain.store, 1, 'revoking');
            const { clock, register, revoke } = session(entity!);
            const outcomes: string[] = [];
            for (let i = 0; i < 14; ++i) {
                const registered = await register(newKey());
                outcomes.push(registered.outcome);
                if (registered.outcome === 'accepted') {
                    expect((await revoke(registered.keyId!)).state).to.equal('revoked');
                }
                else {
                    expect(registered.reason).to.contain('12 stored keys (active, expired and revoked)');
                }

                clock.now += 1000;
            }

            expect(outcomes).to.equal([...Array(11).fill('accepted'), ...Array(3).fill('refused')]);
            expect(await domain.store.getRegistrations(entity!.name)).to.have.length(12);
        });

        it('still accepts re-registering a stored key at the cap, also once the cap is lowered below what is stored', async () => {

            const [entity] = await makeEntities(domain.store, 1, 'rotating');
            const { clock, register } = session(entity!);
            const kept = newKey();
            expect((await register(kept)).outcome).to.equal('accepted');
            for (let i = 0; i < 10; ++i) {
                expect((await register(newKey(), second(clock.now) + 1000)).outcome).to.equal('accepted');
                clock.now += 2000;
            }

            expect((await register(newKey())).outcome).to.equal('refused');
            const again = await register(kept, undefined, ['sign', 'encrypt']);
            expect(again.outcome).to.equal('accepted');
            expect(again.state).to.equal('active');

            // 12 stored, 11 of them other keys: a lower cap must not lock the owner out of its own keys.
            const lowered = session(entity!, { maxRegistrationsPerName: internals.maxKeysPerName });
            lowered.clock.now = clock.now;
            expect((await lowered.register(kept, undefined, ['encrypt'])).outcome).to.equal('accepted');
            expect((await lowered.register(newKey())).reason).to.contain('12 stored keys');

            const registrations = await domain.store.getRegistrations(entity!.name);
            expect(registrations).to.have.length(12);
            expect(registrations.find((registration) => registration.keyId === parsePublicKey(kept).id)!.usage).to.equal(['encrypt']);
            // The iks-auth key stays usable: re-registering it is not a new registration either.
            const auth = pem(createPublicKey(entity!.authKey));
            expect((await lowered.register(auth, undefined, ['iks-auth'])).outcome).to.equal('accepted');
        });

        it('keeps racing registrations of one name within maxKeysPerName and maxRegistrationsPerName', async () => {

            // Each request reads the name, then writes: all 20 read before any writes.
            const [entity] = await makeEntities(domain.store, 1, 'racing');
            const { register } = session(entity!);
            const decisions = await Promise.all(Array.from({ length: 20 }, () => register(newKey())));
            const accepted = decisions.filter((decision) => decision.outcome === 'accepted');
            // The iks-auth key and 2 new keys make the 3 active keys allowed.
            expect(accepted).to.have.length(internals.maxKeysPerName - 1);
            expect(await domain.store.getRegistrations(entity!.name)).to.have.length(internals.maxKeysPerName);
            for (const decision of decisions.filter((one) => one.outcome !== 'accepted')) {
                expect(decision.outcome).to.equal('refused');
                expect(decision.reason).to.match(/already has 3 active keys, the most this domain allows|changed 3 times while this request was decided; send it again with a new nonce/);
            }

            const [other] = await makeEntities(domain.store, 1, 'racing-stored');
            const many = session(other!, { maxKeysPerName: 100 });
            await Promise.all(Array.from({ length: 30 }, () => many.register(newKey())));
            expect((await domain.store.getRegistrations(other!.name)).length).to.be.at.most(internals.maxRegistrationsPerName);
            // Those that gave up after three changes were refused, not lost: one at a time fills the rest.
            while ((await many.register(newKey())).outcome === 'accepted') {}
            expect(await domain.store.getRegistrations(other!.name)).to.have.length(internals.maxRegistrationsPerName);
        });

        it('decides again when the name changes between the read and the write, and then refuses a key revoked meanwhile', async () => {

            const [entity] = await makeEntities(domain.store, 1, 'revoked-meanwhile');
            const store = domain.store;
            // A store whose first conditional write sees the signing key revoked just before it.
            let raced = false;
            const putRegistrations: Store['putRegistrations'] = async (registrations, options) => {

                if (options?.ifVersion !== undefined && !raced) {
                    raced = true;
                    const auth = (await store.getRegistration(entity!.name, entity!.authKeyId))!;
                    await store.putRegistrations([{ ...auth, revokedAt: Date.now() }]);
                }

                return store.putRegistrations(registrations, options);
            };

            const racing = new Proxy(store, {
                get: (target, property) => {

                    const value = property === 'putRegistrations' ? putRegistrations : Reflect.get(target, property);
                    return typeof value === 'function' && property !== 'putRegistrations' ? value.bind(target) : value;
                }
            });
            const { register } = session(entity!, { store: racing });

            const candidate = newKey();
            const decision = await register(candidate);
            expect(raced).to.be.true();
            expect(decision.outcome).to.equal('authentication-failed');
            expect(decision.reason).to.equal(`key ${entity!.authKeyId} is not an active iks-auth key of ${entity!.name}`);
            expect(await store.getRegistration(entity!.name, parsePublicKey(candidate).id)).to.be.null();
        });

        it('refuses a replay delivered in the last millisecond of the replay window', async () => {

            const [entity] = await makeEntities(domain.store, 1, 'edge');
            // Decided at timestamp + replayWindow, no later than the store's own clock.
            const timestamp = second(Date.now()) - internals.replayWindow;
            const decider = authority(() => timestamp + internals.replayWindow);
            const request = signed(entity!, { operation: 'list', name: entity!.name, timestamp, nonce: randomBytes(18).toString('base64url') });

            expect((await decider.decide(request, internals.address)).outcome).to.equal('accepted');
            // Past any 1 ms expiry the store would give a nonce whose time has come.
            await sleep(5);
            await expect(decider.decide(request, internals.address)).to.reject(ReplayedRequest, `the nonce of this request was already used for ${entity!.name}; every request needs a new nonce`);
        });
    });
}

authoritySuite('embedded');
authoritySuite('redis', redisBackend);
