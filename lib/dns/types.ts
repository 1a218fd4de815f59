/**
 * The record model shared by the zone, signing and serving layers.
 *
 * Every RRset holds its RDATA already in canonical wire form (RFC 4034 §6.2: names
 * lowercase and uncompressed), so the signer signs exactly the bytes the server sends.
 */
import { InvalidInput } from '../errors';

export const RrType = {
    A: 1,
    NS: 2,
    SOA: 6,
    TXT: 16,
    AAAA: 28,
    SRV: 33,
    OPT: 41,
    DS: 43,
    RRSIG: 46,
    NSEC: 47,
    DNSKEY: 48,
    NSEC3: 50,
    TSIG: 250,
    IXFR: 251,
    AXFR: 252,
    MAILB: 253,
    MAILA: 254,
    ANY: 255
} as const;

export const RrClass = {
    IN: 1
} as const;

export const Rcode = {
    NOERROR: 0,
    FORMERR: 1,
    SERVFAIL: 2,
    NXDOMAIN: 3,
    NOTIMP: 4,
    REFUSED: 5,
    BADVERS: 16
} as const;

/** All records of one owner name and type (RFC 2181 §5), RDATA in canonical wire form. */
export interface RRset {
    /** Lowercase, absolute, without trailing dot. */
    readonly name: string;
    readonly type: number;
    readonly ttl: number;
    readonly rdata: readonly Buffer[];
}

/** DNS wire or presentation data that cannot be encoded or decoded. */
export class DnsFormatError extends InvalidInput {
    constructor(message: string) {
        super('DNS_FORMAT', message);
    }
}

const internals = {
    names: new Map<number, string>(Object.entries(RrType).map(([name, value]) => [value, name])),
    rcodes: new Map<number, string>(Object.entries(Rcode).map(([name, value]) => [value, name]))
};

/** The mnemonic of a type (RFC 3597 `TYPEnnn` for the ones this project does not name). */
export function typeName(type: number): string {

    return internals.names.get(type) ?? `TYPE${type}`;
}

/** The mnemonic of an RCODE (`RCODEnn` for the ones this project does not name). */
export function rcodeName(rcode: number): string {

    return internals.rcodes.get(rcode) ?? `RCODE${rcode}`;
}
