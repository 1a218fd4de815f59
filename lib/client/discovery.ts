/**
 * Where a domain's IKS lives and which KSK it vouches for, from DNSSEC alone (paper §5.1
 * steps 1 and 4b, §5.4, §5.6): `_ikqs._tcp.D SRV` → targets in RFC 2782 order → their
 * validated A/AAAA; `sha256.K.D` / `sha1.K.D TXT` → the KSK commitment. Everything is
 * validated from the configured trust anchor for D; a validated "does not exist" for the
 * SRV name means D does not take part in IKS (NotParticipating), while missing records
 * without such a proof are bogus.
 */
import { lookup as systemLookup } from 'node:dns/promises';

import { CommitmentMismatch, NotParticipating } from '../errors';
import { isInZone } from '../dns/name';
import { decodeSrv, decodeTxt, rdataToText, type SrvData } from '../dns/rdata';
import { DnsStub, type DnsServer } from '../dns/stub';
import { RrType, typeName } from '../dns/types';
import { DnssecAlgorithm } from '../dnssec/keys';
import type { TrustAnchor } from '../dnssec/trust-anchor';
import type { TrustedKeys, ValidatedRRset } from '../dnssec/validate';
import { ValidatingResolver, type DnsExchange } from '../dnssec/validating-resolver';
import type { Commitment } from './commitment';
import { atLink, type LinkRecorder, type VerifiedLink } from './links';
import { orderSrvTargets, type Random } from './srv';

/** The SRV owner label of each IKS service (paper §5.4). */
export type IksServiceLabel = '_ikqs._tcp' | '_ikrs._tcp';

/** One service address to try. */
export interface Endpoint {
    /** Base URL of the service. */
    readonly baseUrl: string;
    /** How the endpoint was found, recorded once it answers. */
    readonly link: VerifiedLink;
}

/** The DNS half of a lookup, as IksClient needs it. */
export interface Discovery {
    /**
     * §5.1 step 1: the endpoints of the domain's query service (`_ikqs._tcp`, default) or
     * registration service (`_ikrs._tcp`, §5.2), in the order to try them.
     */
    endpoints(domain: string, record: LinkRecorder, service?: IksServiceLabel): AsyncIterable<Endpoint>;
    /** §5.1 step 4b: the validated commitment to KSK `keyName` of `domain`. */
    commitment(keyName: string, domain: string, record: LinkRecorder): Promise<Commitment>;
}

export interface DnsDiscoveryOptions {
    /** The DNS server to ask (an authority for the domain, or a resolver). */
    readonly server: DnsServer;
    readonly anchors: readonly TrustAnchor[];
    /** Per DNS exchange, milliseconds (default 2000). */
    readonly timeoutMs?: number;
    /** Milliseconds since the epoch (default Date.now). */
    readonly now?: () => number;
    readonly random?: Random;
    /**
     * Addresses of SRV targets outside the anchored zone (paper §5.4 lets a domain delegate
     * IKS to another organisation). Default: the system resolver.
     */
    readonly lookupOutside?: (host: string) => Promise<string[]>;
}

const internals = {
    algorithms: new Map<number, string>(Object.entries(DnssecAlgorithm).map(([name, value]) => [value, name]))
};

/** "DNSSEC-validated: RRSIG by example.test key 12345 (ECDSAP256SHA256), valid until …". */
function validatedBy(rrset: ValidatedRRset): string {

    const signature = rrset.signature;
    return `DNSSEC-validated: RRSIG by ${signature.signer} key ${signature.keyTag} (${internals.algorithms.get(signature.algorithm) ?? signature.algorithm}), valid until ${new Date(signature.expiration * 1000).toISOString()}`;
}

function trustAnchorLink(keys: TrustedKeys): VerifiedLink {

    return {
        link: 'trust-anchor',
        detail: `${keys.zone} DNSKEY key ${keys.anchor.keyTag} matches the ${keys.anchor.form} trust anchor and signs the zone's ${keys.keys.length} key(s)`
    };
}

