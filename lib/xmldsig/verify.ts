/**
 * Verification of signed IKS documents (paper §5.1 step 4).
 *
 * The cryptographic check is xml-crypto's, an implementation independent of our signer.
 * Around it: the input is screened before any parser sees it (DOCTYPE, entities, size),
 * the signature must follow our one profile exactly (no algorithm choice is left to the
 * document), and the document model is built ONLY from the octets xml-crypto reports as
 * signed — never from the DOM that carried the signature — which is what defeats
 * signature wrapping.
 */
import { createPrivateKey, createPublicKey, KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';

import Bounce from '@hapi/bounce';
import { DOMParser, type Element, type Node as DomNode } from '@xmldom/xmldom';
import { createOptionalCallbackFunction, SignedXml } from 'xml-crypto';

import { BadSignature, InvalidKey, InvalidXml, NameMismatch, SignatureExpired, SignatureNotYetValid, UnexpectedDocument, WrongSigner } from '../errors';
import { parseXml, screenXml } from '../xml/parse';
import { readDocument } from '../xml/read-document';
import type { IksDocument, IksDocumentType } from '../xml/types';
import { describeKey, DS_NAMESPACE, ECDSA_SHA256, ENVELOPED_SIGNATURE, EXC_C14N, MIN_RSA_BITS, RSA_SHA256, SHA256_DIGEST, signatureMethodFor } from './profile';

export interface VerifyExpectation {
    /** The public key the document must be signed with (KSK or RSK, already trusted). */
    readonly publicKey: KeyObject;
    /** The KeyInfo/KeyName the signature must carry. */
    readonly keyName: string;
    /** Accepted document type(s); any when absent. */
    readonly type?: IksDocumentType | readonly IksDocumentType[];
    /** The name (or domain) the document must be about; any when absent. */
    readonly name?: string;
    /** Verification time, ms since the epoch; default Date.now(). */
    readonly now?: number;
    /** Tolerated clock difference for `issuedAt`, ms; default 60 000. */
    readonly clockSkewMs?: number;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** ECDSA-SHA256 for xml-crypto, which has none: the value is raw r||s (XML Signature 1.1 §6.4.3), not DER. */
export class EcdsaSha256 {
    getSignature = createOptionalCallbackFunction((signedInfo: string | Buffer, privateKey: KeyObject | string | Buffer): string => {

        return cryptoSign('sha256', Buffer.from(signedInfo), { key: privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey), dsaEncoding: 'ieee-p1363' }).toString('base64');
    });

    verifySignature = createOptionalCallbackFunction((material: string, key: KeyObject | string | Buffer, signatureValue: string): boolean => {

        return cryptoVerify('sha256', Buffer.from(material, 'utf8'), { key: key instanceof KeyObject ? key : createPublicKey(key), dsaEncoding: 'ieee-p1363' }, Buffer.from(signatureValue, 'base64'));
    });

    getAlgorithmName(): string {

        return ECDSA_SHA256;
    }
}

const internals = {
    maxBytes: 256 * 1024,
    defaultSkew: 60_000
};

/** Attributes other than namespace declarations (those do not change exc-c14n output here). */
function ownAttributes(element: Element): string[] {

    const names: string[] = [];
    for (let i = 0; i < element.attributes.length; ++i) {
        const attribute = element.attributes.item(i)!;
        if (attribute.namespaceURI !== 'http://www.w3.org/2000/xmlns/') {
            names.push(attribute.name);
        }
    }

    return names;
}

function fail(message: string): never {

    throw new BadSignature(`Signature does not follow the IKS profile: ${message}`);
}

/** The element children of `node`; any non-whitespace text, comment or PI is a profile violation. */
function elementChildren(node: DomNode, where: string): Element[] {

    const elements: Element[] = [];
    for (let child = node.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === ELEMENT_NODE) {
            elements.push(child as Element);
        }
        else if (child.nodeType !== TEXT_NODE || !/^[ \t\r\n]*$/.test(child.nodeValue!)) {
            fail(`unexpected content in ${where}`);
        }
    }

    return elements;
}

