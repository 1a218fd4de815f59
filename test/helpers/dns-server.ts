/**
 * A DNS server for tests: the dns-authority plugin's own transports and ZoneResponder on
 * a free loopback port, with an optional rewrite of each answer — what an attacker on
 * the path (or a broken server) would send instead.
 */
import { decodeMessage, type DecodedMessage } from '../../lib/dns/decode';
import { encodeResponse } from '../../lib/dns/message';
import { parseQuery, type ParsedQuery } from '../../lib/dns/query';
import { encodeQuery } from '../../lib/dns/stub';
import { Rcode } from '../../lib/dns/types';
import type { DnsExchange, SignedZone } from '../../lib/dnssec';
import { ZoneResponder, type Transport } from '../../plugins/dns-authority/responder';
import { TcpTransport, UdpTransport } from '../../plugins/dns-authority/transport';

/** Returns the octets to send instead of `answer`, or null for silence. */
export type Rewrite = (query: ParsedQuery, answer: Buffer, transport: Transport) => Buffer | null;

export interface TestDnsServer {
    readonly port: number;
    /** Questions received per transport. */
    readonly received: { udp: number; tcp: number };
    close(): Promise<void>;
}

export async function serveZone(zone: SignedZone, rewrite?: Rewrite, options: { maxUdpPayload?: number } = {}): Promise<TestDnsServer> {

    const responder = new ZoneResponder(zone, { maxUdpPayload: options.maxUdpPayload ?? 1232, cacheSize: 1000 });
    const received = { udp: 0, tcp: 0 };
    const answer = (message: Buffer, transport: Transport): Buffer | null => {

        ++received[transport];
        const parsed = parseQuery(message);
        const reply = responder.respond(parsed, transport);
        return reply && rewrite && parsed.kind === 'query' ? rewrite(parsed, reply, transport) : reply;
    };

    for (let attempt = 0; ; ++attempt) {
        const udp = new UdpTransport('udp4', answer);
        await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
        const port = udp.address().port;
        const tcp = new TcpTransport(answer);
        try {
            await new Promise<void>((resolve, reject) => {
                tcp.once('error', reject);
                tcp.listen(port, '127.0.0.1', resolve);
            });
        }
        catch (err) {
            await new Promise<void>((resolve) => udp.close(() => resolve()));
            if (attempt < 10) {
                continue;
            }

            throw err;
        }

        return {
            port,
            received,
            close: () => Promise.all([
                new Promise<void>((resolve) => udp.close(() => resolve())),
                new Promise<void>((resolve) => tcp.close(() => resolve()))
            ]).then(() => undefined)
        };
    }
}

/** An authoritative answer with no records at all (no NSEC either): data stripped on the way. */
export function strippedAnswer(query: ParsedQuery, rcode: number = Rcode.NOERROR): Buffer {

    return encodeResponse({ id: query.id, aa: true, rd: query.rd, rcode, question: query.question, edns: { payloadSize: 1232, dnssecOk: true } });
}

/** A rewrite that strips the answers to one name and type, and passes the rest. */
export function stripping(name: string, type: number, rcode: number = Rcode.NOERROR): Rewrite {

    return (query, answer) => (query.labels.join('.') === name && query.qtype === type ? strippedAnswer(query, rcode) : answer);
}

/**
 * A DnsExchange answered by the ZoneResponder in this process (no sockets), through the
 * same encode → respond → decode path as the wire; `tamper` edits the decoded answer.
 */
export function zoneExchange(zone: SignedZone, tamper?: (reply: DecodedMessage, name: string, type: number) => DecodedMessage): DnsExchange {

    const responder = new ZoneResponder(zone, { maxUdpPayload: 65535, cacheSize: 1000 });
    let id = 0;
    return async (name, type) => {

        const query = encodeQuery({ id: ++id & 0xffff, name, type, udpPayloadSize: 65535 });
        const reply = decodeMessage(responder.respond(parseQuery(query), 'tcp')!);
        return tamper ? tamper(reply, name, type) : reply;
    };
}
