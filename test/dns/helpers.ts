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