/** Exactly the named ds: children in order, each with exactly the allowed attributes. */
function expectChildren(node: DomNode, where: string, names: readonly string[]): Element[] {

    const children = elementChildren(node, where);
    if (children.length !== names.length || children.some((child, i) => child.namespaceURI !== DS_NAMESPACE || child.localName !== names[i])) {
        fail(names.length === 0 ? `${where} must be empty` : `${where} must contain exactly ${names.join(', ')}`);
    }

    return children;
}

function expectAlgorithm(element: Element, algorithm: string, what: string): void {

    if (ownAttributes(element).join() !== 'Algorithm' || element.getAttribute('Algorithm') !== algorithm) {
        fail(`${what} must be ${algorithm}`);
    }

    expectChildren(element, what, []);
}

function onlyText(element: Element, what: string): string {

    if (ownAttributes(element).length !== 0) {
        fail(`${what} has attributes`);
    }

    let text = '';
    for (let child = element.firstChild; child; child = child.nextSibling) {
        if (child.nodeType !== TEXT_NODE) {
            fail(`${what} must contain text only`);
        }

        text += child.nodeValue!;
    }

    return text;
}

/** Parses and checks the signature's shape against the profile; returns it and its KeyName. */
function checkProfile(xml: string, signatureMethod: string): { signature: Element; keyName: string } {

    let doc;
    try {
        doc = new DOMParser({ onError: (level, message) => {

            if (level !== 'warning') {
                throw new Error(message);
            }
        } }).parseFromString(xml, 'text/xml');
    }
    catch (err) {
        throw new InvalidXml(`Signed document is not well-formed XML: ${(err as Error).message}`, { cause: err });
    }

    const root = doc.documentElement!;
    const signatures = doc.getElementsByTagNameNS(DS_NAMESPACE, 'Signature');
    if (signatures.length !== 1) {
        fail(`expected exactly one ds:Signature, found ${signatures.length}`);
    }

    const signature = signatures.item(0)!;
    if (signature.parentNode !== root) {
        fail('ds:Signature must be a direct child of the document element');
    }

    if (ownAttributes(signature).length !== 0) {
        fail('ds:Signature has attributes');
    }

    const [signedInfo, signatureValue, keyInfo] = expectChildren(signature, 'ds:Signature', ['SignedInfo', 'SignatureValue', 'KeyInfo']) as [Element, Element, Element];
    const [canonicalization, method, reference] = expectChildren(signedInfo, 'ds:SignedInfo', ['CanonicalizationMethod', 'SignatureMethod', 'Reference']) as [Element, Element, Element];
    expectAlgorithm(canonicalization, EXC_C14N, 'CanonicalizationMethod');
    expectAlgorithm(method, signatureMethod, 'SignatureMethod');

    if (ownAttributes(reference).join() !== 'URI' || reference.getAttribute('URI') !== '') {
        fail('the Reference must have URI="" and no other attribute');
    }

    const [transforms, digestMethod, digestValue] = expectChildren(reference, 'ds:Reference', ['Transforms', 'DigestMethod', 'DigestValue']) as [Element, Element, Element];
    const [enveloped, exclusive] = expectChildren(transforms, 'ds:Transforms', ['Transform', 'Transform']) as [Element, Element];
    expectAlgorithm(enveloped, ENVELOPED_SIGNATURE, 'the first Transform');
    expectAlgorithm(exclusive, EXC_C14N, 'the second Transform');
    expectAlgorithm(digestMethod, SHA256_DIGEST, 'DigestMethod');
    onlyText(digestValue, 'DigestValue');
    onlyText(signatureValue, 'SignatureValue');

    const [keyName] = expectChildren(keyInfo, 'ds:KeyInfo', ['KeyName']) as [Element];
    return { signature, keyName: onlyText(keyName, 'KeyName') };
}

