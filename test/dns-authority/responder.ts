import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Dns2 from 'dns2';

import { parseQuery } from '../../lib/dns/query';
import { decodeTypeBitmap, readWireName } from '../../lib/dns/rdata';
import { Rcode, RrType } from '../../lib/dns/types';
import { ZoneResponder } from '../../plugins/dns-authority/responder';
import { dns2Query, ixfrQuery } from '../dns/helpers';
import { signedDemoZone } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it } = lab;

interface Record {
    name: string;
    type: number;
    data?: Buffer;
}

const zone = signedDemoZone();

function ask(responder: ZoneResponder, name: string, type: number, edns: Parameters<typeof dns2Query>[2] = { doFlag: true }, transport: 'udp' | 'tcp' = 'udp') {

    const wire = responder.respond(parseQuery(dns2Query(name, type, edns)), transport)!;
    const packet = Dns2.Packet.parse(wire) as unknown as { header: { rcode: number; aa: number; tc: number }; answers: Record[]; authorities: Record[] };
    return { wire, ...packet };
}

const types = (records: Record[]) => records.map((record) => record.type);

describe('ZoneResponder', () => {

    const responder = new ZoneResponder(zone, { maxUdpPayload: 1232, cacheSize: 100 });

    it('answers ANY with a single RRset (RFC 8482)', () => {

        expect(types(ask(responder, 'example.test', RrType.ANY, null).answers)).to.equal([RrType.SOA]);
        expect(types(ask(responder, 'iks1.example.test', RrType.ANY, null).answers)).to.equal([RrType.A]);
    });

    it('answers an RRSIG query with every signature at the name', () => {

        const { answers } = ask(responder, 'iks1.example.test', RrType.RRSIG, null);
        expect(answers.length).to.equal(3);                                   // A, AAAA, NSEC
        expect(new Set(types(answers))).to.equal(new Set([RrType.RRSIG]));
    });

    it('answers an NSEC query with the NSEC record even without DO', () => {

        expect(types(ask(responder, 'iks1.example.test', RrType.NSEC, null).answers)).to.equal([RrType.NSEC]);
    });

    it('refuses zone transfers and other classes', () => {

        expect(ask(responder, 'example.test', RrType.AXFR).header.rcode).to.equal(Rcode.REFUSED);
        expect(ask(responder, 'example.test', RrType.IXFR).header.rcode).to.equal(Rcode.REFUSED);
        const chaos = dns2Query('example.test', RrType.SOA, null);
        chaos.writeUInt16BE(3, chaos.length - 2);
        expect(responder.respond(parseQuery(chaos), 'udp')![3]! & 0xf).to.equal(Rcode.REFUSED);
        expect(ask(responder, 'test', RrType.SOA).header.rcode).to.equal(Rcode.REFUSED);
        expect(ask(responder, 'other.test', RrType.SOA).header.rcode).to.equal(Rcode.REFUSED);
    });

    it('refuses an RFC 1995 IXFR carrying the client\'s SOA, echoing its question', () => {

        const packet = Dns2.Packet.parse(responder.respond(parseQuery(ixfrQuery('example.test', 7)), 'tcp')!);
        expect(packet.header.rcode).to.equal(Rcode.REFUSED);
        expect(packet.questions).to.equal([{ name: 'example.test', type: RrType.IXFR, class: 1 }]);
    });

    it('copies CD into error answers as into the others (RFC 4035 §3.1.6)', () => {

        const notify = dns2Query('example.test', RrType.SOA);
        notify[2] = (notify[2]! & 0x87) | (4 << 3);
        const queries = [dns2Query('example.test', RrType.SOA, { version: 1 }), dns2Query('example.test', RrType.OPT), notify, dns2Query('example.com', RrType.A), dns2Query('example.test', RrType.SOA)];
        for (const query of queries) {
            query[3] = query[3]! | 0x10;
            const reply = responder.respond(parseQuery(query), 'udp')!;
            expect(reply[3]! & 0x10, `rcode ${reply[3]! & 0xf}`).to.equal(0x10);
            query[3] = query[3]! & ~0x10;
            expect(responder.respond(parseQuery(query), 'udp')![3]! & 0x10).to.equal(0);
        }
    });

    it('answers SERVFAIL for an RRset too large for 65535 octets, over TCP and UDP, and everything else as before', () => {

        // Unsigned additions: the responder never checks signatures, and DO is clear.
        const addresses = (count: number) => Array.from({ length: count }, (_, i) => Buffer.from([10, i >> 16, (i >> 8) & 0xff, i & 0xff]));
        const rrsets = [
            ...zone.rrsets,
            { name: 'fits.example.test', type: RrType.A, ttl: 60, rdata: addresses(4000), signatures: [] },
            { name: 'big.example.test', type: RrType.A, ttl: 60, rdata: addresses(4200), signatures: [] },             // 16 octets each: > 65535
            { name: 'huge.example.test', type: RrType.A, ttl: 60, rdata: addresses(70_000), signatures: [] }           // more than ANCOUNT holds
        ];
        const large = new ZoneResponder({ ...zone, rrsets }, { maxUdpPayload: 1232, cacheSize: 100 });
        expect(ask(large, 'fits.example.test', RrType.A, null, 'tcp').answers.length).to.equal(4000);
        for (const name of ['big.example.test', 'huge.example.test']) {
            for (const transport of ['tcp', 'udp'] as const) {
                const { wire, header, answers } = ask(large, name, RrType.A, null, transport);
                expect(header).to.include({ rcode: Rcode.SERVFAIL, aa: 0, tc: 0 });
                expect(answers).to.equal([]);
                expect(wire.length).to.be.below(512);
            }
        }

        expect(ask(large, 'iks1.example.test', RrType.A, null, 'tcp').answers.length).to.equal(1);
    });

    it('proves NXDOMAIN with the NSEC covering the name and the one covering the wildcard', () => {

        const { header, authorities } = ask(responder, 'zzz.example.test', RrType.A);
        expect(header).to.include({ rcode: Rcode.NXDOMAIN, aa: 1 });
        const nsecs = authorities.filter((record) => record.type === RrType.NSEC);
        expect(nsecs.map((record) => record.name)).to.equal(['ns1.example.test', 'example.test']);
        expect(authorities.find((record) => record.type === RrType.SOA)).to.include({ ttl: 300 });
        expect(types(authorities).filter((type) => type === RrType.RRSIG).length).to.equal(3);
    });

    it('uses one NSEC when it covers both the name and the wildcard', () => {

        // *.iks1.example.test and a.iks1.example.test both sort between iks1 and its next name.
        const { authorities } = ask(responder, 'a.iks1.example.test', RrType.A);
        expect(authorities.filter((record) => record.type === RrType.NSEC).map((record) => record.name)).to.equal(['iks1.example.test']);
    });

    it('answers NODATA at an existing name with its own NSEC, and without proofs when DO is clear', () => {

        const signed = ask(responder, 'iks1.example.test', RrType.TXT);
        expect(signed.header.rcode).to.equal(Rcode.NOERROR);
        const nsec = signed.authorities.find((record) => record.type === RrType.NSEC)!;
        expect(nsec.name).to.equal('iks1.example.test');
        expect(decodeTypeBitmap(nsec.data!.subarray(readWireName(nsec.data!, 0).next))).to.not.contain(RrType.TXT);
        const plain = ask(responder, 'iks1.example.test', RrType.TXT, { doFlag: false });
        expect(types(plain.authorities)).to.equal([RrType.SOA]);
    });

    it('answers NODATA for an empty non-terminal', () => {

        const { header, authorities } = ask(responder, 'k1.example.test', RrType.A);
        expect(header.rcode).to.equal(Rcode.NOERROR);
        expect(authorities.find((record) => record.type === RrType.NSEC)!.name).to.equal('iks2.example.test');
        expect(types(ask(responder, 'k1.example.test', RrType.A, null).authorities)).to.equal([RrType.SOA]);
    });

    it('patches the message ID and question case into cached answers', () => {

        const first = dns2Query('IKS1.example.test', RrType.A, null);
        const second = dns2Query('iks1.EXAMPLE.test', RrType.A, null);
        second.writeUInt16BE(0xbeef, 0);
        second[2] = second[2]! & 0xfe;
        const a = responder.respond(parseQuery(first), 'udp')!;
        const b = responder.respond(parseQuery(second), 'udp')!;
        expect(a.readUInt16BE(0)).to.equal(0x1234);
        expect(b.readUInt16BE(0)).to.equal(0xbeef);
        expect(b[2]! & 0x01).to.equal(0);
        expect(b.toString('latin1')).to.contain('EXAMPLE');
        expect(a.subarray(30)).to.equal(b.subarray(30));
    });

    it('truncates over UDP only, by the smaller of the client size and its own maximum', () => {

        const big = signedDemoZone(undefined, 10);
        const small = new ZoneResponder(big, { maxUdpPayload: 600, cacheSize: 1 });
        expect(ask(small, '_ikqs._tcp.example.test', RrType.SRV, { doFlag: true, udpPayloadSize: 4096 }).header.tc).to.equal(1);
        expect(ask(small, '_ikqs._tcp.example.test', RrType.SRV, { doFlag: true, udpPayloadSize: 4096 }, 'tcp').answers.length).to.equal(13);
        expect(ask(small, '_ikqs._tcp.example.test', RrType.SRV, null).header.tc).to.equal(0);          // 12 SRV, no RRSIG: < 512
        expect(ask(small, 'example.test', RrType.SOA, null).header.tc).to.equal(0);
    });

    it('answers rejected messages with the header, the question when it was read and the OPT, and drops the rest', () => {

        expect(responder.respond({ kind: 'drop' }, 'udp')).to.be.null();
        const badvers = responder.respond(parseQuery(dns2Query('example.test', RrType.SOA, { version: 1 })), 'udp')!;
        const packet = Dns2.Packet.parse(badvers);
        expect(packet.header.rcode).to.equal(Rcode.BADVERS);
        expect(packet.questions).to.equal([{ name: 'example.test', type: RrType.SOA, class: 1 }]);
        const unreadable = dns2Query('example.test', RrType.SOA, { doFlag: true });
        unreadable[12] = 0x40;                                                  // a label length over 63
        const formerr = responder.respond(parseQuery(unreadable), 'udp')!;
        expect(formerr[3]! & 0x0f).to.equal(Rcode.FORMERR);
        expect(formerr.readUInt16BE(4)).to.equal(0);
    });

    it('answers meta-type questions and TSIG-signed queries with an error, the question and the OPT', () => {

        for (const [qtype, rcode] of [[RrType.OPT, Rcode.FORMERR], [RrType.MAILB, Rcode.NOTIMP]] as const) {
            const reply = responder.respond(parseQuery(dns2Query('Example.test', qtype, { doFlag: true })), 'udp')!;
            const packet = Dns2.Packet.parse(reply) as unknown as { header: { rcode: number; aa: number }; questions: unknown[]; additionals: Array<{ type: number }> };
            expect(packet.header.rcode).to.equal(rcode);
            expect(packet.header.aa).to.equal(0);
            expect(packet.questions).to.equal([{ name: 'Example.test', type: qtype, class: 1 }]);
            expect(packet.additionals.map((record) => record.type)).to.equal([RrType.OPT]);
        }
    });
});
