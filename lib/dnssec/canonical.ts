/**
 * Canonical RDATA for validation (RFC 4034 §6.2, corrected by RFC 6840 §5.1): embedded
 * names lowercased for the types that carry them; NSEC's next name is left as sent.
 * RDATA must already be uncompressed (lib/dns/decode expands what may be compressed).
 */
import { readWireName } from '../dns/rdata';
import { RrType } from '../dns/types';

const internals = {
    // Octet offset of each embedded name in RDATA, per type; SOA carries two in a row.
    names: new Map<number, { readonly prefix: number; readonly count: number }>([
        [RrType.NS, { prefix: 0, count: 1 }],
        [5, { prefix: 0, count: 1 }],                   // CNAME
        [RrType.SOA, { prefix: 0, count: 2 }],
        [12, { prefix: 0, count: 1 }],                  // PTR
        [15, { prefix: 2, count: 1 }],                  // MX
        [RrType.SRV, { prefix: 6, count: 1 }],
        [39, { prefix: 0, count: 1 }],                  // DNAME
        [RrType.RRSIG, { prefix: 18, count: 1 }]
    ])
};

/** RDATA in canonical form; throws DnsFormatError when an embedded name is malformed. */
export function canonicalRdataOf(type: number, rdata: Buffer): Buffer {

    const layout = internals.names.get(type);
    if (!layout) {
        return rdata;
    }

    const canonical = Buffer.from(rdata);
    let offset = layout.prefix;
    for (let i = 0; i < layout.count; ++i) {
        const end = readWireName(canonical, offset).next;
        // Length octets are at most 63, below 'A': lowercasing the whole span is safe.
        for (let j = offset; j < end; ++j) {
            const octet = canonical[j]!;
            if (octet >= 0x41 && octet <= 0x5a) {
                canonical[j] = octet | 0x20;
            }
        }

        offset = end;
    }

    return canonical;
}
