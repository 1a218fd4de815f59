import { generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { parsePublicKey } from '../../lib/keys';
import { isActive, keyMetadataOf, registrationOf } from '../../lib/store/registration';

export const lab = Lab.script();
const { describe, it } = lab;

describe('registration records', () => {

    const key = parsePublicKey(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const now = Date.UTC(2026, 10, 26, 12, 0, 0);

    it('keeps an expiry in whole seconds, as documents state it, rounding down', () => {

        const registration = registrationOf('bob@example.test', key, ['sign'], now, now + 37_500);
        expect(registration.expiresAt).to.equal(now + 37_000);
        expect(keyMetadataOf(registration).expiresAt).to.equal(now + 37_000);
        expect(registrationOf('bob@example.test', key, ['sign'], now).expiresAt).to.be.undefined();
    });

    it('counts a key as active until its expiry and never once revoked', () => {

        const registration = registrationOf('bob@example.test', key, ['sign'], now, now + 60_000);
        expect(isActive(registration, now + 59_999)).to.be.true();
        expect(isActive(registration, now + 60_000)).to.be.false();
        expect(isActive({ ...registration, revokedAt: now }, now)).to.be.false();
        expect(isActive(registrationOf('bob@example.test', key, ['sign'], now), Number.MAX_SAFE_INTEGER)).to.be.true();
    });
});
