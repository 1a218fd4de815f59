/**
 * The registration signatures in the byte formats lib/xml/schema/registration.xsd documents
 * for other clients, written out by hand here rather than through lib/registration/fields.ts.
 */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { VerificationKeys } from '../../lib/keys/verification-keys';
import { answeredDigest, requestDigest } from '../../lib/registration/request';
import { signRequestDigest, verifyRequestSignature } from '../../lib/registration/signatures';

export const lab = Lab.script();
const { describe, it } = lab;

/** A 4-byte big-endian length and the UTF-8 bytes; null is the absent marker 0xFFFFFFFF. */
const field = (value: string | null): Buffer => {

    const length = Buffer.alloc(4);
    if (value === null) {
        length.writeUInt32BE(0xFFFFFFFF);
        return length;
    }

    const bytes = Buffer.from(value, 'utf8');
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
};

describe('registration signatures, as registration.xsd documents them', () => {

    const content = { operation: 'register' as const, name: 'bob@example.test', timestamp: Date.UTC(2026, 11, 4, 12, 0, 0), nonce: 'n0nce-n0nce-n0nce', container: 'ssh-ed25519 AAAA bob', usage: ['sign', 'encrypt'] };

    it('digests a request as SHA-256("IKS-REQUEST-1" 0x00 || fields)', () => {

        const fields = ['register', 'bob@example.test', '2026-12-04T12:00:00Z', 'n0nce-n0nce-n0nce', 'ssh-ed25519 AAAA bob', '2', 'sign', 'encrypt', null];
        const expected = createHash('sha256').update(Buffer.concat([Buffer.from('IKS-REQUEST-1\u0000'), ...fields.map(field)])).digest();
        expect(requestDigest(content)).to.equal(expected);
    });

    it('signs "IKS-REQUEST-SIGNATURE-1" 0x00 || the digest as one field of 64 hex characters', () => {

        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        const digest = requestDigest(content);
        const message = Buffer.concat([Buffer.from('IKS-REQUEST-SIGNATURE-1\u0000'), field(digest.toString('hex'))]);
        // Ours verifies over the documented bytes, and a signature made over them verifies with ours.
        expect(verify(null, message, publicKey, signRequestDigest(privateKey, digest))).to.be.true();
        expect(verifyRequestSignature(new VerificationKeys().get(publicKey.export({ type: 'spki', format: 'der' }).toString('base64')), digest, sign(null, message, privateKey))).to.be.true();
    });

    it('names an answered request as SHA-256("IKS-ANSWERED-1" 0x00 || digest || authentication fields)', () => {

        const digest = requestDigest(content);
        const request = { ...content, authentication: { method: 'user-key' as const, signer: 'bob@example.test', keyId: '0123456789abcdef', signature: Buffer.from('signature') } };
        const fields = [digest.toString('hex'), 'user-key', 'bob@example.test', '0123456789abcdef', Buffer.from('signature').toString('base64')];
        expect(answeredDigest(request)).to.equal(createHash('sha256').update(Buffer.concat([Buffer.from('IKS-ANSWERED-1\u0000'), ...fields.map(field)])).digest());
        // Another authentication, the same request digest: another answered digest.
        expect(answeredDigest({ ...request, authentication: { ...request.authentication, signature: Buffer.from('signaturE') } })).to.not.equal(answeredDigest(request));
    });
});
