import { createHash, createSecretKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as fc from 'fast-check';
import { SignedXml } from 'xml-crypto';

import { BadSignature, InvalidKey, InvalidXml, NameMismatch, SignatureExpired, SignatureNotYetValid, UnexpectedDocument, WrongSigner } from '../../lib/errors';
import type { SigningKey } from '../../lib/keys/types';
import { renderDocument } from '../../lib/xml/render';
import type { IksDocument, KeyListDocument } from '../../lib/xml/types';
import { renderAndSign } from '../../lib/xmldsig/sign';
import { EcdsaSha256, verifyDocument, type VerifyExpectation } from '../../lib/xmldsig/verify';
import { documents, ecdsaKey, issued, notAfter, rsaKey, samples } from '../fixtures/xml/documents';

export const lab = Lab.script();
const { describe, it, before } = lab;

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

/**
 * Rewrites SignedInfo with `mutate` and signs it again with the RIGHT key, so the
 * signature is cryptographically valid and only the profile check can refuse it.
 * Mutations must keep SignedInfo canonical.
 */
function resign(xml: string, key: SigningKey, mutate: (signedInfo: string) => string): string {

    const [, body] = /<ds:SignedInfo>(.*?)<\/ds:SignedInfo>/s.exec(xml)!;
    const mutated = mutate(body!);
    const canonical = Buffer.from(`<ds:SignedInfo xmlns:ds="${DS}">${mutated}</ds:SignedInfo>`);
    const value = key.algorithm === 'ecdsa-p256-sha256' ?
        cryptoSign('sha256', canonical, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }) :
        cryptoSign('sha256', canonical, key.privateKey);

    return xml
        .replace(/<ds:SignedInfo>.*?<\/ds:SignedInfo>/s, () => `<ds:SignedInfo>${mutated}</ds:SignedInfo>`)
        .replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, () => `<ds:SignatureValue>${value.toString('base64')}</ds:SignatureValue>`);
}

/** Signs with xml-crypto, an implementation independent of ours. */
function xmlCryptoSign(xml: string, key: SigningKey, options: { algorithm?: string; xpath?: string; uriEmpty?: boolean; privateKey?: string | Buffer; hmac?: boolean } = {}): string {

    const signer = new SignedXml({
        privateKey: options.privateKey ?? key.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        signatureAlgorithm: options.algorithm ?? ECDSA_SHA256,
        canonicalizationAlgorithm: EXC_C14N,
        getKeyInfoContent: () => `<ds:KeyName>${key.keyName}</ds:KeyName>`
    });
    if (options.hmac) {
        signer.enableHMAC();
    }

    signer.SignatureAlgorithms[ECDSA_SHA256] = EcdsaSha256 as never;
    signer.addReference({ xpath: options.xpath ?? '/*', transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256, isEmptyUri: options.uriEmpty ?? true });
    signer.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
    return signer.getSignedXml();
}

