import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import { parseQuery, type ParsedQuery, type RejectedQuery } from '../../lib/dns/query';
import { Rcode } from '../../lib/dns/types';
import { dns2Query, ixfrQuery } from './helpers';

export const lab = Lab.script();
const { describe, it } = lab;

describe('parseQuery()', () => {

    it('reads the header, question and OPT of a DNSSEC query', () => {

        const parsed = parseQuery(dns2Query('_IKQS._tcp.Example.test', 33, { doFlag: true, udpPayloadSize: 4096 })) as ParsedQuery;
        expect(parsed.kind).to.equal('query');
        expect(parsed.id).to.equal(0x1234);
        expect(parsed.rd).to.be.true();
        expect(parsed.cd).to.be.false();
        expect(parsed.labels).to.equal(['_ikqs', '_tcp', 'example', 'test']);
        expect(parsed.qtype).to.equal(33);
        expect(parsed.qclass).to.equal(1);
        expect(parsed.edns).to.equal({ payloadSize: 4096, dnssecOk: true, version: 0 });
        expect(parsed.question.toString('latin1')).to.contain('_IKQS');
        expect(parsed.qnameKey).to.equal('\u0005_ikqs\u0004_tcp\u0007example\u0004test\u0000');
    });

    it('raises a small advertised payload to 512 and reads DO=0', () => {

        const parsed = parseQuery(dns2Query('example.test', 1, { doFlag: false, udpPayloadSize: 100 })) as ParsedQuery;
        expect(parsed.edns).to.equal({ payloadSize: 512, dnssecOk: false, version: 0 });
        expect((parseQuery(dns2Query('example.test', 1, null)) as ParsedQuery).edns).to.be.null();
    });

    it('drops short messages and responses', () => {

        expect(parseQuery(Buffer.alloc(11)).kind).to.equal('drop');
        const response = dns2Query('example.test', 1);
        response[2] = response[2]! | 0x80;
        expect(parseQuery(response).kind).to.equal('drop');
    });

    it('answers other opcodes with NOTIMP, echoing the OPT (RFC 6891 §7)', () => {

        const notify = dns2Query('example.test', 6, { doFlag: true, udpPayloadSize: 1400 });
        notify[2] = (notify[2]! & 0x87) | (4 << 3);
        const parsed = parseQuery(notify) as RejectedQuery;
        expect(parsed).to.include({ kind: 'reject', rcode: Rcode.NOTIMP, opcode: 4 });
        expect(parsed.edns).to.equal({ payloadSize: 1400, dnssecOk: true, version: 0 });
        const plain = dns2Query('example.test', 6, null);
        plain[2] = (plain[2]! & 0x87) | (4 << 3);
        expect((parseQuery(plain) as RejectedQuery).edns).to.be.null();
    });

    it('echoes the OPT of a query with impossible section counts when it can be found', () => {

        // Two questions, then the OPT: FORMERR, but the OPT is still readable.
        const query = dns2Query('example.test', 1, { doFlag: true, udpPayloadSize: 1232 });
        const question = query.subarray(12, query.length - 11);
        const twoQuestions = Buffer.concat([query.subarray(0, query.length - 11), question, query.subarray(query.length - 11)]);
        twoQuestions.writeUInt16BE(2, 4);
        const parsed = parseQuery(twoQuestions) as RejectedQuery;
        expect(parsed).to.include({ rcode: Rcode.FORMERR });
        expect(parsed.edns).to.equal({ payloadSize: 1232, dnssecOk: true, version: 0 });

        // Counts that run past the end: no OPT can be trusted.
        const overcounted = Buffer.from(query);
        overcounted.writeUInt16BE(9, 4);
        expect((parseQuery(overcounted) as RejectedQuery).edns).to.be.null();
    });

    it('answers FORMERR for impossible section counts', () => {

        const header = Buffer.alloc(12);
        header.writeUInt16BE(0xffff, 4);
        header.writeUInt16BE(0xffff, 6);
        expect(parseQuery(header)).to.include({ kind: 'reject', rcode: Rcode.FORMERR });
        const answers = dns2Query('example.test', 1);
        answers.writeUInt16BE(1, 6);
        expect(parseQuery(answers)).to.include({ kind: 'reject', rcode: Rcode.FORMERR });
    });

    it('reads an IXFR query past the client\'s SOA in its authority section (RFC 1995 §3), and no other query with one', () => {

        const ixfr = parseQuery(ixfrQuery('example.test', 7)) as ParsedQuery;
        expect(ixfr).to.include({ kind: 'query', qtype: 251 });
        expect(ixfr.edns).to.equal({ payloadSize: 4096, dnssecOk: true, version: 0 });
        expect(parseQuery(ixfrQuery('example.test', 7, null)).kind).to.equal('query');

        const cut = ixfrQuery('example.test', 7, null);
        expect(parseQuery(cut.subarray(0, cut.length - 1))).to.include({ kind: 'reject', rcode: Rcode.FORMERR });
        const notIxfr = ixfrQuery('example.test', 7);
        notIxfr.writeUInt16BE(6, 12 + 14);                                     // SOA asked, SOA in authority
        expect(parseQuery(notIxfr)).to.include({ kind: 'reject', rcode: Rcode.FORMERR, question: null });
        const two = ixfrQuery('example.test', 7);
        two.writeUInt16BE(2, 8);
        expect(parseQuery(two)).to.include({ kind: 'reject', rcode: Rcode.FORMERR });
    });

    it('keeps CD in a rejected query, to be copied into its error answer', () => {

        const query = dns2Query('example.test', 1, { version: 1 });
        query[3] = query[3]! | 0x10;
        expect(parseQuery(query)).to.include({ kind: 'reject', rcode: Rcode.BADVERS, cd: true });
        expect(parseQuery(dns2Query('example.test', 1, { version: 1 }))).to.include({ kind: 'reject', cd: false });
    });

    it('answers FORMERR for truncated questions, compressed qnames and trailing octets', () => {

        const query = dns2Query('example.test', 1, null);
        for (let length = 12; length < query.length; ++length) {
            expect(parseQuery(query.subarray(0, length)), `length ${length}`).to.include({ kind: 'reject', rcode: Rcode.FORMERR });
        }

        const pointer = Buffer.concat([query.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
        expect(parseQuery(pointer)).to.include({ rcode: Rcode.FORMERR });
        expect(parseQuery(Buffer.concat([query, Buffer.from([0])]))).to.include({ rcode: Rcode.FORMERR });
        const longName = Buffer.concat([query.subarray(0, 12), Buffer.from(Array.from({ length: 5 }, () => [63, ...Buffer.alloc(63, 0x61)]).flat()), Buffer.from([0, 0, 1, 0, 1])]);
        expect(parseQuery(longName)).to.include({ rcode: Rcode.FORMERR });
    });

    it('reads a 255-octet name and answers FORMERR for a 256-octet one, the root label counted', () => {

        const header = dns2Query('example.test', 1, null).subarray(0, 12);
        const named = (lastLabel: number) => {

            const labels = [63, 63, 63, lastLabel].flatMap((length) => [length, ...Buffer.alloc(length, 0x61)]);
            return Buffer.concat([header, Buffer.from(labels), Buffer.from([0, 0, 1, 0, 1])]);
        };

        const longest = parseQuery(named(61)) as ParsedQuery;
        expect(longest.kind).to.equal('query');
        expect(longest.question.length - 4).to.equal(255);
        expect(parseQuery(named(62))).to.include({ kind: 'reject', rcode: Rcode.FORMERR });
    });

    it('answers FORMERR for OPT, TSIG and type 0 questions and NOTIMP for MAILB and MAILA, with question and OPT', () => {

        const cases: Array<[number, number]> = [[0, Rcode.FORMERR], [41, Rcode.FORMERR], [250, Rcode.FORMERR], [253, Rcode.NOTIMP], [254, Rcode.NOTIMP]];
        for (const [qtype, rcode] of cases) {
            const query = dns2Query('example.test', qtype);
            const parsed = parseQuery(query) as RejectedQuery;
            expect(parsed, `type ${qtype}`).to.include({ kind: 'reject', rcode });
            expect(parsed.question!.readUInt16BE(parsed.question!.length - 4)).to.equal(qtype);
            expect(parsed.edns).to.equal({ payloadSize: 4096, dnssecOk: true, version: 0 });
        }

        expect(parseQuery(dns2Query('example.test', 249)).kind).to.equal('query');          // TKEY: an ordinary NODATA
    });

    it('refuses a TSIG-signed query and answers FORMERR when TSIG is not the last record (RFC 8945 §5.1)', () => {

        // key. TSIG ANY 0 with a 4-octet RDATA: its content is never read.
        const tsig = Buffer.from([3, 0x6b, 0x65, 0x79, 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        const query = dns2Query('example.test', 1);
        const opt = query.subarray(query.length - 11);
        const withoutOpt = query.subarray(0, query.length - 11);
        const last = Buffer.concat([withoutOpt, opt, tsig]);
        last.writeUInt16BE(2, 10);
        const refused = parseQuery(last) as RejectedQuery;
        expect(refused).to.include({ kind: 'reject', rcode: Rcode.REFUSED });
        expect(refused.edns).to.not.be.null();
        const first = Buffer.concat([withoutOpt, tsig, opt]);
        first.writeUInt16BE(2, 10);
        expect(parseQuery(first)).to.include({ kind: 'reject', rcode: Rcode.FORMERR });
    });

    it('answers FORMERR for a broken or duplicated OPT', () => {

        const query = dns2Query('example.test', 1);
        expect(parseQuery(query.subarray(0, query.length - 1))).to.include({ rcode: Rcode.FORMERR });
        const opt = query.subarray(query.length - 11);
        const twice = Buffer.concat([query, opt]);
        twice.writeUInt16BE(2, 10);
        expect(parseQuery(twice)).to.include({ rcode: Rcode.FORMERR });
        const ownerNotRoot = Buffer.concat([query.subarray(0, query.length - 11), Buffer.from([1, 0x61, 0]), opt.subarray(1)]);
        expect(parseQuery(ownerNotRoot)).to.include({ rcode: Rcode.FORMERR });
        const overlong = Buffer.from(query);
        overlong.writeUInt16BE(5, overlong.length - 2);
        expect(parseQuery(overlong)).to.include({ rcode: Rcode.FORMERR });
    });

    it('skips other additional records, compressed or not', () => {

        const query = dns2Query('example.test', 1, null);
        const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        const withRecord = Buffer.concat([query, record]);
        withRecord.writeUInt16BE(1, 10);
        expect(parseQuery(withRecord).kind).to.equal('query');
        const badLabel = Buffer.concat([query, Buffer.from([0x80])]);
        badLabel.writeUInt16BE(1, 10);
        expect(parseQuery(badLabel)).to.include({ rcode: Rcode.FORMERR });
        const cutPointer = Buffer.concat([query, Buffer.from([0xc0])]);
        cutPointer.writeUInt16BE(1, 10);
        expect(parseQuery(cutPointer)).to.include({ rcode: Rcode.FORMERR });
        const unterminated = Buffer.concat([query, Buffer.from([1, 0x61])]);
        unterminated.writeUInt16BE(1, 10);
        expect(parseQuery(unterminated)).to.include({ rcode: Rcode.FORMERR });
    });

    it('answers BADVERS for EDNS versions other than 0', () => {

        const parsed = parseQuery(dns2Query('example.test', 1, { version: 1, doFlag: true })) as RejectedQuery;
        expect(parsed).to.include({ kind: 'reject', rcode: Rcode.BADVERS });
        expect(parsed.edns!.dnssecOk).to.be.true();
    });
});
