import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Dns2 from 'dns2';
import * as fc from 'fast-check';

import { decodeMessage, readName } from '../../lib/dns/decode';
import { encodeResponse } from '../../lib/dns/message';
import { nameToWire } from '../../lib/dns/name';
import { parseQuery } from '../../lib/dns/query';
import { decodeSrv, encodeSrv, readWireName } from '../../lib/dns/rdata';
import { encodeQuery } from '../../lib/dns/stub';
import { DnsFormatError, Rcode, RrType } from '../../lib/dns/types';
import { ZoneResponder } from '../../plugins/dns-authority/responder';
import { signedDemoZone } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it } = lab;

/** A response built by dns2's encoder (an independent implementation), which compresses SRV targets. */
function dns2Response(): Buffer {

    const packet = new Dns2.Packet() as unknown as { header: Record<string, number>; questions: unknown[]; answers: unknown[]; authorities: unknown[]; toBuffer(): Buffer };
    Object.assign(packet.header, { id: 0x4242, qr: 1, aa: 1 });
    packet.questions.push({ name: '_ikqs._tcp.Example.test', type: RrType.SRV, class: 1 });
    packet.answers.push({ name: '_ikqs._tcp.Example.test', type: RrType.SRV, class: 1, ttl: 300, priority: 10, weight: 5, port: 8080, target: 'iks.example.test' });
    packet.answers.push({ name: 'iks.example.test', type: RrType.A, class: 1, ttl: 300, address: '192.0.2.1' });
    packet.authorities.push({ name: 'example.test', type: RrType.NS, class: 1, ttl: 300, ns: 'ns1.example.test' });
    return packet.toBuffer();
}

/** Header (id 1, QR) announcing counts, then `body`. */
function message(counts: [number, number, number, number], body: Buffer): Buffer {

    const header = Buffer.alloc(12);
    header.writeUInt16BE(1, 0);
    header.writeUInt16BE(0x8000, 2);
    counts.forEach((count, index) => header.writeUInt16BE(count, 4 + index * 2));
    return Buffer.concat([header, body]);
}

const question = Buffer.concat([nameToWire('example.test'), Buffer.from([0, 1, 0, 1])]);

