import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import * as Xmldsig from '../../lib/xmldsig';
import { ecdsaKey, issued, samples } from '../fixtures/xml/documents';

export const lab = Lab.script();
const { describe, it } = lab;

describe('lib/xmldsig', () => {

    it('exposes signing, verification and the profile constants', () => {

        const key = ecdsaKey('ksk-1');
        const xml = Xmldsig.renderAndSign(samples.KeyList, key);
        expect(Xmldsig.verifyDocument(xml, { publicKey: key.publicKey, keyName: 'ksk-1', now: issued })).to.equal(samples.KeyList);
        expect(Xmldsig.signDocument).to.be.a.function();
        expect(Xmldsig.signatureMethodFor(key.publicKey)).to.equal(Xmldsig.ECDSA_SHA256);
        expect(Xmldsig.SIGNATURE_METHODS['rsa-sha256']).to.equal(Xmldsig.RSA_SHA256);
        expect(Xmldsig.DS_NAMESPACE).to.equal('http://www.w3.org/2000/09/xmldsig#');
    });
});
