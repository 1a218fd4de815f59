import * as Crypto from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { encodeA, encodeDnskey, encodeRrsigPrefix } from '../../lib/dns/rdata';
import { dnskeyPublicKey, dnssecAlgorithm, dsRdata, keyTag, publicKeyFromDnskey, signedData, verifyRaw, zoneKey } from '../../lib/dnssec';
import { InvalidKey } from '../../lib/errors';

export const lab = Lab.script();
const { describe, it } = lab;

// RFC 6605 §6.1 (P-256 example).
const rfc6605 = {
    privateKey: 'GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=',
    dnskey: 'GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==',
    keyTag: 55648,
    dsDigest: 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17',
    rrsig: 'qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw=='
};

function rfc6605Pair() {

    const q = Buffer.from(rfc6605.dnskey, 'base64');
    const privateKey = Crypto.createPrivateKey({
        key: { kty: 'EC', crv: 'P-256', d: Buffer.from(rfc6605.privateKey, 'base64').toString('base64url'), x: q.subarray(0, 32).toString('base64url'), y: q.subarray(32).toString('base64url') },
        format: 'jwk'
    });

    return { privateKey, publicKey: Crypto.createPublicKey(privateKey) };
}

describe('RFC 6605 §6.1 vectors', () => {

    it('derives the example DNSKEY, key tag and DS digest from the example private key', () => {

        const key = zoneKey(rfc6605Pair(), 257);
        expect(dnskeyPublicKey(rfc6605Pair().publicKey).toString('base64')).to.equal(rfc6605.dnskey);
        expect(key.algorithm).to.equal(13);
        expect(key.keyTag).to.equal(rfc6605.keyTag);
        expect(keyTag(encodeDnskey({ flags: 257, algorithm: 13, publicKey: Buffer.from(rfc6605.dnskey, 'base64') }))).to.equal(rfc6605.keyTag);
        const ds = dsRdata('example.net', key.dnskey);
        expect(ds.readUInt16BE(0)).to.equal(rfc6605.keyTag);
        expect([ds[2], ds[3]]).to.equal([13, 2]);
        expect(ds.subarray(4).toString('hex')).to.equal(rfc6605.dsDigest);
    });

    it('verifies the example RRSIG over www.example.net A, and rejects it for other data', () => {

        const prefix = encodeRrsigPrefix({
            typeCovered: 1, algorithm: 13, labels: 3, originalTtl: 3600,
            expiration: Date.UTC(2010, 8, 9, 10, 4, 39) / 1000, inception: Date.UTC(2010, 7, 12, 10, 4, 39) / 1000,
            keyTag: rfc6605.keyTag, signerName: 'example.net'
        });
        const signature = Buffer.from(rfc6605.rrsig, 'base64');
        const { publicKey } = rfc6605Pair();
        expect(verifyRaw(13, publicKey, signedData({ name: 'www.example.net', type: 1, ttl: 3600, rdata: [encodeA('192.0.2.1')] }, prefix), signature)).to.be.true();
        expect(verifyRaw(13, publicKey, signedData({ name: 'www.example.net', type: 1, ttl: 3600, rdata: [encodeA('192.0.2.2')] }, prefix), signature)).to.be.false();
    });
});

describe('zoneKey()', () => {

    it('supports Ed25519 (15) and RSA (8) keys', () => {

        const ed = zoneKey(Crypto.generateKeyPairSync('ed25519'), 256);
        expect(ed.algorithm).to.equal(15);
        expect(ed.dnskey.length).to.equal(4 + 32);
        const rsa = zoneKey(Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }), 257);
        expect(rsa.algorithm).to.equal(8);
        expect(rsa.dnskey.subarray(4, 8).toString('hex')).to.equal('03010001');            // RFC 3110: e = 65537
        expect(rsa.dnskey.length).to.equal(4 + 4 + 256);
    });

    it('encodes a long RSA exponent with the three-octet length form', () => {

        const { publicKey } = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const jwk = publicKey.export({ format: 'jwk' });
        const longExponent = Crypto.createPublicKey({ key: { ...jwk, e: Buffer.concat([Buffer.alloc(300, 0x01)]).toString('base64url') }, format: 'jwk' });
        expect(dnskeyPublicKey(longExponent).subarray(0, 3).toString('hex')).to.equal('00012c');
    });

    it('rejects curves, sizes and types DNSSEC here does not use', () => {

        expect(() => dnssecAlgorithm(Crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)).to.throw(InvalidKey);
        expect(() => dnssecAlgorithm(Crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).to.throw(InvalidKey);
        expect(() => dnssecAlgorithm(Crypto.generateKeyPairSync('x25519').publicKey)).to.throw(InvalidKey);
    });

    it('refuses a private key that does not match its public key', () => {

        const a = Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const b = Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        expect(() => zoneKey({ privateKey: a.privateKey, publicKey: b.publicKey }, 257)).to.throw(InvalidKey, /does not match/);
        expect(() => zoneKey({ privateKey: a.publicKey, publicKey: a.publicKey }, 257)).to.throw(InvalidKey, /cannot sign/);
    });
});

