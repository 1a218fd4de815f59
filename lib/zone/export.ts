/**
 * Master-file export of a signed zone (RFC 1035 §5) for organizations that serve the
 * IKS records from their own BIND, Knot or NSD (`iks zone export`).
 */
import { rdataToText } from '../dns/rdata';
import { RrType, typeName } from '../dns/types';
import type { SignedZone } from '../dnssec/signed-zone';

/** One line per record, absolute names, each RRset followed by its RRSIGs; SOA first. */
export function exportZoneText(zone: SignedZone): string {

    const lines = [`; ${zone.origin} signed zone, exported by iks`, `$ORIGIN ${zone.origin}.`];
    const soaFirst = [...zone.rrsets].sort((a, b) => Number(b.type === RrType.SOA && b.name === zone.origin) - Number(a.type === RrType.SOA && a.name === zone.origin));
    for (const rrset of soaFirst) {
        for (const rdata of rrset.rdata) {
            lines.push(`${rrset.name}.\t${rrset.ttl}\tIN\t${typeName(rrset.type)}\t${rdataToText(rrset.type, rdata)}`);
        }

        for (const signature of rrset.signatures) {
            lines.push(`${rrset.name}.\t${rrset.ttl}\tIN\tRRSIG\t${rdataToText(RrType.RRSIG, signature)}`);
        }
    }

    return `${lines.join('\n')}\n`;
}

/**
 * The records an administrator copies into a zone served elsewhere (docs/operations.md):
 * the SRV delegations and the KSK commitments, unsigned — that zone's own signer signs them.
 * Addresses of the SRV targets are left out (they usually exist already); see `iks zone export`.
 */
export function recordsToPublish(zone: SignedZone): string[] {

    return zone.rrsets
        .filter((rrset) => rrset.type === RrType.SRV || rrset.type === RrType.TXT)
        .sort((a, b) => a.type - b.type || a.name.localeCompare(b.name))
        .flatMap((rrset) => rrset.rdata.map((rdata) => `${rrset.name}.\t${rrset.ttl}\tIN\t${typeName(rrset.type)}\t${rdataToText(rrset.type, rdata)}`));
}
