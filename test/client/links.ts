import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { atLink } from '../../lib/client';
import { markLink } from '../../lib/client/links';
import { BogusRrsig } from '../../lib/errors';

export const lab = Lab.script();
const { describe, it } = lab;

describe('atLink()', () => {

    it('marks a typed error with the link, keeping a more specific mark made deeper', async () => {

        const error = await expect(atLink('discovery', () => Promise.reject(new BogusRrsig('bad')))).to.reject(BogusRrsig);
        expect(error.link).to.equal('discovery');
        const inner = await expect(atLink('discovery', () => atLink('trust-anchor', () => Promise.reject(new BogusRrsig('bad'))))).to.reject(BogusRrsig);
        expect(inner.link).to.equal('trust-anchor');
        expect(await atLink('discovery', async () => 42)).to.equal(42);
    });

    it('leaves errors that are not typed alone', () => {

        const plain = new Error('bug');
        expect(markLink(plain, 'ksk')).to.shallow.equal(plain);
        expect('link' in plain).to.be.false();
    });
});
