// Shared helpers of the DNS tests (no lab script).
import Dns2 from 'dns2';

/** A query built by dns2's encoder (an independent implementation). */
export function dns2Query(name: string, type: number, edns: { doFlag?: boolean; udpPayloadSize?: number; version?: number } | null = { doFlag: true }): Buffer {

    // dns2's typings lag its runtime (EDNS options, plain question objects).
    const packet = new Dns2.Packet() as unknown as { header: { id: number; rd: number }; questions: unknown[]; additionals: unknown[]; toBuffer(): Buffer };
    packet.header.id = 0x1234;
    packet.header.rd = 1;
    packet.questions.push({ name, type, class: 1 });
    if (edns) {
        packet.additionals.push((Dns2.Packet.Resource.EDNS as unknown as (rdata: object[], options: object) => object)([], edns));
    }

    return packet.toBuffer();
}

/** An RFC 1995 §3 IXFR query: the client's SOA (root MNAME and RNAME, `serial`) in the authority section, then the OPT. */
export function ixfrQuery(name: string, serial: number, edns: Parameters<typeof dns2Query>[2] = { doFlag: true }): Buffer {

    const withOpt = dns2Query(name, 251, edns);
    const optLength = edns ? 11 : 0;
    const soa = Buffer.alloc(12 + 22);
    soa.writeUInt16BE(0xc00c, 0);                               // the question's name
    soa.writeUInt16BE(6, 2);
    soa.writeUInt16BE(1, 4);
    soa.writeUInt16BE(22, 10);
    soa.writeUInt32BE(serial, 14);
    const query = Buffer.concat([withOpt.subarray(0, withOpt.length - optLength), soa, withOpt.subarray(withOpt.length - optLength)]);
    query.writeUInt16BE(1, 8);
    return query;
}