/**
 * Verifies a signed IKS document and returns its content.
 *
 * Security contract: succeeds only if `xml` carries exactly one enveloped signature of
 * the IKS profile (URI="", enveloped-signature + exc-c14n, SHA-256, the SignatureMethod
 * that matches `publicKey`'s type) made with `publicKey`, named `keyName`; the returned
 * document is read from the signed octets only. Then type, name and validity window are
 * checked against `expect`.
 * Throws BadSignature (cryptographic or profile failure), WrongSigner (KeyName),
 * InvalidXml (malformed or forbidden XML, content not an IKS document),
 * UnexpectedDocument, NameMismatch, SignatureNotYetValid, SignatureExpired.
 */
export function verifyDocument(xml: string, expect: VerifyExpectation): IksDocument {

    // Forbidden constructs first (DOCTYPE, entities, size), with their own reasons; then
    // well-formedness by our strict parser, not by xmldom, which recovers from
    // malformed markup with a mere warning.
    screenXml(xml, internals.maxBytes);
    try {
        parseXml(xml, { maxBytes: internals.maxBytes });
    }
    catch (err) {
        Bounce.rethrow(err, 'system');
        throw new InvalidXml(`Signed document is not well-formed XML: ${(err as Error).message}`, { cause: err });
    }

    const signatureMethod = signatureMethodFor(expect.publicKey);
    if (signatureMethod === null) {
        throw new InvalidKey(`Cannot verify with a ${describeKey(expect.publicKey)} key: IKS signatures use ECDSA P-256 or RSA of at least ${MIN_RSA_BITS} bits`);
    }

    const { signature, keyName } = checkProfile(xml, signatureMethod);
    if (keyName !== expect.keyName) {
        throw new WrongSigner(`Document is signed by key "${keyName.slice(0, 64)}", expected "${expect.keyName}"`);
    }

    // Cryptographic check: only our algorithms are registered, so nothing else can be chosen.
    const signed = new SignedXml({ publicCert: expect.publicKey });
    signed.SignatureAlgorithms = signatureMethod === ECDSA_SHA256 ?
        { [ECDSA_SHA256]: EcdsaSha256 } as unknown as SignedXml['SignatureAlgorithms'] :
        { [RSA_SHA256]: signed.SignatureAlgorithms[RSA_SHA256]! };
    signed.HashAlgorithms = { [SHA256_DIGEST]: signed.HashAlgorithms[SHA256_DIGEST]! };
    signed.CanonicalizationAlgorithms = {
        [EXC_C14N]: signed.CanonicalizationAlgorithms[EXC_C14N]!,
        [ENVELOPED_SIGNATURE]: signed.CanonicalizationAlgorithms[ENVELOPED_SIGNATURE]!
    };

    let references: string[];
    try {
        signed.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0]);
        if (!signed.checkSignature(xml)) {
            throw new Error('a reference did not validate');
        }

        references = signed.getSignedReferences();
    }
    catch (err) {
        throw new BadSignature(`Signature of the document does not verify with key "${expect.keyName}": ${(err as Error).message}`, { cause: err });
    }

    // Defensive (the profile admits exactly one Reference).
    // $lab:coverage:off$
    if (references.length !== 1) {
        fail(`expected one signed reference, found ${references.length}`);
    }
    // $lab:coverage:on$

    const doc = readDocument(references[0]!);

    // What the document is about, and when it may be relied on.
    const types = expect.type === undefined ? undefined : (typeof expect.type === 'string' ? [expect.type] : expect.type);
    if (types !== undefined && !types.includes(doc.type)) {
        throw new UnexpectedDocument(`Expected a ${types.join(' or ')} document, got ${doc.type}`);
    }

    if (expect.name !== undefined && doc.name !== expect.name) {
        throw new NameMismatch(`Document is about "${doc.name}", expected "${expect.name}"`);
    }

    const now = expect.now ?? Date.now();
    const skew = expect.clockSkewMs ?? internals.defaultSkew;
    if (doc.issuedAt - skew > now) {
        throw new SignatureNotYetValid(`Document is signed for ${new Date(doc.issuedAt).toISOString()}, later than now`);
    }

    if (now > doc.notAfter) {
        throw new SignatureExpired(`Document signature expired at ${new Date(doc.notAfter).toISOString()}`);
    }

    return doc;
}