describe('publicKeyFromDnskey()', () => {

    it('reads the RFC 6605 example DNSKEY into a key that verifies the example RRSIG', () => {

        const publicKey = publicKeyFromDnskey(encodeDnskey({ flags: 257, algorithm: 13, publicKey: Buffer.from(rfc6605.dnskey, 'base64') }));
        expect(publicKey.export({ type: 'spki', format: 'der' })).to.equal(rfc6605Pair().publicKey.export({ type: 'spki', format: 'der' }));
    });

    it('inverts dnskeyPublicKey for P-256, Ed25519 and RSA (short and long exponent forms)', () => {

        const rsa = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
        const longExponent = Crypto.createPublicKey({ key: { ...rsa.export({ format: 'jwk' }), e: Buffer.alloc(300, 0x01).toString('base64url') }, format: 'jwk' });
        const keys: [number, Crypto.KeyObject][] = [
            [13, Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
            [15, Crypto.generateKeyPairSync('ed25519').publicKey],
            [8, rsa],
            [8, longExponent]
        ];
        for (const [algorithm, publicKey] of keys) {
            const dnskey = encodeDnskey({ flags: 256, algorithm, publicKey: dnskeyPublicKey(publicKey) });
            expect(publicKeyFromDnskey(dnskey).export({ type: 'spki', format: 'der' }), String(algorithm)).to.equal(publicKey.export({ type: 'spki', format: 'der' }));
        }
    });

    it('refuses unsupported algorithms, wrong sizes, points off the curve and RSA below 2048 bits', () => {

        const dnskey = (algorithm: number, key: Buffer) => encodeDnskey({ flags: 256, algorithm, publicKey: key });
        const rsa1024 = Crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
        expect(() => publicKeyFromDnskey(dnskey(5, Buffer.alloc(64)))).to.throw(InvalidKey, /algorithm 5 is not supported/);
        expect(() => publicKeyFromDnskey(dnskey(13, Buffer.alloc(63)))).to.throw(InvalidKey, /wrong size/);
        expect(() => publicKeyFromDnskey(dnskey(15, Buffer.alloc(31)))).to.throw(InvalidKey, /wrong size/);
        expect(() => publicKeyFromDnskey(dnskey(13, Buffer.alloc(64, 1)))).to.throw(InvalidKey, /not a valid public key/);
        const rsa1024Field = Buffer.concat([Buffer.from([3, 1, 0, 1]), Buffer.from(rsa1024.export({ format: 'jwk' }).n!, 'base64url')]);
        expect(() => publicKeyFromDnskey(dnskey(8, rsa1024Field))).to.throw(InvalidKey, /wrong size/);
        expect(() => publicKeyFromDnskey(dnskey(8, Buffer.from([0, 1])))).to.throw(InvalidKey, /not a valid public key/);
        expect(() => publicKeyFromDnskey(dnskey(8, Buffer.alloc(0)))).to.throw(InvalidKey, /wrong size/);
    });

    it('refuses RSA keys with leading zero octets (RFC 3110 §2), such as 1024 bits padded to look like 2048, and moduli under 2048 bits', () => {

        const dnskey = (key: Buffer) => encodeDnskey({ flags: 257, algorithm: 8, publicKey: key });
        const field = (exponent: Buffer, modulus: Buffer) => Buffer.concat([Buffer.from([exponent.length]), exponent, modulus]);
        const rsa1024 = Crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
        const modulus1024 = Buffer.from(rsa1024.n!, 'base64url');
        expect(() => publicKeyFromDnskey(dnskey(field(Buffer.from([1, 0, 1]), Buffer.concat([Buffer.alloc(256 - modulus1024.length), modulus1024]))))).to.throw(InvalidKey, /leading zero octets/);
        const rsa2048 = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
        const modulus2048 = Buffer.from(rsa2048.n!, 'base64url');
        expect(() => publicKeyFromDnskey(dnskey(field(Buffer.from([0, 1, 0, 1]), modulus2048)))).to.throw(InvalidKey, /leading zero octets/);
        expect(() => publicKeyFromDnskey(dnskey(field(Buffer.from([1, 0, 1]), Buffer.concat([Buffer.from([0]), modulus2048]))))).to.throw(InvalidKey, /leading zero octets/);
        // 256 octets without a leading zero, yet only 2041 bits: the size node:crypto reads counts.
        const short = Buffer.from(modulus2048);
        short[0] = 0x01;
        expect(() => publicKeyFromDnskey(dnskey(field(Buffer.from([1, 0, 1]), short)))).to.throw(InvalidKey, /wrong size/);
        expect(publicKeyFromDnskey(dnskey(field(Buffer.from([1, 0, 1]), modulus2048))).asymmetricKeyDetails?.modulusLength).to.equal(2048);
    });
});
