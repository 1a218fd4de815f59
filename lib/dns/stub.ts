/**
 * A small DNS stub client (RFC 1035 §4.2, RFC 6891, RFC 7766) for the IKS client: one
 * question per exchange over UDP with EDNS0 and the DO bit, retried over TCP when the
 * answer comes back truncated. Answers are matched to the question by source address,
 * message ID and question (RFC 5452 §9.1); anything else arriving on the socket is
 * ignored, so a stray or spoofed datagram cannot end an exchange.
 *
 * The server is asked with RD and CD set (RFC 4035 §3.2.2): a recursive resolver then
 * hands over records even when its own validation failed, and our validator — not the
 * resolver — decides and names the failed link.
 */
import { randomInt } from 'node:crypto';
import * as Dgram from 'node:dgram';
import { isIP } from 'node:net';
import * as Net from 'node:net';

import { DnsQueryFailed, InvalidConfig } from '../errors';
import { decodeMessage, type DecodedMessage } from './decode';
import { canonicalName, nameToWire } from './name';
import { RrClass, RrType, typeName } from './types';

export interface DnsServer {
    /** IPv4 or IPv6 address. */
    readonly host: string;
    readonly port: number;
}

export interface StubOptions {
    readonly server: DnsServer;
    /** Milliseconds to wait for each UDP attempt and for a whole TCP exchange (default 2000). */
    readonly timeoutMs?: number;
    /** UDP sends before giving up (default 3). */
    readonly attempts?: number;
    /** EDNS0 UDP payload size we advertise (default 1232, RFC 6891 §6.2.5 / DNS flag day 2020). */
    readonly udpPayloadSize?: number;
}

export interface QueryFields {
    readonly id: number;
    /** Absolute name, no trailing dot. */
    readonly name: string;
    readonly type: number;
    readonly udpPayloadSize: number;
}

const internals = {
    headerLength: 12,
    defaults: { timeoutMs: 2000, attempts: 3, udpPayloadSize: 1232 }
};

/** A query message: RD and CD set, one question, an OPT record with DO=1 (RFC 3225 §3). */
export function encodeQuery(fields: QueryFields): Buffer {

    const header = Buffer.alloc(internals.headerLength);
    header.writeUInt16BE(fields.id, 0);
    header.writeUInt16BE(0x0110, 2);                              // RD, CD
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(1, 10);
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(fields.type, 0);
    fixed.writeUInt16BE(RrClass.IN, 2);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(RrType.OPT, 1);
    opt.writeUInt16BE(fields.udpPayloadSize, 3);
    opt.writeUInt16BE(0x8000, 7);                                 // DO
    return Buffer.concat([header, nameToWire(canonicalName(fields.name)), fixed, opt]);
}

/**
 * Parses `HOST`, `HOST:PORT` or `[IPv6]:PORT` (a bare IPv6 address takes the default
 * port). The host must be an IP address: the stub does not resolve names itself.
 */
export function parseDnsServer(text: string, defaultPort = 53): DnsServer {

    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
    const hostPort = /^([^:]+):(\d+)$/.exec(text);
    const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : hostPort ? [hostPort[1]!, hostPort[2]] : [text, undefined];
    const number = port === undefined ? defaultPort : Number(port);
    if (isIP(host) === 0 || !Number.isInteger(number) || number < 1 || number > 65535) {
        throw new InvalidConfig(`DNS server "${text}" is not an IP address with an optional port (1-65535)`);
    }

    return { host, port: number };
}

/** True when `reply` answers `query`: a response with the same ID and the same question. */
function answersQuery(reply: DecodedMessage, id: number, name: string, type: number): boolean {

    const question = reply.question;
    return reply.qr && reply.id === id && question !== null && question.name === name && question.type === type && question.class === RrClass.IN;
}

export class DnsStub {

    readonly server: DnsServer;
    readonly #timeoutMs: number;
    readonly #attempts: number;
    readonly #udpPayloadSize: number;

    constructor(options: StubOptions) {

        this.server = options.server;
        this.#timeoutMs = options.timeoutMs ?? internals.defaults.timeoutMs;
        this.#attempts = options.attempts ?? internals.defaults.attempts;
        this.#udpPayloadSize = options.udpPayloadSize ?? internals.defaults.udpPayloadSize;
    }

    /**
     * Asks the server one question; resolves with its decoded answer whatever the RCODE
     * (the caller interprets NXDOMAIN, SERVFAIL…). Throws DnsQueryFailed when no matching
     * answer arrives.
     */
    async query(name: string, type: number, transport: 'udp' | 'tcp' = 'udp'): Promise<DecodedMessage> {

        const canonical = canonicalName(name);
        if (transport === 'udp') {
            const reply = await this.#udp(canonical, type);
            if (reply !== 'truncated') {
                return reply;
            }
        }

        return this.#tcp(canonical, type);
    }

