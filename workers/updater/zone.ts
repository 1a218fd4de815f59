/**
 * Signing the domain's IKS zone (ARCHITECTURE.md §2–§3): the signer, never the DNS
 * plugin, makes every RRSIG and the NSEC chain; the plugin only serves the file
 * written here. Holds the zone-signing key, like the updater holds the KSK.
 */
import { createHash, type KeyObject } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import { domainDir, type IksConfig } from '../../config';
import { dnskeyPublicKey, dnssecAlgorithm, needsResign, parseSignedZone, serializeSignedZone, signZone, trustAnchorFile, dsRecord, type SignedZone } from '../../lib/dnssec';
import { loadDomainSigningKey, publishedKsks } from '../../lib/keys';
import { buildZone, type ZoneSpec } from '../../lib/zone/spec';

/**
 * Where the signed zone and the public trust material of a domain live. All of it is
 * public (DNS serves it), so it sits in `public/`: the signer is the only writer and
 * the gateway mounts that directory read-only, without any private key beside it.
 */
export function zonePaths(config: Pick<IksConfig, 'dataDir' | 'domain'>): { signedZone: string; trustAnchor: string; ds: string } {

    const dir = Path.join(domainDir(config), 'public');
    return {
        signedZone: Path.join(dir, 'zone.signed'),
        trustAnchor: Path.join(dir, 'trust-anchor.conf'),
        ds: Path.join(dir, 'ds.txt')
    };
}

/** The zone content from configuration and the published KSK (public half only). */
export function zoneSpec(config: IksConfig, serial: number): ZoneSpec {

    return {
        origin: config.domain,
        ttl: config.zone.ttl,
        soa: { mname: config.zone.nameservers[0]!, rname: `hostmaster.${config.domain}`, serial, refresh: 3600, retry: 600, expire: 1209600, minimum: 300 },
        nameservers: config.zone.nameservers,
        addresses: config.zone.addresses,
        srv: config.zone.srv,
        // Every published KSK: during a rollover the incoming or retired one too (lib/keys/ksk-rollover.ts).
        kskCommitments: publishedKsks(config.dataDir, config.domain).map((ksk) => ({ label: ksk.keyName, spki: ksk.spki }))
    };
}

function writeAtomically(file: string, content: string, mode: number): void {

    const temp = `${file}.${process.pid}.tmp`;
    Fs.writeFileSync(temp, content, { mode });
    Fs.renameSync(temp, file);
}

/**
 * A digest of the zone content without the serial and of the zone-signing key's DNSKEY
 * (algorithm and public key), to notice configuration changes and a replaced zsk.pem.
 */
function contentDigest(spec: ZoneSpec, zsk: KeyObject): string {

    const { soa, ...rest } = spec;
    return createHash('sha256').update(JSON.stringify({
        ...rest,
        soa: { ...soa, serial: 0 },
        kskCommitments: rest.kskCommitments.map((ksk) => ({ label: ksk.label, spki: ksk.spki.toString('base64') })),
        zsk: { algorithm: dnssecAlgorithm(zsk), publicKey: dnskeyPublicKey(zsk).toString('base64') }
    })).digest('hex');
}

export interface ZoneSignResult {
    readonly signed: boolean;
    readonly zone: SignedZone;
    readonly reason: string;
}

/**
 * Signs the zone when it is missing, unreadable, changed, or due for re-signing;
 * otherwise leaves it. Writes the signed zone, the delv trust anchor and the DS.
 * Security: loads the zone-signing key; call only from the signer process.
 */
export function ensureSignedZone(config: IksConfig, options: { force?: boolean; now?: number } = {}): ZoneSignResult {

    const now = options.now ?? Date.now();
    const paths = zonePaths(config);
    const digestFile = `${paths.signedZone}.digest`;
    const serial = Math.floor(now / 1000) >>> 0;
    const spec = zoneSpec(config, serial);
    const zsk = loadDomainSigningKey(config.dataDir, config.domain, 'zsk');
    const digest = contentDigest(spec, zsk.publicKey);

    let reason = options.force ? 'forced' : '';
    let current: SignedZone | null = null;
    if (!reason) {
        try {
            current = parseSignedZone(Fs.readFileSync(paths.signedZone, 'utf8'));
            const previousDigest = Fs.readFileSync(digestFile, 'utf8').trim();
            reason = previousDigest !== digest ? 'content changed' :
                needsResign(current, new Date(now), config.zone.refreshBefore * 1000) ? 'signatures due for renewal' : '';
        }
        catch {
            reason = 'no usable signed zone';
        }
    }

    if (!reason && current) {
        return { signed: false, zone: current, reason: 'up to date' };
    }

    const zone = signZone(buildZone(spec), { zsk: { privateKey: zsk.privateKey, publicKey: zsk.publicKey } }, {
        // An hour of slack for resolvers whose clocks run behind.
        inception: new Date(now - 3600_000),
        expiration: new Date(now + config.zone.signatureValidity * 1000)
    });

    writeAtomically(paths.signedZone, serializeSignedZone(zone), 0o644);
    writeAtomically(digestFile, `${digest}\n`, 0o644);
    writeAtomically(paths.trustAnchor, trustAnchorFile(zone), 0o644);
    writeAtomically(paths.ds, `${dsRecord(zone)}\n`, 0o644);
    return { signed: true, zone, reason };
}
