/**
 * dns2's UDP and TCP servers with the request reading replaced: dns2 parses every
 * message with its bit-level Packet.parse (≈ 25 µs per query, seconds for a packet
 * announcing 65535 records), so both transports hand raw octets to `answer` instead,
 * which classifies them with lib/dns/query and returns bytes or null for silence.
 */
import type * as Dgram from 'node:dgram';
import type * as Net from 'node:net';

import Dns2 from 'dns2';

import type { Transport } from './responder';

export type Answerer = (message: Buffer, transport: Transport) => Buffer | null;

const internals = {
    tcpIdleTimeoutMs: 10_000,                     // RFC 7766 §6.2.3
    tcpMaxConnections: 1024
};

export class UdpTransport extends Dns2.UDPServer {

    private readonly answer: Answerer;

    constructor(type: 'udp4' | 'udp6', answer: Answerer) {

        super({ type });
        this.answer = answer;
    }

    // Replaces dns2's handler (bound to 'message' by its constructor).
    override handle(data: Buffer, rinfo: Dgram.RemoteInfo): void {

        const reply = this.answer(data, 'udp');
        if (reply) {
            this.send(reply, rinfo.port, rinfo.address, () => {});      // a lost datagram is the client's retry
        }
    }
}

export class TcpTransport extends Dns2.TCPServer {

    private readonly answer: Answerer;

    constructor(answer: Answerer) {

        super();
        this.answer = answer;
        this.maxConnections = internals.tcpMaxConnections;
    }

    // Replaces dns2's handler (bound to 'connection' by its constructor): RFC 1035 §4.2.2 framing, pipelined.
    handle(client: Net.Socket): void {

        let buffered: Buffer = Buffer.alloc(0);
        client.setTimeout(internals.tcpIdleTimeoutMs, () => client.destroy());
        client.on('error', () => client.destroy());
        client.on('end', () => client.end());
        client.on('data', (chunk: Buffer) => {
            buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
            while (buffered.length >= 2) {
                const length = buffered.readUInt16BE(0);
                if (buffered.length < 2 + length) {
                    return;
                }

                const message = buffered.subarray(2, 2 + length);
                buffered = buffered.subarray(2 + length);
                const reply = this.answer(message, 'tcp');
                if (!reply) {
                    client.destroy();
                    return;
                }

                const prefix = Buffer.alloc(2);
                prefix.writeUInt16BE(reply.length);
                client.write(Buffer.concat([prefix, reply]));
            }
        });
    }
}
