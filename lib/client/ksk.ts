/**
 * Paper §5.1 steps 4a–4c, shared by lookups and registrations: fetch the KSK the
 * gateway publishes under its name, then trust it only if its DER SPKI matches the
 * DNSSEC-validated commitment `sha256.K.D` / `sha1.K.D`. The gateway is not trusted:
 * whatever key it serves, only the DNS commitment makes it the domain's KSK.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

import { BadSignature, InvalidConfig } from '../errors';
import { spkiDer } from '../keys';
import { verifyCommitment, type Commitment } from './commitment';
import type { Discovery } from './discovery';
import { atLink, markLink, type LinkRecorder } from './links';

export interface TrustedKsk {
    readonly keyName: string;
    readonly publicKey: KeyObject;
}

export interface KskSources {
    /** The PEM body the query service serves at `GET /ikqs/v1/ksk/{keyName}`. */
    readonly fetchPem: (path: string) => Promise<string>;
    /** The validated commitment to `keyName` of `domain` (DNS discovery, or given by the caller). */
    readonly commitment: (keyName: string, domain: string) => Promise<Commitment>;
}

/**
 * Fetches KSK `keyName` of `domain` and checks it against its commitment; records the
 * `ksk` link on success. Failures are typed and marked with the link they broke:
 * `ksk` (transport, not a key, CommitmentMismatch) or `commitment` (DNS).
 */
export async function fetchVerifiedKsk(keyName: string, domain: string, sources: KskSources, record: LinkRecorder): Promise<TrustedKsk> {

    const pem = await atLink('ksk', () => sources.fetchPem(`/ikqs/v1/ksk/${encodeURIComponent(keyName)}`));
    let publicKey: KeyObject;
    try {
        publicKey = createPublicKey({ key: pem, format: 'pem' });
    }
    catch (error) {
        throw markLink(new BadSignature(`the published key-signing key "${keyName}" is not a public key`, { cause: error }), 'ksk');
    }

    const commitment = await atLink('commitment', () => sources.commitment(keyName, domain));
    const spki = spkiDer(publicKey);
    await atLink('ksk', async () => verifyCommitment(keyName, spki, commitment));
    const both = commitment.sha256 !== undefined && commitment.sha1 !== undefined;
    record({ link: 'ksk', detail: `${keyName}: its SPKI (sha256:${createHash('sha256').update(spki).digest('hex')}) matches the ${commitment.sha256 !== undefined ? 'sha256' : 'sha1'} commitment${both ? ' and the sha1 one agrees' : ''}` });
    return { keyName, publicKey };
}

/** Where a client asks and what it checks KSKs against: the lookup and registration clients alike. */
export interface ClientTrustOptions {
    /** Base URL of the gateway (with any route prefix); skips SRV discovery. */
    readonly baseUrl?: string;
    /** DNSSEC-validated discovery of the services (paper §5.1 step 1) and of KSK commitments (step 4b); see DnsDiscovery. */
    readonly discovery?: Discovery;
    /** The DNS commitment of KSK `keyName` of `domain`, validated by the caller; wins over `discovery`. */
    readonly commitmentFor?: (keyName: string, domain: string) => Promise<Commitment>;
    readonly fetch?: typeof fetch;
    readonly now?: () => number;
}

/**
 * A client needs somewhere to ask (DNS discovery or a base URL) and something to check
 * KSKs against (the DNSSEC-validated commitment or a commitment function); `client`
 * names it in the error.
 */
export function assertTrustSources(options: ClientTrustOptions, client: string): void {

    if (options.baseUrl === undefined && options.discovery === undefined) {
        throw new InvalidConfig(`${client} needs a discovery (DNS) or a base URL`);
    }

    if (options.commitmentFor === undefined && options.discovery === undefined) {
        throw new InvalidConfig(`${client} needs a discovery (DNS) or a commitmentFor function to check KSKs`);
    }
}
