import type * as Dgram from 'node:dgram';
import * as Net from 'node:net';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { defaultTcpLimits, TcpTransport, UdpTransport, type TcpLimits } from '../../plugins/dns-authority/transport';
import { eventually } from '../helpers/eventually';
import { framed } from './helpers';

export const lab = Lab.script();
const { describe, it } = lab;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 12-octet "query": only its ID matters to the answerer below. */
const query = (id: number) => Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);

/** A TCP transport whose answers are `replySize` octets carrying the query's ID; counts what it answered. */
async function transport(limits: Partial<TcpLimits>, replySize = 100): Promise<{ server: TcpTransport; port: number; answered: () => number; accepted: Net.Socket[]; onAnswer: (hook: () => void) => void }> {

    let answered = 0;
    let hook: (() => void) | null = null;
    const server = new TcpTransport((message) => {

        ++answered;
        hook?.();
        hook = null;
        const reply = Buffer.alloc(replySize);
        message.copy(reply, 0, 0, 2);
        return reply;
    }, limits);

    const accepted: Net.Socket[] = [];
    server.on('connection', (socket: Net.Socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as Net.AddressInfo).port, answered: () => answered, accepted, onAnswer: (next) => (hook = next) };
}

function close(server: Net.Server): Promise<void> {

    return new Promise((resolve) => server.close(() => resolve()));
}

/** A client that reads length-prefixed answers and remembers their IDs. */
class Client {

    readonly socket: Net.Socket;
    readonly ids: number[] = [];
    closed = false;
    private pending = Buffer.alloc(0);

    constructor(port: number) {

        this.socket = Net.connect(port, '127.0.0.1');
        this.socket.on('error', () => {});
        this.socket.on('close', () => (this.closed = true));
        this.socket.on('data', (chunk: Buffer) => {

            this.pending = Buffer.concat([this.pending, chunk]);
            while (this.pending.length >= 2 && this.pending.length >= 2 + this.pending.readUInt16BE(0)) {
                this.ids.push(this.pending.readUInt16BE(2));
                this.pending = this.pending.subarray(2 + this.pending.readUInt16BE(0));
            }
        });
    }

    /** Sends one query and waits for its answer. */
    async ask(id: number): Promise<void> {

        const before = this.ids.length;
        this.socket.write(framed(query(id)));
        await eventually(() => this.ids.length > before || this.closed, 5000, `answer ${id}`);
        expect(this.ids.at(-1), 'answered').to.equal(id);
    }
}

