import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { BadSignature, IksError, VerificationError } from '../lib/errors';

export const lab = Lab.script();
const { describe, it } = lab;

describe('errors', () => {

    it('carries a stable code and the subclass name', () => {

        const error = new BadSignature('digest mismatch');
        expect(error).to.be.an.instanceof(VerificationError);
        expect(error).to.be.an.instanceof(IksError);
        expect(error.code).to.equal('BAD_SIGNATURE');
        expect(error.name).to.equal('BadSignature');
    });
});