describe('verifyDocument()', () => {

    let ksk: SigningKey;
    let rsa: SigningKey;
    let signed: string;
    let expectation: VerifyExpectation;

    before(() => {

        ksk = ecdsaKey('ksk-2026');
        rsa = rsaKey('ksk-rsa');
        signed = renderAndSign(samples.KeyList, ksk);
        expectation = { publicKey: ksk.publicKey, keyName: 'ksk-2026', type: 'KeyList', name: 'bob@example.test', now: issued + 1000 };
    });

    describe('accepts', () => {

        it('every document type signed with ECDSA or RSA, returning its content', () => {

            for (const key of [ksk, rsa]) {
                for (const doc of Object.values(samples)) {
                    const xml = renderAndSign(doc, key);
                    expect(verifyDocument(xml, { publicKey: key.publicKey, keyName: key.keyName, type: doc.type, name: doc.name, now: issued })).to.equal(doc);
                }
            }
        });

        it('any generated document', () => {

            fc.assert(fc.property(documents(), (doc) => {

                const xml = renderAndSign(doc, ksk);
                // Generated windows may be inverted: allow for that with the skew.
                const expect_ = { publicKey: ksk.publicKey, keyName: 'ksk-2026', now: doc.notAfter, clockSkewMs: Math.max(0, doc.issuedAt - doc.notAfter) };
                expect(verifyDocument(xml, expect_)).to.equal(doc);
            }), { numRuns: 150 });
        });

        it('a document with an XML declaration and a trailing newline', () => {

            expect(verifyDocument(`<?xml version="1.0" encoding="UTF-8"?>\n${signed}\n`, expectation).name).to.equal('bob@example.test');
        });

        it('a document signed by xml-crypto in the same profile (interoperability)', () => {

            const xml = xmlCryptoSign(renderDocument(samples.KeyList), ksk);
            expect(xml).to.contain('<ds:Reference URI="">');
            expect(verifyDocument(xml, expectation)).to.equal(samples.KeyList);
        });

        it('a list of accepted types, and defaults for type, name and now', () => {

            expect(verifyDocument(signed, { ...expectation, type: ['NegativeAnswer', 'KeyList'] }).type).to.equal('KeyList');
            const fresh = renderAndSign({ ...samples.KeyList, issuedAt: Date.now(), notAfter: Date.now() + 60_000 }, ksk);
            expect(verifyDocument(fresh, { publicKey: ksk.publicKey, keyName: 'ksk-2026' }).type).to.equal('KeyList');
        });

        it('issuance up to the clock skew in the future, and the last valid moment', () => {

            expect(verifyDocument(signed, { ...expectation, now: issued - 60_000 }).type).to.equal('KeyList');
            expect(verifyDocument(signed, { ...expectation, now: issued - 5_000, clockSkewMs: 5_000 }).type).to.equal('KeyList');
            expect(verifyDocument(signed, { ...expectation, now: notAfter }).type).to.equal('KeyList');
        });
    });

    describe('refuses tampered content', () => {

        it('with one byte changed in the name, a fingerprint or a date', () => {

            for (const [from, to] of [['bob@example.test', 'bob@example.tesu'], ['<Fingerprint>aaaa', '<Fingerprint>baaa'], ['<NotAfter>2026-11-25', '<NotAfter>2026-11-26'], ['<Usage>sign</Usage>', '<Usage>sigm</Usage>']] as const) {
                const tampered = signed.replace(from, to);
                expect(tampered).to.not.equal(signed);
                const { name, ...anyName } = expectation;
                expect(name).to.exist();
                expect(() => verifyDocument(tampered, anyName), from).to.throw(BadSignature, /does not verify with key "ksk-2026"/);
            }
        });

        it('with an altered signature value', () => {

            const tampered = signed.replace(/<ds:SignatureValue>(.)/, (_, first: string) => `<ds:SignatureValue>${first === 'A' ? 'B' : 'A'}`);
            expect(() => verifyDocument(tampered, expectation)).to.throw(BadSignature, /does not verify/);
            expect(() => verifyDocument(signed.replace(/<ds:SignatureValue>[^<]*/, '<ds:SignatureValue>AAAA'), expectation)).to.throw(BadSignature);
        });

        it('signed by another P-256 key under the expected key name', () => {

            const other = ecdsaKey('ksk-2026');
            expect(() => verifyDocument(renderAndSign(samples.KeyList, other), expectation)).to.throw(BadSignature, /does not verify/);
        });

        it('naming another key in KeyInfo, even when signed with the right key', () => {

            expect(() => verifyDocument(renderAndSign(samples.KeyList, { ...ksk, keyName: 'ksk-2025' }), expectation)).to.throw(WrongSigner, 'Document is signed by key "ksk-2025", expected "ksk-2026"');
        });
    });

    describe('refuses signature wrapping', () => {

        it('when the signed document is moved inside a wrapper element', () => {

            const wrapped = `<Wrapper xmlns="urn:iks:xml:1">${signed}</Wrapper>`;
            expect(() => verifyDocument(wrapped, expectation)).to.throw(BadSignature, /direct child of the document element/);
        });

        it('when a forged key list carries the original signature and content', () => {

            const forged = renderDocument({ ...samples.KeyList as KeyListDocument, keys: [] });
            const signature = /<ds:Signature .*<\/ds:Signature>/s.exec(signed)![0];
            const original = signed.replace(signature, '');
            const attack = forged.replace('</KeyList>', `${original}${signature}</KeyList>`);
            expect(() => verifyDocument(attack, expectation)).to.throw(BadSignature);
        });

        it('when a second key list is injected into the signed one', () => {

            const attack = signed.replace('<ds:Signature', `<KeyList><Name>mallory@example.test</Name></KeyList><ds:Signature`);
            expect(() => verifyDocument(attack, expectation)).to.throw(BadSignature, /does not verify/);
        });

        it('when the signed content is placed in a ds:Object of a forged document', () => {

            const forged = renderDocument({ ...samples.KeyList as KeyListDocument, keys: [] });
            const signature = /<ds:Signature .*<\/ds:Signature>/s.exec(signed)![0];
            const original = signed.replace(signature, '');
            const withObject = signature.replace('</ds:Signature>', `<ds:Object>${original}</ds:Object></ds:Signature>`);
            expect(() => verifyDocument(forged.replace('</KeyList>', `${withObject}</KeyList>`), expectation)).to.throw(BadSignature, /ds:Signature must contain exactly SignedInfo, SignatureValue, KeyInfo/);
        });

        it('when the signature is moved out of the root into a child', () => {

            const signature = /<ds:Signature .*<\/ds:Signature>/s.exec(signed)![0];
            const moved = signed.replace(signature, '').replace('</Key>', `${signature}</Key>`);
            expect(() => verifyDocument(moved, expectation)).to.throw(BadSignature, /direct child/);
        });

        it('when the signature only covers one element (Reference to #id)', () => {

            const partial = xmlCryptoSign(renderDocument(samples.KeyList), ksk, { xpath: '//*[@id="0123456789abcdef"]', uriEmpty: false });
            expect(partial).to.contain('URI="#0123456789abcdef"');
            expect(() => verifyDocument(partial, expectation)).to.throw(BadSignature, /URI=""/);
        });

        it('when there are two signatures', () => {

            const signature = /<ds:Signature .*<\/ds:Signature>/s.exec(signed)![0];
            expect(() => verifyDocument(signed.replace('</KeyList>', `${signature}</KeyList>`), expectation)).to.throw(BadSignature, 'Signature does not follow the IKS profile: expected exactly one ds:Signature, found 2');
            expect(() => verifyDocument(renderDocument(samples.KeyList), expectation)).to.throw(BadSignature, /found 0/);
        });
    });

    describe('refuses DTDs', () => {

        it('with an internal entity injected into an otherwise valid document', () => {

            const attack = `<!DOCTYPE KeyList [<!ENTITY n "bob@example.test">]>${signed.replace('<Name>bob@example.test</Name>', '<Name>&n;</Name>')}`;
            expect(() => verifyDocument(attack, expectation)).to.throw(InvalidXml, 'XML with a DOCTYPE is not accepted');
            expect(() => verifyDocument(`<!DOCTYPE KeyList SYSTEM "http://evil.test/x.dtd">${signed}`, expectation)).to.throw(InvalidXml, /DOCTYPE/);
        });
    });

    describe('refuses the wrong document', () => {

        it('when it has expired or is not yet valid', () => {

            expect(() => verifyDocument(signed, { ...expectation, now: notAfter + 1 })).to.throw(SignatureExpired, 'Document signature expired at 2026-11-25T18:00:00.000Z');
            expect(() => verifyDocument(signed, { ...expectation, now: issued - 60_001 })).to.throw(SignatureNotYetValid, /2026-11-24T18:00:00.000Z/);
            expect(() => verifyDocument(signed, { ...expectation, now: issued - 1, clockSkewMs: 0 })).to.throw(SignatureNotYetValid);
        });

        it('when it is of another type or about another name', () => {

            expect(() => verifyDocument(signed, { ...expectation, type: 'NegativeAnswer' })).to.throw(UnexpectedDocument, 'Expected a NegativeAnswer document, got KeyList');
            expect(() => verifyDocument(signed, { ...expectation, type: ['KeyDocument', 'PublishedKey'] })).to.throw(UnexpectedDocument, 'Expected a KeyDocument or PublishedKey document, got KeyList');
            expect(() => verifyDocument(signed, { ...expectation, name: 'alice@example.test' })).to.throw(NameMismatch, 'Document is about "bob@example.test", expected "alice@example.test"');
        });

        it('when the signed content is not an IKS document', () => {

            const foreign = renderDocument(samples.KeyList).replace(/urn:iks:xml:1/, 'urn:other');
            expect(() => verifyDocument(xmlCryptoSign(foreign, ksk), expectation)).to.throw(InvalidXml, /not in the namespace urn:iks:xml:1/);
        });
    });

    describe('refuses algorithms outside the profile', () => {

        it('when SignatureMethod is swapped to RSA-SHA1 or HMAC-SHA1', () => {

            for (const method of ['http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2000/09/xmldsig#hmac-sha1']) {
                const swapped = signed.replace(ECDSA_SHA256, method);
                expect(() => verifyDocument(swapped, expectation), method).to.throw(BadSignature, `Signature does not follow the IKS profile: SignatureMethod must be ${ECDSA_SHA256}`);
            }
        });

        it('when a genuine RSA-SHA1 signature is presented for an RSA key', () => {

            const xml = xmlCryptoSign(renderDocument(samples.KeyList), rsa, { algorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' });
            expect(() => verifyDocument(xml, { ...expectation, publicKey: rsa.publicKey, keyName: 'ksk-rsa' })).to.throw(BadSignature, /SignatureMethod must be http:\/\/www.w3.org\/2001\/04\/xmldsig-more#rsa-sha256/);
        });

        it('when an HMAC keyed with the public key is presented (key confusion)', () => {

            const secret = ksk.publicKey.export({ type: 'spki', format: 'pem' });
            const xml = xmlCryptoSign(renderDocument(samples.KeyList), ksk, { algorithm: 'http://www.w3.org/2000/09/xmldsig#hmac-sha1', privateKey: secret, hmac: true });
            expect(xml).to.contain('hmac-sha1');
            const named = xml.includes('<ds:KeyInfo>') ? xml : xml.replace('</ds:Signature>', '<ds:KeyInfo><ds:KeyName>ksk-2026</ds:KeyName></ds:KeyInfo></ds:Signature>');
            expect(() => verifyDocument(named, expectation)).to.throw(BadSignature, /SignatureMethod must be/);
        });

        it('when an RSA signature is checked against an EC key, or an ECDSA one against an RSA key', () => {

            expect(() => verifyDocument(renderAndSign(samples.KeyList, { ...rsa, keyName: 'ksk-2026' }), expectation)).to.throw(BadSignature, /SignatureMethod must be .*ecdsa-sha256/);
            expect(() => verifyDocument(signed, { ...expectation, publicKey: rsa.publicKey })).to.throw(BadSignature, /SignatureMethod must be .*rsa-sha256/);
        });

        it('when the expected key is of a type the profile does not use', () => {

            const { publicKey } = generateKeyPairSync('ed25519');
            expect(() => verifyDocument(signed, { ...expectation, publicKey })).to.throw(InvalidKey, 'Cannot verify with a ed25519 key: IKS signatures use ECDSA P-256 or RSA of at least 2048 bits');
            expect(() => verifyDocument(signed, { ...expectation, publicKey: createSecretKey(Buffer.alloc(32)) })).to.throw(InvalidKey, /with a secret key/);
        });
    });

    describe('refuses keys weaker than or outside the profile, whatever they signed', () => {

        // A domain could commit such a KSK in DNS; the client must still refuse what it signs.
        for (const { label, pair, method } of [
            { label: 'EC secp384r1', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }), method: 'ecdsa-p256-sha256' as const },
            { label: 'EC secp256k1', pair: () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }), method: 'ecdsa-p256-sha256' as const },
            { label: 'RSA 1024-bit', pair: () => generateKeyPairSync('rsa', { modulusLength: 1024 }), method: 'rsa-sha256' as const }
        ]) {
            it(`a ${label} key`, () => {

                const { publicKey, privateKey } = pair();
                const weak = renderAndSign(samples.KeyList, { algorithm: method, privateKey, publicKey, keyName: 'ksk-weak' } as SigningKey);
                expect(() => verifyDocument(weak, { ...expectation, publicKey, keyName: 'ksk-weak' })).to.throw(InvalidKey, `Cannot verify with a ${label} key: IKS signatures use ECDSA P-256 or RSA of at least 2048 bits`);
            });
        }
    });

    describe('refuses correctly signed SignedInfo outside the profile', () => {

        it('the resign helper itself yields valid signatures', () => {

            expect(verifyDocument(resign(signed, ksk, (info) => info), expectation)).to.equal(samples.KeyList);
            expect(verifyDocument(resign(renderAndSign(samples.KeyList, rsa), rsa, (info) => info), { ...expectation, publicKey: rsa.publicKey, keyName: 'ksk-rsa' })).to.equal(samples.KeyList);
        });

        const digest = (algorithm: string) => createHash(algorithm).update(renderDocument(samples.KeyList)).digest('base64');
        const reference = '<ds:Reference URI="">';
        const cases: [string, (info: string) => string, RegExp][] = [
            ['two Reference elements', (info) => info.replace(/(<ds:Reference URI="">.*<\/ds:Reference>)/s, '$1$1'), /exactly CanonicalizationMethod, SignatureMethod, Reference/],
            ['a Reference URI="#id"', (info) => info.replace(reference, '<ds:Reference URI="#0123456789abcdef">'), /URI=""/],
            ['a Reference without URI', (info) => info.replace(reference, '<ds:Reference>'), /URI=""/],
            ['a Reference with a Type', (info) => info.replace(reference, '<ds:Reference Type="urn:x" URI="">'), /URI="" and no other attribute/],
            ['swapped transforms', (info) => info.replace(`<ds:Transform Algorithm="${ENVELOPED}"></ds:Transform><ds:Transform Algorithm="${EXC_C14N}"></ds:Transform>`, `<ds:Transform Algorithm="${EXC_C14N}"></ds:Transform><ds:Transform Algorithm="${ENVELOPED}"></ds:Transform>`), /the first Transform must be/],
            ['one transform only', (info) => info.replace(`<ds:Transform Algorithm="${EXC_C14N}"></ds:Transform>`, ''), /ds:Transforms must contain exactly Transform, Transform/],
            ['an XPath transform', (info) => info.replace(`<ds:Transform Algorithm="${EXC_C14N}"></ds:Transform>`, '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>1</ds:XPath></ds:Transform>'), /the second Transform must be/],
            ['InclusiveNamespaces', (info) => info.replace(`<ds:Transform Algorithm="${EXC_C14N}"></ds:Transform>`, `<ds:Transform Algorithm="${EXC_C14N}"><ec:InclusiveNamespaces xmlns:ec="${EXC_C14N}" PrefixList="ds"></ec:InclusiveNamespaces></ds:Transform>`), /the second Transform must be empty/],
            ['inclusive c14n for SignedInfo', (info) => info.replace(`<ds:CanonicalizationMethod Algorithm="${EXC_C14N}">`, '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315">'), /CanonicalizationMethod must be/],
            ['a SHA-1 digest', (info) => info.replace(SHA256, 'http://www.w3.org/2000/09/xmldsig#sha1').replace(/<ds:DigestValue>[^<]*/, `<ds:DigestValue>${digest('sha1')}`), /DigestMethod must be/],
            ['a comment in SignedInfo', (info) => info.replace(reference, `<!-- x -->${reference}`), /unexpected content in ds:SignedInfo/],
            ['an extra attribute on a method', (info) => info.replace(`<ds:DigestMethod Algorithm="${SHA256}">`, `<ds:DigestMethod Algorithm="${SHA256}" Id="x">`), /DigestMethod must be/],
            ['an element inside DigestValue', (info) => info.replace('<ds:DigestValue>', '<ds:DigestValue><ds:X></ds:X>'), /DigestValue must contain text only/],
            ['an attribute on DigestValue', (info) => info.replace('<ds:DigestValue>', '<ds:DigestValue Id="x">'), /DigestValue has attributes/]
        ];

        for (const [what, mutate, error] of cases) {
            it(`with ${what}`, () => {

                const xml = resign(signed, ksk, mutate);
                expect(xml).to.not.equal(signed);
                expect(() => verifyDocument(xml, expectation)).to.throw(BadSignature, error);
            });
        }

        it('with other KeyInfo content, an attribute on Signature or foreign elements in Signature', () => {

            const mutations: [string, string, RegExp][] = [
                ['<ds:KeyInfo><ds:KeyName>ksk-2026</ds:KeyName></ds:KeyInfo>', '<ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo>', /ds:KeyInfo must contain exactly KeyName/],
                ['<ds:KeyInfo><ds:KeyName>ksk-2026</ds:KeyName></ds:KeyInfo>', '', /ds:Signature must contain exactly/],
                ['<ds:Signature xmlns:ds', '<ds:Signature Id="s" xmlns:ds', /ds:Signature has attributes/],
                ['<ds:KeyInfo>', '<x:Y xmlns:x="urn:x"></x:Y><ds:KeyInfo>', /ds:Signature must contain exactly/],
                ['<ds:KeyName>ksk-2026', '<ds:KeyName><b>ksk-2026</b>', /KeyName must contain text only/],
                ['<ds:KeyInfo>', 'text<ds:KeyInfo>', /unexpected content in ds:Signature/],
                ['<ds:KeyInfo><ds:KeyName>ksk-2026</ds:KeyName></ds:KeyInfo>', '<x:KeyInfo xmlns:x="urn:x"><ds:KeyName>ksk-2026</ds:KeyName></x:KeyInfo>', /ds:Signature must contain exactly/]
            ];

            for (const [from, to, error] of mutations) {
                expect(() => verifyDocument(signed.replace(from, to), expectation), to).to.throw(BadSignature, error);
            }
        });

        it('accepts white space and redundant namespace declarations inside the signature', () => {

            const spaced = signed.replace('<ds:SignatureValue>', '\n  <ds:SignatureValue>').replace('<ds:KeyInfo>', `<ds:KeyInfo xmlns:ds="${DS}">`);
            expect(verifyDocument(spaced, expectation)).to.equal(samples.KeyList);
        });
    });

    describe('refuses malformed input', () => {

        it('when the XML is not well-formed or too large', () => {

            expect(() => verifyDocument(signed.slice(0, -5), expectation)).to.throw(InvalidXml, /not well-formed/);
            expect(() => verifyDocument(signed.replace('</KeyList>', `<Pad>${'x'.repeat(300_000)}</Pad></KeyList>`), expectation)).to.throw(InvalidXml, /larger than/);
        });
    });
});

describe('EcdsaSha256', () => {

    it('signs and verifies raw r||s for xml-crypto, with PEM or KeyObject keys', () => {

        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const algorithm = new EcdsaSha256();
        const value = algorithm.getSignature('<x></x>', privateKey.export({ type: 'pkcs8', format: 'pem' }));
        expect(Buffer.from(value, 'base64')).to.have.length(64);
        expect(algorithm.verifySignature('<x></x>', publicKey.export({ type: 'spki', format: 'pem' }), value)).to.be.true();
        expect(algorithm.verifySignature('<y></y>', publicKey, value)).to.be.false();
        expect(algorithm.verifySignature('<x></x>', publicKey, algorithm.getSignature('<x></x>', privateKey))).to.be.true();
        expect(algorithm.getAlgorithmName()).to.equal(ECDSA_SHA256);
    });
});
