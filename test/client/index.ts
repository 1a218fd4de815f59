import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { claimedSigner, selectKeys } from '../../lib/client';
import { BadSignature } from '../../lib/errors';
import { clientSuite } from './suite';

export const lab = Lab.script();
const { describe, it } = lab;

clientSuite(lab, 'embedded');

describe('client helpers', () => {

    it('reads the claimed signer only from a well-formed KeyName', () => {

        expect(claimedSigner('<x><ds:KeyName>ksk-0123456789ab</ds:KeyName></x>')).to.equal('ksk-0123456789ab');
        expect(() => claimedSigner('<x><ds:KeyName>../../etc</ds:KeyName></x>')).to.throw(BadSignature);
    });

    it('selects every key without criteria', () => {

        const keys = [{ id: 'a', algorithm: 'rsa', size: 2048, format: 'spki', fingerprint: 'f', usage: ['sign'], registeredAt: 0 }] as const;
        expect(selectKeys(keys)).to.have.length(1);
    });

    it('takes usage "any" for every application use, never for the service\'s own iks-* usages', () => {

        const key = (id: string, usage: string[]) => ({ id, algorithm: 'ed25519', size: 256, format: 'spki', fingerprint: 'f', usage, registeredAt: 0 }) as const;
        const keys = [key('any', ['any']), key('sign', ['sign']), key('auth', ['iks-auth'])];
        expect(selectKeys(keys, { usage: 'sign' }).map((selected) => selected.id)).to.equal(['any', 'sign']);
        expect(selectKeys(keys, { usage: 'encrypt' }).map((selected) => selected.id)).to.equal(['any']);
        expect(selectKeys(keys, { usage: 'iks-auth' }).map((selected) => selected.id)).to.equal(['auth']);
        expect(selectKeys(keys, { usage: 'iks-certify' })).to.equal([]);
    });
});
