/**
 * Signed IKS zones for client tests: any SRV delegation, addresses and KSK commitments
 * (right, wrong or contradictory), signed with a fresh key; and ways to tamper with a
 * signed zone the way an attacker without the zone key could.
 */
import * as Crypto from 'node:crypto';

import { encodeTxt } from '../../lib/dns/rdata';
import { RrType, type RRset } from '../../lib/dns/types';
import { parseTrustAnchors, signRRset, signZone, trustAnchorFile, zoneKey, DnskeyFlags, type KeyPair, type SignedRRset, type SignedZone, type SigningWindow, type TrustAnchor, type TrustAnchorForm } from '../../lib/dnssec';
import { buildZone } from '../../lib/zone/spec';

export interface IksZoneOptions {
    readonly origin?: string;
    /** `_ikqs._tcp` SRV records; none means the domain takes no part in IKS. */
    readonly srv?: readonly { readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }[];
    readonly addresses?: readonly { readonly name: string; readonly a?: readonly string[]; readonly aaaa?: readonly string[] }[];
    /** TXT values published at `sha256.K.D` / `sha1.K.D` (each may hold several values). */
    readonly commitments?: readonly { readonly label: string; readonly sha256?: readonly string[]; readonly sha1?: readonly string[] }[];
    readonly zsk?: KeyPair;
    readonly ksk?: KeyPair;
    readonly window?: SigningWindow;
    readonly extra?: readonly RRset[];
}

export function p256(): KeyPair {

    return Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** The hex digests a KSK's commitment records hold (paper §5.6). */
export function commitmentOf(publicKey: Crypto.KeyObject): { sha256: string; sha1: string } {

    const spki = publicKey.export({ type: 'spki', format: 'der' });
    return { sha256: Crypto.createHash('sha256').update(spki).digest('hex'), sha1: Crypto.createHash('sha1').update(spki).digest('hex') };
}

export function currentWindow(now = Date.now()): SigningWindow {

    return { inception: new Date(now - 3_600_000), expiration: new Date(now + 7 * 86_400_000) };
}

export function signedIksZone(options: IksZoneOptions = {}): SignedZone {

    const origin = options.origin ?? 'example.test';
    const rrsets = buildZone({
        origin,
        ttl: 3600,
        soa: { mname: `ns1.${origin}`, rname: `hostmaster.${origin}`, serial: 1, refresh: 3600, retry: 600, expire: 1209600, minimum: 300 },
        nameservers: [`ns1.${origin}`],
        addresses: [{ name: `ns1.${origin}`, a: ['127.0.0.1'] }, ...(options.addresses ?? [])],
        srv: (options.srv ?? []).map((srv) => ({ service: '_ikqs._tcp' as const, ...srv })),
        kskCommitments: []
    });

    for (const commitment of options.commitments ?? []) {
        for (const hash of ['sha256', 'sha1'] as const) {
            const values = commitment[hash] ?? [];
            if (values.length > 0) {
                rrsets.push({ name: `${hash}.${commitment.label}.${origin}`, type: RrType.TXT, ttl: 3600, rdata: values.map((value) => encodeTxt(value)) });
            }
        }
    }

    rrsets.push(...(options.extra ?? []));
    return signZone(rrsets, { zsk: options.zsk ?? p256(), ...(options.ksk ? { ksk: options.ksk } : {}) }, options.window ?? currentWindow());
}

export function anchorsOf(zone: SignedZone, form: TrustAnchorForm = 'static-key'): TrustAnchor[] {

    return parseTrustAnchors(trustAnchorFile(zone, form));
}

/** A copy of the zone with one RRset changed (records and signatures). */
export function changeRRset(zone: SignedZone, name: string, type: number, change: (rrset: SignedRRset) => SignedRRset): SignedZone {

    let found = false;
    const rrsets = zone.rrsets.map((rrset) => {

        if (rrset.name !== name || rrset.type !== type) {
            return rrset;
        }

        found = true;
        return change(rrset);
    });

    if (!found) {
        throw new Error(`test zone has no ${name}/${type}`);
    }

    return { ...zone, rrsets };
}

/** One bit of the signature value flipped: what forging without the key looks like. */
export function flipLastOctet(rdata: Buffer): Buffer {

    const copy = Buffer.from(rdata);
    copy[copy.length - 1] = copy[copy.length - 1]! ^ 0x01;
    return copy;
}

export function tamperSignatures(zone: SignedZone, name: string, type: number): SignedZone {

    return changeRRset(zone, name, type, (rrset) => ({ ...rrset, signatures: rrset.signatures.map(flipLastOctet) }));
}

/** The RRset re-signed by another zone's key under that zone's name (a valid RRSIG, wrong signer). */
export function signedByOtherZone(zone: SignedZone, name: string, type: number, otherZone: string, key: KeyPair = p256()): SignedZone {

    const other = zoneKey(key, DnskeyFlags.SEP);
    return changeRRset(zone, name, type, (rrset) => ({ ...rrset, signatures: [signRRset(rrset, otherZone, other, zone.inception, zone.expiration)] }));
}
