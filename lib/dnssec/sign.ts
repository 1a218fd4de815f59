/**
 * Zone signing (RFC 4034, RFC 4035 §2): DNSKEY RRset at the apex, an NSEC chain in
 * canonical order, and an RRSIG over every authoritative RRset, all made ahead of time
 * so that the server that answers queries never holds a signing key (ARCHITECTURE §2).
 */
import { InvalidInput } from '../errors';
import { canonicalName, compareCanonical, isInZone, labelCount, nameToWire } from '../dns/name';
import { encodeNsec, encodeRrsigPrefix } from '../dns/rdata';
import { RrClass, RrType, type RRset } from '../dns/types';
import { DnskeyFlags, signRaw, zoneKey, type KeyPair, type ZoneKey } from './keys';
import type { SignedRRset, SignedZone } from './signed-zone';

/**
 * The keys of a zone. With `ksk`, it signs the DNSKEY RRset and `zsk` everything else
 * (flags 257 and 256). Without it, `zsk` is a combined signing key (CSK, flags 257)
 * that signs everything and is itself the trust anchor.
 */
export interface ZoneKeys {
    readonly ksk?: KeyPair;
    readonly zsk: KeyPair;
}

export interface SigningWindow {
    readonly inception: Date;
    readonly expiration: Date;
}

/** The zone content handed to the signer is not a zone it can sign. */
export class InvalidZone extends InvalidInput {
    constructor(message: string) {
        super('INVALID_ZONE', message);
    }
}

const internals = {
    signerOwned: new Set<number>([RrType.DNSKEY, RrType.RRSIG, RrType.NSEC, RrType.OPT])
};

/**
 * Signs a zone. `rrsets` must contain exactly one SOA (its owner is the origin) and no
 * DNSKEY, RRSIG or NSEC: those are the signer's. Pure function of its inputs apart from
 * ECDSA's random nonces; keys are only used, never stored in the result.
 */
