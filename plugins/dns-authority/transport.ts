/**
 * dns2's UDP and TCP servers with the request reading replaced: dns2 parses every
 * message with its bit-level Packet.parse (≈ 25 µs per query, seconds for a packet
 * announcing 65535 records), so both transports hand raw octets to `answer` instead,
 * which classifies them with lib/dns/query and returns bytes or null for silence.
 *
 * TCP holds memory and a connection slot per client, so each is bounded: a client that
 * does not read its answers stops being read (backpressure), a message must arrive
 * whole soon after its first octet (slowloris), one address gets a few connections,
 * and a full server closes the connection answered least recently (RFC 7766 §6.2.3).
 */
import type * as Dgram from 'node:dgram';
import type * as Net from 'node:net';

import Dns2 from 'dns2';

import type { Transport } from './responder';

export type Answerer = (message: Buffer, transport: Transport) => Buffer | null;

export interface TcpLimits {
    /** Close a connection that sends nothing for this long (RFC 7766 §6.2.3). */
    readonly idleTimeoutMs: number;
    /** A message must arrive whole within this long of its first octet. */
    readonly messageTimeoutMs: number;
    /** Open connections; at the limit, a new one closes the one answered least recently. */
    readonly maxConnections: number;
    /** Open connections from one source address; more are closed at once. */
    readonly maxConnectionsPerAddress: number;
    /** Answer octets a connection may have waiting for its client before it is no longer read. */
    readonly maxPendingReplyBytes: number;
    /** Messages answered per connection before other connections get their turn. */
    readonly messagesPerTurn: number;
}

export const defaultTcpLimits: TcpLimits = {
    idleTimeoutMs: 10_000,
    messageTimeoutMs: 5_000,
    maxConnections: 1024,
    maxConnectionsPerAddress: 32,
    maxPendingReplyBytes: 64 * 1024,
    messagesPerTurn: 64
};

const internals = {
    maxTcpMessage: 0xffff
};

export class UdpTransport extends Dns2.UDPServer {

    /** Answers that could not be handed to the socket (their destination is not recorded). */
    sendFailures = 0;
    private readonly answer: Answerer;

    constructor(type: 'udp4' | 'udp6', answer: Answerer) {

        super({ type });
        this.answer = answer;
    }

    // Replaces dns2's handler (bound to 'message' by its constructor).
    override handle(data: Buffer, rinfo: Dgram.RemoteInfo): void {

        // Source port 0 is never a real client (it is spoofed, a reflection attempt) and dgram.send throws on it.
        if (rinfo.port === 0) {
            return;
        }

        const reply = this.answer(data, 'udp');
        if (!reply) {
            return;
        }

        try {
            this.send(reply, rinfo.port, rinfo.address, () => {});      // a lost datagram is the client's retry
        }
        catch {
            // A synchronous throw here would escape the 'message' event and end the process.
            ++this.sendFailures;
        }
    }
}

export class TcpTransport extends Dns2.TCPServer {

    private readonly answer: Answerer;
    private readonly limits: TcpLimits;
    /** Open connections and their source address, least recently answered first (a Map keeps insertion order). */
    private readonly open = new Map<Net.Socket, string>();
    private readonly perAddress = new Map<string, number>();

    constructor(answer: Answerer, limits: Partial<TcpLimits> = {}) {

        super();
        this.answer = answer;
        this.limits = { ...defaultTcpLimits, ...limits };
    }

    // Replaces dns2's handler (bound to 'connection' by its constructor): RFC 1035 §4.2.2 framing, pipelined.
    handle(client: Net.Socket): void {

        client.on('error', () => client.destroy());
        const address = client.remoteAddress;
        if (address === undefined || (this.perAddress.get(address) ?? 0) >= this.limits.maxConnectionsPerAddress) {
            client.destroy();
            return;
        }

        if (this.open.size >= this.limits.maxConnections) {
            this.forget(this.open.keys().next().value!, true);
        }

        this.open.set(client, address);
        this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
        this.serve(client, address);
    }

    private serve(client: Net.Socket, address: string): void {

        const limits = this.limits;
        let buffered: Buffer = Buffer.alloc(0);
        let deadline: NodeJS.Timeout | null = null;
        let waiting = false;                    // not reading: for 'drain' or for the next turn
        let peerEnded = false;

        const stopDeadline = () => {

            clearTimeout(deadline ?? undefined);
            deadline = null;
        };

        const wait = (until: (resume: () => void) => void) => {

            waiting = true;
            client.pause();
            until(() => {

                waiting = false;
                if (!client.destroyed) {
                    answerBuffered();
                }
            });
        };

        const answerBuffered = () => {

            for (let answered = 0; buffered.length >= 2; ++answered) {
                const length = buffered.readUInt16BE(0);
                if (buffered.length < 2 + length) {
                    break;
                }

                stopDeadline();
                if (client.writableLength > limits.maxPendingReplyBytes) {
                    wait((resume) => client.once('drain', resume));
                    return;
                }

                if (answered === limits.messagesPerTurn) {
                    wait((resume) => setImmediate(resume));
                    return;
                }

                const message = buffered.subarray(2, 2 + length);
                buffered = buffered.subarray(2 + length);
                const reply = this.answer(message, 'tcp');
                if (!reply) {
                    client.destroy();
                    return;
                }

                // The responder keeps answers within 65535 octets; a longer one cannot be framed (RFC 1035 §4.2.2).
                if (reply.length > internals.maxTcpMessage) {
                    client.destroy();
                    return;
                }

                const prefix = Buffer.alloc(2);
                prefix.writeUInt16BE(reply.length);
                client.write(Buffer.concat([prefix, reply]));
                if (this.open.delete(client)) {
                    this.open.set(client, address);
                }
            }

            // Whatever is left is the start of a message: it has messageTimeoutMs to complete.
            if (buffered.length > 0) {
                deadline ??= setTimeout(() => client.destroy(), limits.messageTimeoutMs);
            }

            if (peerEnded) {
                client.end();
                return;
            }

            client.resume();
        };

        client.setTimeout(limits.idleTimeoutMs, () => client.destroy());
        client.once('close', () => {

            stopDeadline();
            this.forget(client, false);
        });
        client.on('end', () => {

            peerEnded = true;
            if (!waiting) {
                client.end();
            }
        });
        client.on('data', (chunk: Buffer) => {

            buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
            if (!waiting) {
                answerBuffered();
            }
        });
    }

    /**
     * Stops listening and closes every open connection: net.Server.close alone waits for
     * them, and a client querying within the idle timeout would keep it waiting forever.
     * An unanswered query is the client's to retry (RFC 7766 §6.2.3).
     */
    shutdown(): Promise<void> {

        const closed = new Promise<void>((resolve) => this.close(() => resolve()));
        for (const client of [...this.open.keys()]) {
            this.forget(client, true);
        }

        return closed;
    }

    /** Drops a connection from the counts (once), destroying it when asked. */
    private forget(client: Net.Socket, destroy: boolean): void {

        const address = this.open.get(client);
        if (address !== undefined) {
            this.open.delete(client);
            const count = (this.perAddress.get(address) ?? 1) - 1;
            if (count > 0) {
                this.perAddress.set(address, count);
            }
            else {
                this.perAddress.delete(address);
            }
        }

        if (destroy) {
            client.destroy();
        }
    }
}