function urlOf(address: string, port: number): string {

    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

export class DnsDiscovery implements Discovery {

    readonly #options: DnsDiscoveryOptions;
    readonly #exchange: DnsExchange;
    readonly #resolvers = new Map<string, ValidatingResolver>();

    constructor(options: DnsDiscoveryOptions) {

        this.#options = options;
        const stub = new DnsStub({ server: options.server, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
        this.#exchange = (name, type) => stub.query(name, type);
    }

    #resolver(domain: string): ValidatingResolver {

        let resolver = this.#resolvers.get(domain);
        if (!resolver) {
            resolver = new ValidatingResolver({ zone: domain, anchors: this.#options.anchors, exchange: this.#exchange, ...(this.#options.now ? { now: this.#options.now } : {}) });
            this.#resolvers.set(domain, resolver);
        }

        return resolver;
    }

    /** The resolver for `domain` after its DNSKEY RRset validated from the anchor. */
    async #anchored(domain: string, record: LinkRecorder): Promise<ValidatingResolver> {

        const resolver = this.#resolver(domain);
        record(trustAnchorLink(await atLink('trust-anchor', () => resolver.trustedKeys())));
        return resolver;
    }

    async *endpoints(domain: string, record: LinkRecorder, service: IksServiceLabel = '_ikqs._tcp'): AsyncIterable<Endpoint> {

        const resolver = await this.#anchored(domain, record);
        const targets = await atLink('discovery', () => this.#serviceTargets(resolver, domain, service, record));
        for (const target of targets) {
            for await (const address of this.#addresses(resolver, target.target)) {
                yield { baseUrl: urlOf(address.address, target.port), link: { link: 'address', detail: `${target.target} ${address.detail}` } };
            }
        }
    }

    /** The SRV targets of `<service>.D` in RFC 2782 order. */
    async #serviceTargets(resolver: ValidatingResolver, domain: string, service: IksServiceLabel, record: LinkRecorder): Promise<SrvData[]> {

        const name = `${service}.${domain}`;
        const answer = await resolver.resolve(name, RrType.SRV);
        if (answer.kind !== 'answer') {
            throw new NotParticipating(`${domain} does not take part in IKS: DNSSEC proves that ${answer.kind === 'nxdomain' ? `${name} does not exist` : `${name} has no SRV records`}`);
        }

        // The decoder already checked each SRV's layout; this only reads the fields.
        const records = answer.rrset.rdata.map(decodeSrv);

        // RFC 2782: a single target "." means the service is decidedly not available.
        if (records.length === 1 && records[0]!.target === '') {
            throw new NotParticipating(`${domain} does not take part in IKS: ${name} SRV names the target "."`);
        }

        const ordered = orderSrvTargets(records.filter((srv) => srv.target !== ''), this.#options.random);
        const listed = ordered.map((srv) => `${srv.target}:${srv.port} (priority ${srv.priority}, weight ${srv.weight})`).join(', ');
        record({ link: 'discovery', detail: `${name} SRV → ${listed}; ${validatedBy(answer.rrset)}` });
        return ordered;
    }

    /** Validated A then AAAA addresses of an in-zone target; the system resolver's for others. */
    async *#addresses(resolver: ValidatingResolver, target: string): AsyncIterable<{ address: string; detail: string }> {

        if (!isInZone(target, resolver.zone)) {
            const lookupOutside = this.#options.lookupOutside ?? (async (host: string) => (await systemLookup(host, { all: true })).map((entry) => entry.address));
            // A name that does not resolve is a target without an address: try the next one.
            const addresses = await lookupOutside(target).catch(() => []);
            for (const address of addresses) {
                yield { address, detail: `${address} (outside ${resolver.zone}, not DNSSEC-validated: only reachability depends on it, the documents are verified against the validated KSK commitment)` };
            }

            return;
        }

        for (const type of [RrType.A, RrType.AAAA]) {
            const answer = await atLink('address', () => resolver.resolve(target, type));
            if (answer.kind === 'answer') {
                for (const rdata of answer.rrset.rdata) {
                    const address = rdataToText(type, rdata);
                    yield { address, detail: `${typeName(type)} ${address}, ${validatedBy(answer.rrset)}` };
                }
            }
        }
    }

    async commitment(keyName: string, domain: string, record: LinkRecorder): Promise<Commitment> {

        const resolver = await this.#anchored(domain, record);
        return atLink('commitment', async () => {

            const names = { sha256: `sha256.${keyName}.${domain}`, sha1: `sha1.${keyName}.${domain}` };
            const [sha256, sha1] = await Promise.all([commitmentRecord(resolver, names.sha256), commitmentRecord(resolver, names.sha1)]);
            const describe = (name: string, found: { value: string; rrset: ValidatedRRset } | null) => (found ? `${name} TXT "${found.value}"` : `${name}: none (proven absent)`);
            const validated = sha256?.rrset ?? sha1?.rrset;
            record({ link: 'commitment', detail: `${describe(names.sha256, sha256)}, ${describe(names.sha1, sha1)}${validated ? `; ${validatedBy(validated)}` : ''}` });
            return { ...(sha256 ? { sha256: sha256.value } : {}), ...(sha1 ? { sha1: sha1.value } : {}) };
        });
    }
}

/** The value of one commitment TXT (its character-strings joined), or null when proven absent. */
async function commitmentRecord(resolver: ValidatingResolver, name: string): Promise<{ value: string; rrset: ValidatedRRset } | null> {

    const answer = await resolver.resolve(name, RrType.TXT);
    if (answer.kind !== 'answer') {
        return null;
    }

    const values = new Set(answer.rrset.rdata.map((rdata) => Buffer.concat(decodeTxt(rdata)).toString('latin1')));
    if (values.size !== 1) {
        throw new CommitmentMismatch(`${name} holds ${values.size} different commitments; a key name commits to one key`);
    }

    return { value: [...values][0]!, rrset: answer.rrset };
}
