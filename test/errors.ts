import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { BadSignature, excerpt, IksError, VerificationError } from '../lib/errors';
import { escapeText } from '../lib/xml';

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

    it('quotes an excerpt of input that never ends inside a surrogate pair', () => {

        expect(excerpt('short', 10)).to.equal('short');
        expect(excerpt('abcdef', 3)).to.equal('abc…');
        const cut = excerpt(`${'x'.repeat(39)}😀tail`, 40);
        expect(cut).to.equal(`${'x'.repeat(39)}…`);
        expect(() => escapeText(cut, 'reason')).to.not.throw();
        expect(excerpt(`${'x'.repeat(38)}😀tail`, 40)).to.equal(`${'x'.repeat(38)}😀…`);
    });
});
