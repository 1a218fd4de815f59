import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Dns2 from 'dns2';

import { encodeResponse, responseRcode } from '../../lib/dns/message';
import { nameToWire } from '../../lib/dns/name';
import { encodeA, encodeSrv } from '../../lib/dns/rdata';
import { Rcode, RrType } from '../../lib/dns/types';

export const lab = Lab.script();
const { describe, it } = lab;

// nameToWire keeps the case it is given: the question as a client sent it.
const question = (name: string, type: number) => Buffer.concat([nameToWire(name), Buffer.from([0, type, 0, 1])]);

describe('encodeResponse()', () => {

    it('produces a message dns2 decodes, with owner names compressed against the question', () => {

        const srv = encodeSrv({ priority: 1, weight: 2, port: 3, target: 'iks.example.test' });
        const wire = encodeResponse({
            id: 7, aa: true, rd: true, cd: true, rcode: Rcode.NOERROR,
            question: question('_ikqs._tcp.Example.test', RrType.SRV),
            answers: [{ name: '_ikqs._tcp.example.test', type: RrType.SRV, ttl: 60, rdata: srv }],
            authorities: [{ name: 'iks.example.test', type: RrType.A, ttl: 60, rdata: encodeA('192.0.2.1') }],
            edns: { payloadSize: 1232, dnssecOk: true }
        });

        const packet = Dns2.Packet.parse(wire);
        expect(packet.header).to.include({ id: 7, qr: 1, aa: 1, rd: 1, cd: 1, tc: 0, rcode: 0, ancount: 1, nscount: 1, arcount: 1 });
        expect(packet.answers[0]).to.include({ name: '_ikqs._tcp.Example.test', target: 'iks.example.test', port: 3 });
        expect(packet.authorities[0]).to.include({ name: 'iks.Example.test', address: '192.0.2.1' });      // suffix shared with the question
        expect(packet.additionals[0]).to.include({ type: RrType.OPT, class: 1232, doFlag: true });
        // The answer owner is a single pointer to offset 12; the SRV target stays uncompressed.
        expect(wire.indexOf(Buffer.from([0xc0, 0x0c, 0, RrType.SRV]))).to.be.above(0);
        expect(wire.includes(Buffer.concat([Buffer.from([0, 1, 0, 2, 0, 3]), nameToWire('iks.example.test')]))).to.be.true();
    });

    it('carries the high bits of an extended RCODE in OPT and sets TC', () => {

        const wire = encodeResponse({ id: 1, aa: false, tc: true, rd: false, rcode: Rcode.BADVERS, question: null, edns: { payloadSize: 512, dnssecOk: false } });
        expect(wire.length).to.equal(23);
        expect(wire[2]! & 0x02).to.equal(0x02);
        expect(wire[3]! & 0x0f).to.equal(0);
        expect(wire[12 + 5]).to.equal(1);                  // OPT TTL high octet: 16 >> 4
    });

    it('compresses repeated owner names', () => {

        const a = { name: 'a.example.test', type: RrType.A, ttl: 1, rdata: encodeA('192.0.2.1') };
        const wire = encodeResponse({ id: 1, aa: true, rd: false, rcode: 0, question: null, answers: [a, a, { ...a, name: 'b.a.example.test' }] });
        expect(wire.length).to.equal(12 + (16 + 14) + (2 + 14) + (2 + 2 + 14));
        const packet = Dns2.Packet.parse(wire);
        expect(packet.answers.map((answer: { name: string }) => answer.name)).to.equal(['a.example.test', 'a.example.test', 'b.a.example.test']);
    });
});

describe('responseRcode()', () => {

    it('reads the 12-bit RCODE: header bits and the OPT\'s upper bits', () => {

        const answer = (rcode: number, edns: boolean) => encodeResponse({ id: 1, aa: false, rd: false, rcode, question: question('example.test', RrType.A), edns: edns ? { payloadSize: 1232, dnssecOk: false } : null });
        expect(responseRcode(answer(Rcode.BADVERS, true))).to.equal(16);
        expect(responseRcode(answer(Rcode.NXDOMAIN, true))).to.equal(Rcode.NXDOMAIN);
        expect(responseRcode(answer(Rcode.REFUSED, false))).to.equal(Rcode.REFUSED);
        const records = encodeResponse({ id: 1, aa: true, rd: false, rcode: Rcode.NOERROR, question: null, answers: [{ name: 'example.test', type: RrType.A, ttl: 60, rdata: encodeA('192.0.2.1') }] });
        expect(responseRcode(records)).to.equal(Rcode.NOERROR);
    });
});
