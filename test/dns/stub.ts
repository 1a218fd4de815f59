import * as Dgram from 'node:dgram';
import * as Net from 'node:net';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import * as Decode from '../../lib/dns/decode';
import { encodeResponse } from '../../lib/dns/message';
import { nameToWire } from '../../lib/dns/name';
import { parseQuery, type ParsedQuery } from '../../lib/dns/query';
import { DnsStub, encodeQuery, parseDnsServer } from '../../lib/dns/stub';
import { Rcode, RrType } from '../../lib/dns/types';
import { DnsQueryFailed, InvalidConfig } from '../../lib/errors';
import { serveZone } from '../helpers/dns-server';
import { signedDemoZone } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

/** A UDP server that answers each query with whatever `reply` returns (several datagrams allowed). */
async function fakeUdpServer(reply: (query: ParsedQuery) => Buffer[]): Promise<{ port: number; close(): Promise<void> }> {

    const socket = Dgram.createSocket('udp4');
    socket.on('message', (message, remote) => {

        const parsed = parseQuery(message);
        if (parsed.kind === 'query') {
            for (const datagram of reply(parsed)) {
                socket.send(datagram, remote.port, remote.address);
            }
        }
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

async function fakeTcpServer(onConnection: (socket: Net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {

    const sockets = new Set<Net.Socket>();
    const server = Net.createServer((socket) => {

        sockets.add(socket);
        onConnection(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        port: (server.address() as Net.AddressInfo).port,
        close: () => new Promise((resolve) => {

            sockets.forEach((socket) => socket.destroy());
            server.close(() => resolve());
        })
    };
}

function answerTo(query: ParsedQuery, overrides: { id?: number; question?: Buffer; rcode?: number } = {}): Buffer {

    const record = { name: query.labels.join('.'), type: RrType.A, ttl: 60, rdata: Buffer.from([192, 0, 2, 7]) };
    return encodeResponse({ id: overrides.id ?? query.id, aa: true, rd: query.rd, rcode: overrides.rcode ?? Rcode.NOERROR, question: overrides.question ?? query.question, answers: [record], edns: { payloadSize: 1232, dnssecOk: true } });
}

describe('encodeQuery()', () => {

    it('asks one question with RD, CD, EDNS0 and the DO bit, as the server parser reads it', () => {

        const parsed = parseQuery(encodeQuery({ id: 0xbeef, name: 'Sha256.K1.example.test', type: RrType.TXT, udpPayloadSize: 1232 })) as ParsedQuery;
        expect(parsed).to.include({ kind: 'query', id: 0xbeef, rd: true, cd: true, qtype: RrType.TXT, qclass: 1 });
        expect(parsed.labels).to.equal(['sha256', 'k1', 'example', 'test']);
        expect(parsed.edns).to.equal({ payloadSize: 1232, dnssecOk: true, version: 0 });
    });
});

describe('parseDnsServer()', () => {

    it('reads IPv4 and IPv6 addresses with and without a port', () => {

        expect(parseDnsServer('127.0.0.1')).to.equal({ host: '127.0.0.1', port: 53 });
        expect(parseDnsServer('127.0.0.1:5300')).to.equal({ host: '127.0.0.1', port: 5300 });
        expect(parseDnsServer('[::1]:5300')).to.equal({ host: '::1', port: 5300 });
        expect(parseDnsServer('::1', 5300)).to.equal({ host: '::1', port: 5300 });
        expect(parseDnsServer('[2001:db8::1]')).to.equal({ host: '2001:db8::1', port: 53 });
    });

    it('refuses host names and bad ports', () => {

        expect(() => parseDnsServer('ns1.example.test')).to.throw(InvalidConfig, /not an IP address/);
        expect(() => parseDnsServer('127.0.0.1:0')).to.throw(InvalidConfig);
        expect(() => parseDnsServer('127.0.0.1:70000')).to.throw(InvalidConfig);
    });
});

describe('DnsStub', () => {

    let zoneServer: Awaited<ReturnType<typeof serveZone>>;

    before(async () => {

        zoneServer = await serveZone(signedDemoZone(undefined, 10));          // 12 SRV targets: > 512 octets with DO
    });

    after(async () => {

        await zoneServer.close();
    });

    it('gets an answer with its RRSIG over UDP', async () => {

        const stub = new DnsStub({ server: { host: '127.0.0.1', port: zoneServer.port } });
        const before_ = { ...zoneServer.received };
        const reply = await stub.query('iks1.Example.test', RrType.A);
        expect(reply).to.include({ qr: true, aa: true, tc: false, rcode: Rcode.NOERROR });
        expect(reply.question).to.equal({ name: 'iks1.example.test', type: RrType.A, class: 1 });
        expect(reply.answers.map((record) => record.type)).to.equal([RrType.A, RrType.RRSIG]);
        expect(zoneServer.received.udp - before_.udp).to.equal(1);
        expect(zoneServer.received.tcp - before_.tcp).to.equal(0);
    });

    it('retries over TCP when the UDP answer comes back truncated', async () => {

        const stub = new DnsStub({ server: { host: '127.0.0.1', port: zoneServer.port }, udpPayloadSize: 512 });
        const before_ = { ...zoneServer.received };
        const reply = await stub.query('_ikqs._tcp.example.test', RrType.SRV);
        expect(reply.tc).to.be.false();
        expect(reply.answers.filter((record) => record.type === RrType.SRV)).to.have.length(12);
        expect(zoneServer.received.udp - before_.udp).to.equal(1);
        expect(zoneServer.received.tcp - before_.tcp).to.equal(1);
    });

    it('asks over TCP directly when told to', async () => {

        const stub = new DnsStub({ server: { host: '127.0.0.1', port: zoneServer.port } });
        const before_ = { ...zoneServer.received };
        expect((await stub.query('example.test', RrType.SOA, 'tcp')).answers[0]!.type).to.equal(RrType.SOA);
        expect(zoneServer.received.udp - before_.udp).to.equal(0);
    });

    it('returns answers with any RCODE for the caller to judge', async () => {

        const stub = new DnsStub({ server: { host: '127.0.0.1', port: zoneServer.port } });
        expect((await stub.query('example.org', RrType.A)).rcode).to.equal(Rcode.REFUSED);
        expect((await stub.query('nope.example.test', RrType.A)).rcode).to.equal(Rcode.NXDOMAIN);
    });

    it('ignores datagrams that do not answer its question and takes the one that does', async () => {

        const server = await fakeUdpServer((query) => [
            Buffer.from('not dns'),
            answerTo(query, { id: (query.id + 1) & 0xffff }),
            answerTo(query, { question: Buffer.concat([nameToWire('other.example.test'), Buffer.from([0, 1, 0, 1])]) }),
            query.question.length > 0 ? Buffer.from(encodeQuery({ id: query.id, name: 'x.example.test', type: RrType.A, udpPayloadSize: 512 })) : Buffer.alloc(0),
            answerTo(query)
        ]);
        try {
            const reply = await new DnsStub({ server: { host: '127.0.0.1', port: server.port } }).query('www.example.test', RrType.A);
            expect(reply.answers[0]!.rdata).to.equal(Buffer.from([192, 0, 2, 7]));
        }
        finally {
            await server.close();
        }
    });

    it('decodes only datagrams carrying its query ID, so a flood of foreign ones costs no decoding', async () => {

        // The stub calls decodeMessage through the module's exports: count the calls there.
        const decode = Decode as { decodeMessage: typeof Decode.decodeMessage };
        const original = decode.decodeMessage;
        let decoded = 0;
        decode.decodeMessage = (message) => {

            ++decoded;
            return original(message);
        };

        const server = await fakeUdpServer((query) => [
            ...[1, 2, 3].map((delta) => answerTo(query, { id: (query.id + delta) & 0xffff })),
            Buffer.from([0x42]),
            answerTo(query)
        ]);
        try {
            const reply = await new DnsStub({ server: { host: '127.0.0.1', port: server.port } }).query('www.example.test', RrType.A);
            expect(reply.answers[0]!.rdata).to.equal(Buffer.from([192, 0, 2, 7]));
            expect(decoded).to.equal(1);
        }
        finally {
            decode.decodeMessage = original;
            await server.close();
        }
    });

    it('goes to TCP when a truncated answer is too damaged to decode', async () => {

        const udp = await fakeUdpServer((query) => {

            const truncated = answerTo(query).subarray(0, 20);
            truncated[2] = truncated[2]! | 0x02;
            return [truncated];
        });
        const tcp = await fakeTcpServer((socket) => socket.destroy());
        try {
            // The TCP side lives on another port, so the retry fails: proof that it was tried.
            await expect(new DnsStub({ server: { host: '127.0.0.1', port: udp.port }, timeoutMs: 500 }).query('www.example.test', RrType.A)).to.reject(DnsQueryFailed, /over TCP/);
        }
        finally {
            await udp.close();
            await tcp.close();
        }
    });

    it('gives up after its attempts when nothing answers', async () => {

        const silent = await fakeUdpServer(() => []);
        try {
            await expect(new DnsStub({ server: { host: '127.0.0.1', port: silent.port }, timeoutMs: 50, attempts: 2 }).query('www.example.test', RrType.A)).to.reject(DnsQueryFailed, /no answer .* after 2 attempt/);
        }
        finally {
            await silent.close();
        }
    });

    it('fails fast when the port refuses', async () => {

        const closed = await fakeUdpServer(() => []);
        await closed.close();
        await expect(new DnsStub({ server: { host: '127.0.0.1', port: closed.port }, timeoutMs: 10_000, attempts: 5 }).query('www.example.test', RrType.A)).to.reject(DnsQueryFailed, /cannot reach .*ECONNREFUSED/);
    });

    it('rejects a TCP answer to another question, a malformed one and a closed connection', async () => {

        const cases: [(socket: Net.Socket, query: ParsedQuery) => void, RegExp][] = [
            [(socket, query) => socket.write(framed(answerTo(query, { id: (query.id + 1) & 0xffff }))), /does not match the question/],
            [(socket) => socket.write(framed(Buffer.from('garbage that is no dns'))), /malformed answer/],
            [(socket) => socket.end(), /closed the TCP connection/]
        ];

        for (const [respond, error] of cases) {
            const server = await fakeTcpServer((socket) => socket.once('data', (data: Buffer) => respond(socket, parseQuery(data.subarray(2)) as ParsedQuery)));
            try {
                await expect(new DnsStub({ server: { host: '127.0.0.1', port: server.port } }).query('www.example.test', RrType.A, 'tcp')).to.reject(DnsQueryFailed, error);
            }
            finally {
                await server.close();
            }
        }
    });

    it('times out a TCP exchange that never answers', async () => {

        const server = await fakeTcpServer(() => {});
        try {
            await expect(new DnsStub({ server: { host: '127.0.0.1', port: server.port }, timeoutMs: 50 }).query('www.example.test', RrType.A, 'tcp')).to.reject(DnsQueryFailed, /no answer over TCP/);
        }
        finally {
            await server.close();
        }
    });

    it('reassembles a TCP answer that arrives in pieces', async () => {

        const server = await fakeTcpServer((socket) => socket.once('data', (data: Buffer) => {

            const reply = framed(answerTo(parseQuery(data.subarray(2)) as ParsedQuery));
            socket.write(reply.subarray(0, 1));
            setTimeout(() => socket.write(reply.subarray(1, 10)), 5);
            setTimeout(() => socket.write(reply.subarray(10)), 10);
        }));
        try {
            const reply = await new DnsStub({ server: { host: '127.0.0.1', port: server.port } }).query('www.example.test', RrType.A, 'tcp');
            expect(reply.answers[0]!.rdata).to.equal(Buffer.from([192, 0, 2, 7]));
        }
        finally {
            await server.close();
        }
    });
});

function framed(message: Buffer): Buffer {

    return Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
}