describe('decodeMessage()', () => {

    it('decodes a dns2-encoded response, expanding compressed owners and the compressed SRV target', () => {

        const decoded = decodeMessage(dns2Response());
        expect(decoded).to.include({ id: 0x4242, qr: true, aa: true, tc: false, rcode: Rcode.NOERROR, edns: null });
        expect(decoded.question).to.equal({ name: '_ikqs._tcp.example.test', type: RrType.SRV, class: 1 });
        expect(decoded.answers.map((record) => [record.name, record.type, record.ttl])).to.equal([['_ikqs._tcp.example.test', RrType.SRV, 300], ['iks.example.test', RrType.A, 300]]);
        // dns2 points the target's suffix at the question, spelled "Example": the case survives expansion.
        expect(readWireName(decoded.answers[0]!.rdata, 6).name).to.equal('iks.Example.test.');
        expect(decodeSrv(decoded.answers[0]!.rdata)).to.equal({ priority: 10, weight: 5, port: 8080, target: 'iks.example.test' });
        expect(decoded.answers[1]!.rdata).to.equal(Buffer.from([192, 0, 2, 1]));
        expect(readWireName(decoded.authorities[0]!.rdata, 0).name).to.equal('ns1.Example.test.');
    });

    it('keeps DNSKEY, RRSIG and NSEC RDATA exactly as the server encoded them, and reads the OPT record', () => {

        const zone = signedDemoZone();
        const responder = new ZoneResponder(zone, { maxUdpPayload: 4096, cacheSize: 10 });
        const reply = responder.respond(parseQuery(encodeQuery({ id: 7, name: 'example.test', type: RrType.DNSKEY, udpPayloadSize: 4096 })), 'tcp')!;
        const decoded = decodeMessage(reply);
        const dnskeys = zone.rrsets.find((rrset) => rrset.type === RrType.DNSKEY)!;
        expect(decoded.answers.filter((record) => record.type === RrType.DNSKEY).map((record) => record.rdata)).to.equal([...dnskeys.rdata]);
        expect(decoded.answers.filter((record) => record.type === RrType.RRSIG).map((record) => record.rdata)).to.equal([...dnskeys.signatures]);
        expect(decoded.edns).to.equal({ payloadSize: 4096, dnssecOk: true, version: 0 });
        expect(decoded.cd).to.be.true();
        expect(decoded.rd).to.be.true();

        const nxdomain = decodeMessage(responder.respond(parseQuery(encodeQuery({ id: 8, name: 'nope.example.test', type: RrType.A, udpPayloadSize: 4096 })), 'tcp')!);
        expect(nxdomain.rcode).to.equal(Rcode.NXDOMAIN);
        const nsecs = nxdomain.authorities.filter((record) => record.type === RrType.NSEC);
        expect(nsecs.length).to.be.above(0);
        for (const nsec of nsecs) {
            expect(zone.rrsets.find((rrset) => rrset.name === nsec.name && rrset.type === RrType.NSEC)!.rdata).to.equal([nsec.rdata]);
        }
    });

    it('combines the OPT record\'s upper RCODE bits with the header\'s (RFC 6891 §6.1.3)', () => {

        const decoded = decodeMessage(encodeResponse({ id: 1, aa: false, rd: false, rcode: Rcode.BADVERS, question: null, edns: { payloadSize: 1232, dnssecOk: false } }));
        expect(decoded.rcode).to.equal(Rcode.BADVERS);
        expect(decoded.edns!.dnssecOk).to.be.false();
    });

    it('refuses compression pointers that loop, point forward or into the header', () => {

        const loop = message([0, 1, 0, 0], Buffer.concat([Buffer.from([0xc0, 12]), Buffer.from([0, 1, 0, 1, 0, 0, 0, 0, 0, 0])]));
        expect(() => decodeMessage(loop)).to.throw(DnsFormatError, /does not point backwards/);
        const forward = message([0, 1, 0, 0], Buffer.concat([Buffer.from([0xc0, 14]), Buffer.from([0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0])]));
        expect(() => decodeMessage(forward)).to.throw(DnsFormatError, /does not point backwards/);
        const header = message([1, 0, 0, 0], Buffer.from([0xc0, 2, 0, 1, 0, 1]));
        expect(() => decodeMessage(header)).to.throw(DnsFormatError, /does not point backwards/);
        // Two pointers taking turns: a → b → a must be refused, not followed forever.
        const pingPong = Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0x61, 0xc0, 16, 1, 0x62, 0xc0, 12])]);
        expect(() => readName(pingPong, 16)).to.throw(DnsFormatError, /does not point backwards/);
    });

    it('refuses names longer than 255 octets even when built from pointers', () => {

        // Each step adds a 63-octet label and points at the previous name.
        const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
        const parts: Buffer[] = [Buffer.alloc(12), label, Buffer.from([0])];
        let previous = 12;
        for (let i = 0; i < 4; ++i) {
            const at = parts.reduce((total, part) => total + part.length, 0);
            parts.push(label, Buffer.from([0xc0 | (previous >> 8), previous & 0xff]));
            previous = at;
        }

        expect(() => readName(Buffer.concat(parts), previous)).to.throw(DnsFormatError, /longer than 255/);
    });

    it('refuses a name that follows more than 127 compression pointers (a long descending chain, walked for every name)', () => {

        // Answer 1: TXT at the root whose RDATA is a root label and a chain of pointers, each
        // to the one before; answer 2 is owned by a pointer to the end of the chain.
        const withChain = (pointers: number) => {

            const start = 12 + 11;
            const rdata = Buffer.alloc(1 + pointers * 2);
            let previous = start;
            for (let i = 0; i < pointers; ++i) {
                rdata.writeUInt16BE(0xc000 | previous, 1 + i * 2);
                previous = start + 1 + i * 2;
            }

            const first = Buffer.from([0, 0, 16, 0, 1, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff]);
            const second = Buffer.from([0xc0 | (previous >> 8), previous & 0xff, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0]);
            return message([0, 2, 0, 0], Buffer.concat([first, rdata, second]));
        };

        expect(decodeMessage(withChain(126)).answers).to.have.length(2);              // 127 pointers
        expect(() => decodeMessage(withChain(127))).to.throw(DnsFormatError, /more than 127 compression pointers/);
        expect(() => decodeMessage(withChain(16000))).to.throw(DnsFormatError, /more than 127 compression pointers/);
    });

    it('refuses extended label types, dots inside labels and names running off the end', () => {

        expect(() => readName(Buffer.concat([Buffer.alloc(12), Buffer.from([0x41, 0])]), 12)).to.throw(DnsFormatError, /label type/);
        expect(() => readName(Buffer.concat([Buffer.alloc(12), Buffer.from([3, 0x61, 0x2e, 0x62, 0])]), 12)).to.throw(DnsFormatError, /"\."/);
        expect(() => readName(Buffer.concat([Buffer.alloc(12), Buffer.from([5, 0x61])]), 12)).to.throw(DnsFormatError, /past the end/);
        expect(() => readName(Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0])]), 12)).to.throw(DnsFormatError, /past the end/);
        expect(() => readName(Buffer.alloc(12), 12)).to.throw(DnsFormatError, /past the end/);
    });

    it('refuses at once a header announcing more records than the message holds', () => {

        expect(() => decodeMessage(message([0, 65535, 65535, 65535], Buffer.alloc(0)))).to.throw(DnsFormatError, /more records than/);
        expect(() => decodeMessage(message([2, 0, 0, 0], Buffer.concat([question, question])))).to.throw(DnsFormatError, /at most one question/);
        expect(() => decodeMessage(Buffer.alloc(11))).to.throw(DnsFormatError, /shorter than a DNS header/);
    });

    it('refuses records that run past the message, misplaced OPT records and trailing octets', () => {

        const record = (type: number, rdata: Buffer, rdlength = rdata.length) => Buffer.concat([Buffer.from([0]), Buffer.from([type >> 8, type & 0xff, 0, 1, 0, 0, 0, 0, rdlength >> 8, rdlength & 0xff]), rdata]);
        expect(() => decodeMessage(message([1, 1, 0, 0], Buffer.concat([question, record(RrType.A, Buffer.from([1, 2, 3, 4]), 40)])))).to.throw(DnsFormatError, /RDATA runs past/);
        expect(() => decodeMessage(message([1, 1, 0, 0], Buffer.concat([question, record(RrType.OPT, Buffer.alloc(0))])))).to.throw(DnsFormatError, /OPT/);
        expect(() => decodeMessage(message([1, 0, 0, 2], Buffer.concat([question, record(RrType.OPT, Buffer.alloc(0)), record(RrType.OPT, Buffer.alloc(0))])))).to.throw(DnsFormatError, /OPT/);
        expect(() => decodeMessage(message([1, 0, 0, 0], Buffer.concat([question, Buffer.from([0])])))).to.throw(DnsFormatError, /octets after/);
        expect(() => decodeMessage(message([1, 0, 0, 0], question.subarray(0, question.length - 1)))).to.throw(DnsFormatError, /question runs past/);
        expect(() => decodeMessage(message([1, 1, 0, 0], Buffer.concat([question, Buffer.from([0, 0, 1])])))).to.throw(DnsFormatError, /record header/);
    });

    it('checks the layout of RDATA whose names it expands', () => {

        const record = (type: number, rdata: Buffer) => Buffer.concat([Buffer.from([0xc0, 12, type >> 8, type & 0xff, 0, 1, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff]), rdata]);
        const decode = (type: number, rdata: Buffer) => decodeMessage(message([1, 1, 0, 0], Buffer.concat([question, record(type, rdata)])));
        expect(() => decode(RrType.SRV, Buffer.from([0, 1, 0]))).to.throw(DnsFormatError, /too short/);
        expect(() => decode(RrType.NS, Buffer.concat([nameToWire('ns.example.test'), Buffer.from([9])]))).to.throw(DnsFormatError, /after its name/);
        expect(() => decode(RrType.SOA, Buffer.concat([nameToWire('a.test'), nameToWire('b.test'), Buffer.alloc(19)]))).to.throw(DnsFormatError, /five 32-bit/);
        expect(() => decode(RrType.NS, Buffer.from([7, 0x61]))).to.throw(DnsFormatError);
        const soa = decode(RrType.SOA, Buffer.concat([Buffer.from([2, 0x6e, 0x73, 0xc0, 12]), nameToWire('b.test'), Buffer.alloc(20, 1)]));
        expect(readWireName(soa.answers[0]!.rdata, 0).name).to.equal('ns.example.test.');
        expect(decode(RrType.SRV, encodeSrv({ priority: 1, weight: 2, port: 3, target: 'x.test' })).answers[0]!.rdata).to.equal(encodeSrv({ priority: 1, weight: 2, port: 3, target: 'x.test' }));
    });

    it('never throws anything but DnsFormatError on mutated and random messages (fuzz)', () => {

        const zone = signedDemoZone();
        const responder = new ZoneResponder(zone, { maxUdpPayload: 4096, cacheSize: 10 });
        const seeds = [
            dns2Response(),
            responder.respond(parseQuery(encodeQuery({ id: 9, name: '_ikqs._tcp.example.test', type: RrType.SRV, udpPayloadSize: 4096 })), 'tcp')!,
            responder.respond(parseQuery(encodeQuery({ id: 9, name: 'nope.example.test', type: RrType.TXT, udpPayloadSize: 4096 })), 'tcp')!
        ];

        const decodes = (bytes: Buffer) => {

            try {
                decodeMessage(bytes);
            }
            catch (err) {
                return err instanceof DnsFormatError;
            }

            return true;
        };

        const mutation = fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat());
        fc.assert(fc.property(mutation, ([seed, changes, cut]) => {

            const bytes = Buffer.from(seeds[seed]!);
            for (const [position, value] of changes) {
                bytes[position % bytes.length] = value;
            }

            return decodes(bytes) && decodes(bytes.subarray(0, cut % (bytes.length + 1)));
        }), { numRuns: 3000 });

        fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => decodes(Buffer.from(bytes))), { numRuns: 2000 });
    });
});