    #describe(name: string, type: number): string {

        return `${name} ${typeName(type)} at ${this.server.host}:${this.server.port}`;
    }

    #udp(name: string, type: number): Promise<DecodedMessage | 'truncated'> {

        const id = randomInt(0, 0x10000);
        const query = encodeQuery({ id, name, type, udpPayloadSize: this.#udpPayloadSize });
        const socket = Dgram.createSocket(isIP(this.server.host) === 6 ? 'udp6' : 'udp4');
        return new Promise((resolve, reject) => {

            let sent = 0;
            let done = false;
            let timer: NodeJS.Timeout | undefined;
            const finish = (outcome: DecodedMessage | 'truncated' | Error) => {

                if (done) {
                    return;
                }

                done = true;
                clearTimeout(timer);
                socket.removeAllListeners('message');
                socket.on('error', () => {});
                socket.close();
                outcome instanceof Error ? reject(outcome) : resolve(outcome);
            };

            const send = () => {

                if (sent === this.#attempts) {
                    finish(new DnsQueryFailed(`no answer for ${this.#describe(name, type)} after ${sent} attempt(s) of ${this.#timeoutMs} ms`));
                    return;
                }

                ++sent;
                socket.send(query, (err) => err && finish(new DnsQueryFailed(`cannot send to ${this.#describe(name, type)}: ${err.message}`, { cause: err })));
                timer = setTimeout(send, this.#timeoutMs);
            };

            socket.on('error', (err) => finish(new DnsQueryFailed(`cannot reach ${this.#describe(name, type)}: ${err.message}`, { cause: err })));
            socket.on('message', (datagram) => {

                // A connected socket only receives from the server; the rest is checked here,
                // the ID first: decoding costs CPU that a flood of foreign datagrams must not get.
                if (datagram.length < 2 || datagram.readUInt16BE(0) !== id) {
                    return;
                }

                let reply: DecodedMessage;
                try {
                    reply = decodeMessage(datagram);
                }
                catch {
                    if (isTruncatedReplyTo(datagram, id)) {
                        finish('truncated');
                    }

                    return;
                }

                if (answersQuery(reply, id, name, type)) {
                    finish(reply.tc ? 'truncated' : reply);
                }
            });

            // connect(): the kernel drops datagrams from other sources and reports ICMP
            // "port unreachable" as ECONNREFUSED instead of leaving us to time out.
            socket.connect(this.server.port, this.server.host, send);
        });
    }

    #tcp(name: string, type: number): Promise<DecodedMessage> {

        const id = randomInt(0, 0x10000);
        const query = encodeQuery({ id, name, type, udpPayloadSize: this.#udpPayloadSize });
        const framed = Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query]);
        return new Promise((resolve, reject) => {

            let received = Buffer.alloc(0);
            let done = false;
            const socket = Net.connect({ host: this.server.host, port: this.server.port });
            const timer = setTimeout(() => finish(new DnsQueryFailed(`no answer over TCP for ${this.#describe(name, type)} within ${this.#timeoutMs} ms`)), this.#timeoutMs);
            const finish = (outcome: DecodedMessage | Error) => {

                if (done) {
                    return;
                }

                done = true;
                clearTimeout(timer);
                socket.destroy();
                outcome instanceof Error ? reject(outcome) : resolve(outcome);
            };

            socket.on('connect', () => socket.write(framed));
            socket.on('error', (err) => finish(new DnsQueryFailed(`cannot reach ${this.#describe(name, type)} over TCP: ${err.message}`, { cause: err })));
            socket.on('end', () => finish(new DnsQueryFailed(`${this.#describe(name, type)} closed the TCP connection before answering`)));
            socket.on('data', (chunk: Buffer) => {

                received = Buffer.concat([received, chunk]);
                if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) {
                    return;
                }

                let reply: DecodedMessage;
                try {
                    reply = decodeMessage(received.subarray(2, 2 + received.readUInt16BE(0)));
                }
                catch (err) {
                    finish(new DnsQueryFailed(`malformed answer over TCP for ${this.#describe(name, type)}: ${(err as Error).message}`, { cause: err }));
                    return;
                }

                // On a connection of our own, a mismatched answer is a protocol error, not noise.
                finish(answersQuery(reply, id, name, type) ? reply : new DnsQueryFailed(`answer over TCP for ${this.#describe(name, type)} does not match the question`));
            });
        });
    }
}

/** A reply too damaged to decode still counts as "truncated" when its header says so (RFC 2181 §9). */
function isTruncatedReplyTo(datagram: Buffer, id: number): boolean {

    return datagram.length >= internals.headerLength && datagram.readUInt16BE(0) === id && (datagram[2]! & 0x82) === 0x82;
}
