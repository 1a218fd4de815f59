/**
 * Asks questions about one DNSSEC-signed zone and returns only validated answers: the
 * zone's DNSKEY RRset is validated from the trust anchor once (and again when its RRSIG
 * runs out), then every answer against those keys (lib/dnssec/validate).
 */
import type { DecodedMessage } from '../dns/decode';
import { canonicalName } from '../dns/name';
import { RrType } from '../dns/types';
import type { TrustAnchor } from './trust-anchor';
import { validateAnswer, validateDnskeys, type TrustedKeys, type ValidatedAnswer } from './validate';

/** One question, one decoded answer (a DnsStub's `query`, or a test double). */
export type DnsExchange = (name: string, type: number) => Promise<DecodedMessage>;

export interface ValidatingResolverOptions {
    /** The anchored zone; questions must be at or below it. */
    readonly zone: string;
    readonly anchors: readonly TrustAnchor[];
    readonly exchange: DnsExchange;
    /** Milliseconds since the epoch (default Date.now). */
    readonly now?: () => number;
}

export class ValidatingResolver {

    readonly zone: string;
    readonly #anchors: readonly TrustAnchor[];
    readonly #exchange: DnsExchange;
    readonly #now: () => number;
    #keys: Promise<TrustedKeys> | null = null;

    constructor(options: ValidatingResolverOptions) {

        this.zone = canonicalName(options.zone);
        this.#anchors = options.anchors;
        this.#exchange = options.exchange;
        this.#now = options.now ?? Date.now;
    }

    #seconds(): number {

        return Math.floor(this.#now() / 1000);
    }

    /** The zone's validated keys; TrustAnchorMismatch or another DnssecBogus when they do not validate. */
    async trustedKeys(): Promise<TrustedKeys> {

        const cached = this.#keys;
        if (cached) {
            const keys = await cached.catch(() => null);
            if (keys && this.#seconds() <= keys.dnskeys.signature.expiration) {
                return keys;
            }
        }

        const fresh = this.#exchange(this.zone, RrType.DNSKEY).then((reply) => validateDnskeys(this.zone, reply, this.#anchors, this.#seconds()));
        this.#keys = fresh;
        return fresh;
    }

    /** The validated answer to `name type`: the RRset, or a proven NXDOMAIN / NODATA. */
    async resolve(name: string, type: number): Promise<ValidatedAnswer> {

        const keys = await this.trustedKeys();
        const qname = canonicalName(name);
        const reply = await this.#exchange(qname, type);
        return validateAnswer(reply, qname, type, keys, this.#seconds());
    }
}