describe('TcpTransport', () => {

    it('stops reading a client that does not read its answers, with a bounded backlog, and resumes when it reads', async () => {

        const replySize = 1000;
        const { server, port, answered, accepted } = await transport({ idleTimeoutMs: 60_000 }, replySize);
        const total = 40_000;                                                   // 40 MB of answers: more than any socket buffers hold
        const client = Net.connect(port, '127.0.0.1');
        client.on('error', () => {});
        try {
            await new Promise((resolve) => client.once('connect', resolve));
            client.write(framed(...Array.from({ length: total }, (_, i) => query(i & 0xffff))));
            await eventually(() => accepted.length === 1);
            const served = accepted[0]!;

            // Either everything was answered into memory (unbounded), or the server waits for 'drain'.
            await eventually(() => answered() === total || (served.isPaused() && served.writableNeedDrain), 20_000, 'all answered or paused');
            expect(served.writableLength).to.be.at.most(defaultTcpLimits.maxPendingReplyBytes + 2 + replySize);
            expect(answered()).to.be.below(total);

            let received = 0;
            let pending = Buffer.alloc(0);
            client.on('data', (chunk: Buffer) => {

                pending = Buffer.concat([pending, chunk]);
                while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
                    ++received;
                    pending = pending.subarray(2 + pending.readUInt16BE(0));
                }
            });
            await eventually(() => received === total, 30_000, 'every answer read');
            expect(answered()).to.equal(total);
        }
        finally {
            client.destroy();
            await close(server);
        }
    });

    it('answers a pipelined burst in turns so other connections are served in between', async () => {

        const { server, port, answered, onAnswer } = await transport({ messagesPerTurn: 8 });
        const client = new Client(port);
        try {
            // The first answer schedules a check for the next event-loop turn: it runs before the transport's own continuation.
            let answeredInFirstTurn = -1;
            onAnswer(() => setImmediate(() => (answeredInFirstTurn = answered())));
            client.socket.write(framed(...Array.from({ length: 20 }, (_, i) => query(i))));
            await eventually(() => client.ids.length === 20);
            expect(answeredInFirstTurn).to.equal(8);
            expect(client.ids).to.equal(Array.from({ length: 20 }, (_, i) => i));
        }
        finally {
            client.socket.destroy();
            await close(server);
        }
    });

    it('closes a connection whose message does not complete in time, however often its octets trickle in', async () => {

        const { server, port, answered } = await transport({ messageTimeoutMs: 200, idleTimeoutMs: 60_000 });
        const client = new Client(port);
        try {
            client.socket.write(Buffer.from([0x00, 0xff]));                     // a 255-octet message announced…
            let sent = 0;
            for (; sent < 200 && !client.closed; ++sent) {                      // …and one octet of it every 25 ms
                await delay(25);
                client.socket.write(Buffer.from([0]));
            }

            expect(client.closed).to.be.true();
            expect(sent).to.be.below(200);
            expect(answered()).to.equal(0);
        }
        finally {
            client.socket.destroy();
            await close(server);
        }
    });

    it('counts the message deadline from its first octet, not from the connection or the last answer', async () => {

        const { server, port } = await transport({ messageTimeoutMs: 200, idleTimeoutMs: 60_000 });
        const client = new Client(port);
        try {
            await delay(400);                                                   // idle longer than the deadline
            await client.ask(1);
            await delay(400);
            const message = framed(query(2));
            client.socket.write(message.subarray(0, 5));                        // split, but whole well within the deadline
            await delay(20);
            client.socket.write(message.subarray(5));
            await eventually(() => client.ids.length === 2);
            expect(client.ids).to.equal([1, 2]);
            expect(client.closed).to.be.false();
        }
        finally {
            client.socket.destroy();
            await close(server);
        }
    });

    it('closes connections beyond the per-address limit at once and accepts again when one closes', async () => {

        const { server, port } = await transport({ maxConnectionsPerAddress: 2 });
        const clients = [new Client(port), new Client(port)];
        try {
            await clients[0]!.ask(1);
            await clients[1]!.ask(2);
            const extra = new Client(port);
            clients.push(extra);
            extra.socket.write(framed(query(3)));
            await eventually(() => extra.closed, 5000, 'extra connection closed');
            expect(extra.ids).to.equal([]);

            clients[0]!.socket.destroy();
            await eventually(() => new Promise<boolean>((resolve) => server.getConnections((_err, count) => resolve(count === 1))));
            const next = new Client(port);
            clients.push(next);
            await next.ask(4);
            await clients[1]!.ask(5);
        }
        finally {
            clients.forEach((client) => client.socket.destroy());
            await close(server);
        }
    });

    it('closes the connection answered least recently to make room when full', async () => {

        const { server, port } = await transport({ maxConnections: 2 });
        const first = new Client(port);
        await first.ask(1);
        const second = new Client(port);
        let third: Client | null = null;
        try {
            await second.ask(2);
            await first.ask(3);                                                 // second is now the least recently answered
            third = new Client(port);
            await third.ask(4);
            await eventually(() => second.closed, 5000, 'second closed');
            await first.ask(5);
            expect(first.closed).to.be.false();
        }
        finally {
            [first, second, third].forEach((client) => client?.socket.destroy());
            await close(server);
        }
    });

    it('closes a connection whose answer is too long for its length prefix, and keeps serving', async () => {

        // Query 1 gets 70000 octets, more than the 16-bit prefix can announce; the others 100.
        const server = new TcpTransport((message) => Buffer.alloc(message.readUInt16BE(0) === 1 ? 70_000 : 100, message.subarray(0, 2)));
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const port = (server.address() as Net.AddressInfo).port;
        const first = new Client(port);
        const second = new Client(port);
        try {
            first.socket.write(framed(query(1)));
            await eventually(() => first.closed, 5000, 'closed');
            expect(first.ids).to.equal([]);
            await second.ask(2);
        }
        finally {
            first.socket.destroy();
            second.socket.destroy();
            await close(server);
        }
    });

    it('closes its open connections on shutdown, however busy, instead of waiting for them', async () => {

        const { server, port } = await transport({ idleTimeoutMs: 60_000 });
        const client = new Client(port);
        const busy = setInterval(() => client.socket.write(framed(query(7))), 50);
        try {
            await client.ask(1);
            let stopped = false;
            void server.shutdown().then(() => (stopped = true));
            await eventually(() => stopped, 5000, 'shutdown');                  // without closing them: never, the client keeps it busy
            await eventually(() => client.closed, 5000, 'client closed');
        }
        finally {
            clearInterval(busy);
            client.socket.destroy();
            server.close();
        }
    });

    it('answers every query a client sent before half-closing', async () => {

        const { server, port } = await transport({ messagesPerTurn: 4 });
        const client = new Client(port);
        try {
            client.socket.end(framed(...Array.from({ length: 10 }, (_, i) => query(i))));
            await eventually(() => client.closed, 5000, 'closed by the server');
            expect(client.ids).to.equal(Array.from({ length: 10 }, (_, i) => i));
        }
        finally {
            await close(server);
        }
    });
});

describe('UdpTransport', () => {

    const rinfo = (port: number): Dgram.RemoteInfo => ({ address: '127.0.0.1', family: 'IPv4', port, size: 12 });

    it('neither answers nor throws for a datagram from source port 0', async () => {

        let answered = 0;
        const udp = new UdpTransport('udp4', () => {

            ++answered;
            return query(1);
        });
        await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
        try {
            expect(() => udp.handle(query(1), rinfo(0))).to.not.throw();
            expect(answered).to.equal(0);
            expect(udp.sendFailures).to.equal(0);
        }
        finally {
            udp.close();
        }
    });

    it('contains a send that throws synchronously and counts it', async () => {

        const udp = new UdpTransport('udp4', () => query(1));
        await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        expect(() => udp.handle(query(1), rinfo(53))).to.not.throw();           // a closed socket's send throws ERR_SOCKET_DGRAM_NOT_RUNNING
        expect(udp.sendFailures).to.equal(1);
    });
});
