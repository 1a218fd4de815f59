/**
 * What the IKS zone of a domain contains (ARCHITECTURE §3 "DNS", paper §5.6): SOA, NS,
 * addresses of the servers, the `_ikqs._tcp` / `_ikrs._tcp` SRV delegations, and for
 * each published KSK `K` the commitments `sha1.K.D` and `sha256.K.D`.
 */
import * as Crypto from 'node:crypto';

import { canonicalName, isInZone } from '../dns/name';
import { encodeA, encodeAaaa, encodeNs, encodeSoa, encodeSrv, encodeTxt, type SoaData } from '../dns/rdata';
import { RrType, type RRset } from '../dns/types';
import { InvalidZone } from '../dnssec/sign';

export type IksService = '_ikqs._tcp' | '_ikrs._tcp';

export interface ZoneSpec {
    /** The domain D, e.g. `example.test`. */
    readonly origin: string;
    /** TTL of every record of the zone. */
    readonly ttl: number;
    readonly soa: SoaData;
    readonly nameservers: readonly string[];
    readonly addresses: readonly { readonly name: string; readonly a?: readonly string[]; readonly aaaa?: readonly string[] }[];
    readonly srv: readonly { readonly service: IksService; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }[];
    /** Published KSKs: `label` is K in `sha256.K.D`, `spki` the DER SubjectPublicKeyInfo. */
    readonly kskCommitments: readonly { readonly label: string; readonly spki: Buffer }[];
}

/** The commitment TXT owner names and values of one KSK (paper §5.6). */
export function kskCommitmentRecords(origin: string, label: string, spki: Buffer): { name: string; value: string }[] {

    return ['sha1', 'sha256'].map((hash) => ({
        name: canonicalName(`${hash}.${label}.${origin}`),
        value: Crypto.createHash(hash).update(spki).digest('hex')
    }));
}

/** The unsigned RRsets of the zone described by `spec`; throws InvalidZone on bad content. */
export function buildZone(spec: ZoneSpec): RRset[] {

    const origin = canonicalName(spec.origin);
    const rrsets = new Map<string, { name: string; type: number; ttl: number; rdata: Buffer[] }>();
    const add = (owner: string, type: number, rdata: Buffer): void => {
        const name = canonicalName(owner);
        if (!isInZone(name, origin)) {
            throw new InvalidZone(`"${owner}" is outside the zone ${origin}`);
        }

        const key = `${name}/${type}`;
        const rrset = rrsets.get(key) ?? { name, type, ttl: spec.ttl, rdata: [] };
        rrset.rdata.push(rdata);
        rrsets.set(key, rrset);
    };

    if (spec.nameservers.length === 0) {
        throw new InvalidZone('a zone needs at least one nameserver');
    }

    add(origin, RrType.SOA, encodeSoa(spec.soa));
    for (const nameserver of spec.nameservers) {
        add(origin, RrType.NS, encodeNs(nameserver));
    }

    for (const host of spec.addresses) {
        for (const address of host.a ?? []) {
            add(host.name, RrType.A, encodeA(address));
        }

        for (const address of host.aaaa ?? []) {
            add(host.name, RrType.AAAA, encodeAaaa(address));
        }
    }

    for (const srv of spec.srv) {
        add(`${srv.service}.${origin}`, RrType.SRV, encodeSrv(srv));
    }

    for (const ksk of spec.kskCommitments) {
        for (const record of kskCommitmentRecords(origin, ksk.label, ksk.spki)) {
            add(record.name, RrType.TXT, encodeTxt(record.value));
        }
    }

    return [...rrsets.values()];
}
