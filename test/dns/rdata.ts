import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import * as Rdata from '../../lib/dns/rdata';
import { DnsFormatError, Rcode, RrType, rcodeName } from '../../lib/dns/types';

export const lab = Lab.script();
const { describe, it } = lab;

describe('RDATA encoders', () => {

    it('round-trips A and AAAA through presentation form', () => {

        expect(Rdata.rdataToText(RrType.A, Rdata.encodeA('192.0.2.1'))).to.equal('192.0.2.1');
        expect(Rdata.encodeAaaa('2001:db8::1').toString('hex')).to.equal('20010db8000000000000000000000001');
        expect(Rdata.encodeAaaa('::').toString('hex')).to.equal('0'.repeat(32));
        expect(Rdata.encodeAaaa('::ffff:192.0.2.1').toString('hex')).to.equal('00000000000000000000ffffc0000201');
        expect(Rdata.encodeAaaa('1:2:3:4:5:6:7:8').toString('hex')).to.equal('00010002000300040005000600070008');
        expect(Rdata.rdataToText(RrType.AAAA, Rdata.encodeAaaa('2001:db8::1'))).to.equal('2001:db8:0:0:0:0:0:1');
    });

    it('rejects addresses of the wrong family', () => {

        expect(() => Rdata.encodeA('::1')).to.throw(DnsFormatError);
        expect(() => Rdata.encodeAaaa('127.0.0.1')).to.throw(DnsFormatError);
    });

    it('encodes SRV with an uncompressed lowercase target (RFC 2782)', () => {

        const srv = Rdata.encodeSrv({ priority: 10, weight: 5, port: 8080, target: 'IKS.Example.test.' });
        expect(srv.toString('hex')).to.equal('000a00051f90' + '03696b73076578616d706c650474657374' + '00');
        expect(Rdata.rdataToText(RrType.SRV, srv)).to.equal('10 5 8080 iks.example.test.');
    });

    it('encodes SOA and NS', () => {

        const soa = Rdata.encodeSoa({ mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 });
        expect(Rdata.rdataToText(RrType.SOA, soa)).to.equal('ns1.example.test. hostmaster.example.test. 7 1 2 3 4');
        expect(Rdata.rdataToText(RrType.NS, Rdata.encodeNs('ns1.example.test'))).to.equal('ns1.example.test.');
    });

    it('splits TXT values longer than 255 octets into character-strings', () => {

        const value = 'x'.repeat(600);
        const txt = Rdata.encodeTxt(value);
        const strings = Rdata.decodeTxt(txt);
        expect(strings.map((s) => s.length)).to.equal([255, 255, 90]);
        expect(Buffer.concat(strings).toString()).to.equal(value);
        expect(Rdata.decodeTxt(Rdata.encodeTxt(''))).to.equal([Buffer.alloc(0)]);
        expect(Rdata.decodeTxt(Rdata.encodeTxt(['a', 'b'])).map(String)).to.equal(['a', 'b']);
    });

    it('quotes and escapes TXT presentation', () => {

        expect(Rdata.rdataToText(RrType.TXT, Rdata.encodeTxt(['a"b\\c', '\u0001']))).to.equal('"a\\"b\\\\c" "\\001"');
    });

    it('rejects a TXT string that runs past its RDATA', () => {

        expect(() => Rdata.decodeTxt(Buffer.from([5, 0x61]))).to.throw(DnsFormatError);
    });

    it('encodes NSEC type bit maps as RFC 4034 §4.3 shows', () => {

        // alfa.example.com. NSEC host.example.com. A MX RRSIG NSEC TYPE1234
        const bitmap = Rdata.encodeTypeBitmap([1, 15, 46, 47, 1234]);
        expect(bitmap.toString('hex')).to.equal('0006400100000003' + '041b' + '00'.repeat(26) + '20');
        expect(Rdata.decodeTypeBitmap(bitmap)).to.equal([1, 15, 46, 47, 1234]);
        expect(Rdata.rdataToText(RrType.NSEC, Rdata.encodeNsec('host.example.com', [1, 15, 46, 47, 1234]))).to.equal('host.example.com. A TYPE15 RRSIG NSEC TYPE1234');
    });

    it('encodes DNSKEY, DS and RRSIG and prints them', () => {

        const key = Buffer.alloc(64, 1);
        expect(Rdata.rdataToText(RrType.DNSKEY, Rdata.encodeDnskey({ flags: 257, algorithm: 13, publicKey: key }))).to.equal(`257 3 13 ${key.toString('base64')}`);
        expect(Rdata.rdataToText(RrType.DS, Rdata.encodeDs({ keyTag: 1, algorithm: 13, digestType: 2, digest: Buffer.from('abcd', 'hex') }))).to.equal('1 13 2 ABCD');
        const rrsig = Rdata.encodeRrsig({ typeCovered: 1, algorithm: 13, labels: 3, originalTtl: 3600, expiration: Date.UTC(2010, 8, 9, 10, 4, 39) / 1000, inception: Date.UTC(2010, 7, 12, 10, 4, 39) / 1000, keyTag: 55648, signerName: 'example.net' }, Buffer.from([1, 2]));
        expect(Rdata.rdataToText(RrType.RRSIG, rrsig)).to.equal('A 13 3 3600 20100909100439 20100812100439 55648 example.net. AQI=');
    });

    it('prints unknown types in RFC 3597 form', () => {

        expect(Rdata.rdataToText(99, Buffer.from([0xab]))).to.equal('\\# 1 ab');
        expect(Rdata.rdataToText(99, Buffer.alloc(0))).to.equal('\\# 0');
    });

    it('refuses malformed names in RDATA', () => {

        expect(() => Rdata.readWireName(Buffer.from([3, 0x61]), 0)).to.throw(DnsFormatError);
        expect(() => Rdata.readWireName(Buffer.from([0xc0, 0]), 0)).to.throw(DnsFormatError);
    });

    it('refuses a label holding a "." octet, which dot-joined names would split in two', () => {

        const dotted = Buffer.concat([Buffer.from([3, 0x61, 0x2e, 0x62]), Rdata.encodeNs('example.test')]);
        expect(() => Rdata.readWireName(dotted, 0)).to.throw(DnsFormatError, /"\."/);
        expect(() => Rdata.rdataToText(RrType.NS, dotted)).to.throw(DnsFormatError, /"\."/);
        expect(Rdata.readWireName(Rdata.encodeNs('a.b.example.test'), 0).name).to.equal('a.b.example.test.');
    });

    it('refuses type bit maps that must not be interpreted: empty, long, truncated, out-of-order or repeated windows (RFC 4034 §4.1.2)', () => {

        const bad = [
            [0, 34, ...new Array<number>(34).fill(0x40)],       // longer than 32 octets
            [0, 6, 0x40],                                       // truncated
            [1, 1, 0x40, 0, 1, 0x40, 0, 1, 0x40],               // out of order, then repeated
            [0, 1, 0x40, 0, 1, 0x40],                           // repeated
            [0, 0],                                             // empty window
            [0, 1, 0x40, 1]                                     // a window number without its length
        ];
        for (const bitmap of bad) {
            expect(() => Rdata.decodeTypeBitmap(Buffer.from(bitmap)), bitmap.join(',')).to.throw(DnsFormatError, /type bit map window/);
        }

        expect(Rdata.decodeTypeBitmap(Buffer.alloc(0))).to.equal([]);
        expect(Rdata.decodeTypeBitmap(Buffer.from([0, 32, ...Buffer.alloc(31), 1, 1, 1, 0x40]))).to.equal([255, 257]);
    });

    it('reads SRV RDATA back, "." as the empty target, and refuses malformed SRV', () => {

        const srv = { priority: 10, weight: 5, port: 8080, target: 'iks.example.test' };
        expect(Rdata.decodeSrv(Rdata.encodeSrv(srv))).to.equal(srv);
        expect(Rdata.decodeSrv(Buffer.from([0, 0, 0, 0, 0, 0, 0]))).to.equal({ priority: 0, weight: 0, port: 0, target: '' });
        expect(() => Rdata.decodeSrv(Buffer.from([0, 0, 0, 0, 0, 0]))).to.throw(DnsFormatError, /too short/);
        expect(() => Rdata.decodeSrv(Buffer.concat([Rdata.encodeSrv(srv), Buffer.from([1])]))).to.throw(DnsFormatError, /after its target/);
    });
});

describe('rcodeName()', () => {

    it('names the RCODEs this project uses and numbers the others', () => {

        expect(rcodeName(Rcode.NXDOMAIN)).to.equal('NXDOMAIN');
        expect(rcodeName(Rcode.SERVFAIL)).to.equal('SERVFAIL');
        expect(rcodeName(11)).to.equal('RCODE11');
    });
});
