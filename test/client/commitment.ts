import { createHash } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { verifyCommitment } from '../../lib/client';
import { CommitmentMismatch } from '../../lib/errors';

export const lab = Lab.script();
const { describe, it } = lab;

describe('verifyCommitment()', () => {

    const spki = Buffer.from('a key');
    const sha256 = createHash('sha256').update(spki).digest('hex');
    const sha1 = createHash('sha1').update(spki).digest('hex');

    it('accepts a key matching its sha256, sha1 or both commitments (any case)', () => {

        expect(() => verifyCommitment('k', spki, { sha256 })).to.not.throw();
        expect(() => verifyCommitment('k', spki, { sha256: sha256.toUpperCase(), sha1 })).to.not.throw();
        expect(() => verifyCommitment('k', spki, { sha1 })).to.not.throw();
    });

    it('rejects a key that matches neither, or when the two commitments disagree', () => {

        expect(() => verifyCommitment('k', spki, {})).to.throw(CommitmentMismatch, /no commitment/);
        expect(() => verifyCommitment('k', spki, { sha256: sha1 })).to.throw(CommitmentMismatch, /does not match/);
        expect(() => verifyCommitment('k', spki, { sha1: 'zz' })).to.throw(CommitmentMismatch, /does not match/);
        expect(() => verifyCommitment('k', spki, { sha256, sha1: '0'.repeat(40) })).to.throw(CommitmentMismatch, /disagree/);
        expect(() => verifyCommitment('k', spki, { sha256: '0'.repeat(64), sha1 })).to.throw(CommitmentMismatch, /disagree/);
    });
});