export function signZone(rrsets: readonly RRset[], keys: ZoneKeys, window: SigningWindow): SignedZone {

    const inception = Math.floor(window.inception.getTime() / 1000);
    const expiration = Math.floor(window.expiration.getTime() / 1000);
    if (!(expiration > inception)) {
        throw new InvalidZone('signature expiration must be after inception');
    }

    // ---- zone content: canonical names, one RRset per (name, type), sorted RDATA ----

    const soas = rrsets.filter((rrset) => rrset.type === RrType.SOA);
    if (soas.length !== 1 || soas[0]!.rdata.length !== 1) {
        throw new InvalidZone('a zone needs exactly one SOA record');
    }

    const soa = soas[0]!;
    const origin = canonicalName(soa.name);
    const merged = new Map<string, { name: string; type: number; ttl: number; rdata: Buffer[] }>();
    for (const rrset of rrsets) {
        const name = canonicalName(rrset.name);
        if (!isInZone(name, origin)) {
            throw new InvalidZone(`"${name}" is outside the zone ${origin}`);
        }

        if (name.split('.').includes('*')) {
            throw new InvalidZone(`"${name}": wildcard owners are not supported (the server does not synthesize answers)`);
        }

        if (internals.signerOwned.has(rrset.type)) {
            throw new InvalidZone(`${name} carries a record type that the signer makes itself (${rrset.type})`);
        }

        const key = `${name}/${rrset.type}`;
        const existing = merged.get(key);
        if (existing && existing.ttl !== rrset.ttl) {
            throw new InvalidZone(`the records of ${name} type ${rrset.type} have different TTLs (RFC 2181 §5.2)`);
        }

        const target = existing ?? { name, type: rrset.type, ttl: rrset.ttl, rdata: [] };
        target.rdata.push(...rrset.rdata);
        merged.set(key, target);
    }

    // ---- keys and the DNSKEY RRset ----

    const zsk = zoneKey(keys.zsk, keys.ksk ? DnskeyFlags.ZONE : DnskeyFlags.SEP);
    const ksk = keys.ksk ? zoneKey(keys.ksk, DnskeyFlags.SEP) : zsk;
    if (keys.ksk && ksk.dnskey.subarray(4).equals(zsk.dnskey.subarray(4))) {
        throw new InvalidZone('the KSK and the ZSK must be different keys');
    }

    merged.set(`${origin}/${RrType.DNSKEY}`, { name: origin, type: RrType.DNSKEY, ttl: soa.ttl, rdata: ksk === zsk ? [zsk.dnskey] : [ksk.dnskey, zsk.dnskey] });

    // ---- NSEC chain (RFC 4034 §4, RFC 4035 §2.3) ----

    const soaMinimum = soa.rdata[0]!.readUInt32BE(soa.rdata[0]!.length - 4);
    const nsecTtl = Math.min(soa.ttl, soaMinimum);                          // RFC 9077 §3
    const typesByName = new Map<string, number[]>();
    for (const rrset of merged.values()) {
        typesByName.set(rrset.name, [...(typesByName.get(rrset.name) ?? []), rrset.type]);
    }

    const owners = [...typesByName.keys()].sort(compareCanonical);
    owners.forEach((owner, index) => {
        const next = owners[(index + 1) % owners.length]!;
        const types = [...typesByName.get(owner)!, RrType.RRSIG, RrType.NSEC];
        merged.set(`${owner}/${RrType.NSEC}`, { name: owner, type: RrType.NSEC, ttl: nsecTtl, rdata: [encodeNsec(next, types)] });
    });

    // ---- signatures ----

    const signed: SignedRRset[] = [];
    for (const rrset of merged.values()) {
        const rdata = canonicalRdata(rrset.rdata);
        const signer = rrset.type === RrType.DNSKEY ? ksk : zsk;
        const signature = signRRset({ ...rrset, rdata }, origin, signer, inception, expiration);
        signed.push({ name: rrset.name, type: rrset.type, ttl: rrset.ttl, rdata, signatures: [signature] });
    }

    signed.sort((a, b) => compareCanonical(a.name, b.name) || a.type - b.type);
    return { origin, inception, expiration, rrsets: signed };
}

/** Sorted by octets, duplicates removed (RFC 4034 §6.3). */
export function canonicalRdata(rdata: readonly Buffer[]): Buffer[] {

    const sorted = [...rdata].sort(Buffer.compare);
    return sorted.filter((value, index) => index === 0 || !value.equals(sorted[index - 1]!));
}

/**
 * The octets an RRSIG signs (RFC 4034 §3.1.8.1): the RRSIG RDATA prefix followed by each
 * record in canonical form with the original TTL. RDATA must be canonical and sorted.
 */
export function signedData(rrset: RRset, rrsigPrefix: Buffer): Buffer {

    const owner = nameToWire(rrset.name);
    const parts: Buffer[] = [rrsigPrefix];
    for (const rdata of rrset.rdata) {
        const fixed = Buffer.alloc(10);
        fixed.writeUInt16BE(rrset.type, 0);
        fixed.writeUInt16BE(RrClass.IN, 2);
        fixed.writeUInt32BE(rrset.ttl >>> 0, 4);
        fixed.writeUInt16BE(rdata.length, 8);
        parts.push(owner, fixed, rdata);
    }

    return Buffer.concat(parts);
}

/** RRSIG RDATA over one RRset with the given zone key (wildcards are never signed here). */
export function signRRset(rrset: RRset, signerName: string, key: ZoneKey, inception: number, expiration: number): Buffer {

    const prefix = encodeRrsigPrefix({
        typeCovered: rrset.type,
        algorithm: key.algorithm,
        labels: labelCount(rrset.name),
        originalTtl: rrset.ttl,
        expiration,
        inception,
        keyTag: key.keyTag,
        signerName
    });

    return Buffer.concat([prefix, signRaw(key.algorithm, key.privateKey, signedData(rrset, prefix))]);
}
