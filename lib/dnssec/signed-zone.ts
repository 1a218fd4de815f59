/**
 * The signed zone as a plain value: what the signer writes (`<dataDir>/<domain>/public/zone.signed`)
 * and the DNS plugin reads. It holds public data only: records, signatures, NSEC chain.
 */
import Joi from 'joi';

import { InvalidInput } from '../errors';
import { canonicalName, isInZone } from '../dns/name';
import { rdataToText } from '../dns/rdata';
import { RrType, type RRset } from '../dns/types';
import { DnskeyFlags, dsRdata } from './keys';

/** An RRset with its RRSIG RDATA. */
export interface SignedRRset extends RRset {
    readonly rdata: readonly Buffer[];
    readonly signatures: readonly Buffer[];
}

export interface SignedZone {
    readonly origin: string;
    /** Signature validity, seconds since the epoch. */
    readonly inception: number;
    readonly expiration: number;
    /** Every RRset of the zone, DNSKEY and NSEC included, in canonical order. */
    readonly rrsets: readonly SignedRRset[];
}

/** A zone.signed file that cannot be used. */
export class InvalidSignedZone extends InvalidInput {
    constructor(message: string, options?: { cause?: unknown }) {
        super('INVALID_SIGNED_ZONE', message, options);
    }
}

const internals = {
    format: 'iks-signed-zone/1',
    base64: Joi.string().base64({ paddingRequired: true }).allow(''),
    schema: null as unknown as Joi.ObjectSchema
};

internals.schema = Joi.object({
    format: Joi.string().valid(internals.format).required(),
    origin: Joi.string().required(),
    inception: Joi.number().integer().min(0).max(0xffffffff).required(),
    expiration: Joi.number().integer().min(0).max(0xffffffff).required(),
    rrsets: Joi.array().items(Joi.object({
        name: Joi.string().required(),
        type: Joi.number().integer().min(1).max(65535).required(),
        ttl: Joi.number().integer().min(0).max(0x7fffffff).required(),
        rdata: Joi.array().items(internals.base64).min(1).required(),
        signatures: Joi.array().items(internals.base64).required()
    })).required()
});

/** JSON text of a signed zone (RDATA and signatures base64). */
export function serializeSignedZone(zone: SignedZone): string {

    return `${JSON.stringify({
        format: internals.format,
        origin: zone.origin,
        inception: zone.inception,
        expiration: zone.expiration,
        rrsets: zone.rrsets.map((rrset) => ({
            name: rrset.name,
            type: rrset.type,
            ttl: rrset.ttl,
            rdata: rrset.rdata.map((rdata) => rdata.toString('base64')),
            signatures: rrset.signatures.map((signature) => signature.toString('base64'))
        }))
    }, null, 1)}\n`;
}

/** Parses serializeSignedZone output; InvalidSignedZone says what is wrong. */
export function parseSignedZone(text: string): SignedZone {

    let json: unknown;
    try {
        json = JSON.parse(text);
    }
    catch (err) {
        throw new InvalidSignedZone('signed zone file is not JSON', { cause: err });
    }

    const { error, value } = internals.schema.validate(json);
    if (error) {
        throw new InvalidSignedZone(`signed zone file is invalid: ${error.message}`);
    }

    const origin = checkedName(value.origin);
    const rrsets = (value.rrsets as { name: string; type: number; ttl: number; rdata: string[]; signatures: string[] }[]).map((rrset) => {
        const name = checkedName(rrset.name);
        if (!isInZone(name, origin)) {
            throw new InvalidSignedZone(`signed zone file has "${name}" outside ${origin}`);
        }

        return {
            name,
            type: rrset.type,
            ttl: rrset.ttl,
            rdata: rrset.rdata.map((rdata) => Buffer.from(rdata, 'base64')),
            signatures: rrset.signatures.map((signature) => Buffer.from(signature, 'base64'))
        };
    });

    for (const type of [RrType.SOA, RrType.DNSKEY]) {
        if (!rrsets.some((rrset) => rrset.name === origin && rrset.type === type)) {
            throw new InvalidSignedZone(`signed zone file has no ${type === RrType.SOA ? 'SOA' : 'DNSKEY'} at ${origin}`);
        }
    }

    return { origin, inception: value.inception, expiration: value.expiration, rrsets };
}

function checkedName(name: string): string {

    try {
        return canonicalName(name);
    }
    catch (err) {
        throw new InvalidSignedZone(`signed zone file has an invalid name "${name}"`, { cause: err });
    }
}

/** True when the signatures expire within `refreshBeforeMs` of `now`, or are not yet valid. */
export function needsResign(zone: SignedZone, now: Date, refreshBeforeMs: number): boolean {

    const nowMs = now.getTime();
    return nowMs + refreshBeforeMs >= zone.expiration * 1000 || nowMs < zone.inception * 1000;
}

/** The DNSKEY RDATA of the secure entry points (flags 257): the zone's trust anchors. */
export function secureEntryPoints(zone: SignedZone): Buffer[] {

    const dnskeys = zone.rrsets.find((rrset) => rrset.name === zone.origin && rrset.type === RrType.DNSKEY);
    return (dnskeys?.rdata ?? []).filter((rdata) => rdata.readUInt16BE(0) === DnskeyFlags.SEP);
}

export type TrustAnchorForm = 'static-key' | 'initial-key' | 'static-ds' | 'initial-ds';

/**
 * A trust-anchor file in BIND/delv syntax (`delv -a FILE +root=ZONE`) for the zone's
 * secure entry points: DNSKEY forms carry the public key, DS forms its SHA-256 digest.
 */
export function trustAnchorFile(zone: SignedZone, form: TrustAnchorForm = 'static-key'): string {

    const lines = secureEntryPoints(zone).map((dnskey) => {
        if (form.endsWith('-ds')) {
            const [tag, algorithm, digestType, digest] = rdataToText(RrType.DS, dsRdata(zone.origin, dnskey)).split(' ');
            return `    ${zone.origin}. ${form} ${tag} ${algorithm} ${digestType} "${digest}";`;
        }

        const [flags, protocol, algorithm, key] = rdataToText(RrType.DNSKEY, dnskey).split(' ');
        return `    ${zone.origin}. ${form} ${flags} ${protocol} ${algorithm} "${key}";`;
    });

    return `trust-anchors {\n${lines.join('\n')}\n};\n`;
}

/** The DS record(s) to hand to the parent zone, in master-file form (`iks zone ds`). */
export function dsRecord(zone: SignedZone, ttl = 3600): string {

    return secureEntryPoints(zone)
        .map((dnskey) => `${zone.origin}. ${ttl} IN DS ${rdataToText(RrType.DS, dsRdata(zone.origin, dnskey))}\n`)
        .join('');
}
