/**
 * Enveloped XML signatures over documents that are already canonical (lib/xml/render.ts).
 *
 * With Reference URI="" and the transforms enveloped-signature → exc-c14n, the digested
 * octets are the document without its Signature, canonicalised. The renderer emits exactly
 * that form, and the Signature is appended as the root's last child with no whitespace
 * around it, so removing it gives back the unsigned bytes: the digest is SHA-256 of
 * them, computed without parsing. SignedInfo is likewise written in canonical form.
 */
import { createHash, sign as cryptoSign } from 'node:crypto';

import { InvalidKey, InvalidXml } from '../errors';
import type { SigningKey } from '../keys/types';
import { renderDocument } from '../xml/render';
import type { IksDocument } from '../xml/types';
import { DS_NAMESPACE, ENVELOPED_SIGNATURE, EXC_C14N, SHA256_DIGEST, SIGNATURE_METHODS } from './profile';

const internals = {
    keyTypes: { 'ecdsa-p256-sha256': 'ec', 'rsa-sha256': 'rsa' } as const,
    escape: (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;')
};

/**
 * Signs a document produced by `renderDocument` with `key` and returns the signed XML.
 *
 * Contract: `unsigned` MUST be renderDocument output (exclusive-c14n canonical, no
 * XML declaration); any other input yields a signature that verifiers reject, because
 * the digest is taken over the bytes as given. The private key is used only for this
 * one signature and never serialised.
 */
export function signDocument(unsigned: string, key: SigningKey): string {

    const method = SIGNATURE_METHODS[key.algorithm];
    if (method === undefined || key.privateKey.asymmetricKeyType !== internals.keyTypes[key.algorithm]) {
        throw new InvalidKey(`Signing key "${key.keyName}" does not match its algorithm ${key.algorithm}`);
    }

    const close = unsigned.lastIndexOf('</');
    if (unsigned[0] !== '<' || close <= 0 || !unsigned.endsWith('>')) {
        throw new InvalidXml('Only a rendered canonical document can be signed');
    }

    const digest = createHash('sha256').update(unsigned, 'utf8').digest('base64');

    // SignedInfo content; its canonical form (what is signed) declares the ds prefix on
    // SignedInfo itself, since exc-c14n renders it on the apex of the canonicalised subtree.
    const signedInfoBody =
        `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod>` +
        `<ds:SignatureMethod Algorithm="${method}"></ds:SignatureMethod>` +
        '<ds:Reference URI=""><ds:Transforms>' +
        `<ds:Transform Algorithm="${ENVELOPED_SIGNATURE}"></ds:Transform>` +
        `<ds:Transform Algorithm="${EXC_C14N}"></ds:Transform>` +
        `</ds:Transforms><ds:DigestMethod Algorithm="${SHA256_DIGEST}"></ds:DigestMethod>` +
        `<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>`;

    const canonicalSignedInfo = Buffer.from(`<ds:SignedInfo xmlns:ds="${DS_NAMESPACE}">${signedInfoBody}`, 'utf8');
    const value = key.algorithm === 'ecdsa-p256-sha256' ?
        cryptoSign('sha256', canonicalSignedInfo, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }) :
        cryptoSign('sha256', canonicalSignedInfo, key.privateKey);

    const signature =
        `<ds:Signature xmlns:ds="${DS_NAMESPACE}"><ds:SignedInfo>${signedInfoBody}` +
        `<ds:SignatureValue>${value.toString('base64')}</ds:SignatureValue>` +
        `<ds:KeyInfo><ds:KeyName>${internals.escape(key.keyName)}</ds:KeyName></ds:KeyInfo></ds:Signature>`;

    return unsigned.slice(0, close) + signature + unsigned.slice(close);
}

/**
 * Renders `doc` canonically and signs it with `key` (enveloped, URI="", exc-c14n,
 * SHA-256, ECDSA-SHA256 or RSA-SHA256, KeyInfo/KeyName = key.keyName).
 */
export function renderAndSign(doc: IksDocument, key: SigningKey): string {

    return signDocument(renderDocument(doc), key);
}
