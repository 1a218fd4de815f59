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
});
