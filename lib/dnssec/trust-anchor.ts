/**
 * Trust anchors in the BIND/delv configuration syntax that `trustAnchorFile()` writes
 * (`delv -a FILE`): `trust-anchors { NAME static-key|initial-key FLAGS 3 ALG "KEY"; … };`
 * or `static-ds|initial-ds TAG ALG DIGEST-TYPE "HEX"`, plus the older `managed-keys`
 * and `trusted-keys` blocks. initial-* anchors are used as static ones: the client keeps
 * no RFC 5011 state, so rolling the anchor means replacing the file.
 */
import { createHash } from 'node:crypto';

import { InvalidInput } from '../errors';
import { canonicalName, nameToWire } from '../dns/name';
import { DnsFormatError } from '../dns/types';
import { encodeDnskey, encodeDs } from '../dns/rdata';
import { DnskeyFlags, DnssecAlgorithm, keyTag } from './keys';
import type { TrustAnchorForm } from './signed-zone';

export interface TrustAnchor {
    /** Lowercase, no trailing dot. */
    readonly zone: string;
    readonly form: TrustAnchorForm;
    /** DNSKEY RDATA for the key forms, DS RDATA for the DS forms. */
    readonly rdata: Buffer;
}

/** A trust-anchor file that cannot be used. */
export class InvalidTrustAnchor extends InvalidInput {
    constructor(message: string, options?: { cause?: unknown }) {
        super('INVALID_TRUST_ANCHOR', message, options);
    }
}

const internals = {
    blocks: new Set(['trust-anchors', 'managed-keys', 'trusted-keys']),
    forms: new Set<string>(['static-key', 'initial-key', 'static-ds', 'initial-ds']),
    algorithms: new Set<number>(Object.values(DnssecAlgorithm)),
    // RFC 4509 (SHA-256) and RFC 6605 (SHA-384); SHA-1 DS (type 1) is refused (RFC 8624 §3.3).
    digests: new Map<number, { hash: string; length: number }>([[2, { hash: 'sha256', length: 32 }], [4, { hash: 'sha384', length: 48 }]]),
    revoke: 0x0080,
    token: /\s*(?:(\/\*[\s\S]*?\*\/)|((?:\/\/|#)[^\n]*)|([{};])|"([^"]*)"|([^\s{};"]+))/y
};

interface Token {
    readonly text: string;
    readonly quoted: boolean;
}

function tokenize(text: string): Token[] {

    const tokens: Token[] = [];
    const pattern = new RegExp(internals.token.source, 'y');
    let offset = 0;
    while (offset < text.length) {
        pattern.lastIndex = offset;
        const match = pattern.exec(text);
        if (!match) {
            if (text.slice(offset).trim() === '') {
                break;
            }

            throw new InvalidTrustAnchor(`cannot read the trust-anchor file near "${text.slice(offset, offset + 20).trim()}"`);
        }

        offset = pattern.lastIndex;
        if (match[3] !== undefined || match[5] !== undefined) {
            tokens.push({ text: (match[3] ?? match[5])!, quoted: false });
        }
        else if (match[4] !== undefined) {
            tokens.push({ text: match[4], quoted: true });
        }
    }

    return tokens;
}

function integer(token: Token | undefined, what: string, max: number): number {

    const value = token && !token.quoted && /^\d+$/.test(token.text) ? Number(token.text) : NaN;
    if (!(value <= max)) {
        throw new InvalidTrustAnchor(`trust anchor ${what} must be a number from 0 to ${max}, not "${token?.text ?? 'end of file'}"`);
    }

    return value;
}

function zoneName(token: Token | undefined): string {

    if (!token || token.text === '{' || token.text === '}' || token.text === ';') {
        throw new InvalidTrustAnchor(`trust anchor expected a zone name, found "${token?.text ?? 'end of file'}"`);
    }

    try {
        return canonicalName(token.text);
    }
    catch (err) {
        throw new InvalidTrustAnchor(`trust anchor zone "${token.text}" is not a usable name: ${(err as DnsFormatError).message}`, { cause: err });
    }
}

function checkedAlgorithm(algorithm: number, zone: string): number {

    if (!internals.algorithms.has(algorithm)) {
        throw new InvalidTrustAnchor(`trust anchor for ${zone} uses DNSSEC algorithm ${algorithm}; supported: ${[...internals.algorithms].join(', ')}`);
    }

    return algorithm;
}

function dnskeyAnchor(zone: string, flags: number, protocol: number, algorithm: number, key: string): Buffer {

    const publicKey = Buffer.from(key.replace(/\s+/g, ''), 'base64');
    if ((flags & DnskeyFlags.ZONE) === 0 || (flags & internals.revoke) !== 0 || protocol !== 3 || publicKey.length === 0) {
        throw new InvalidTrustAnchor(`trust anchor for ${zone} is not a usable zone key (flags ${flags}, protocol ${protocol})`);
    }

    return encodeDnskey({ flags, algorithm: checkedAlgorithm(algorithm, zone), publicKey });
}

function dsAnchor(zone: string, tag: number, algorithm: number, digestType: number, hex: string): Buffer {

    const digest = internals.digests.get(digestType);
    const text = hex.replace(/\s+/g, '');
    if (!digest) {
        throw new InvalidTrustAnchor(`trust anchor for ${zone} uses DS digest type ${digestType}; supported: 2 (SHA-256), 4 (SHA-384)`);
    }

    if (!/^[0-9a-fA-F]*$/.test(text) || text.length !== digest.length * 2) {
        throw new InvalidTrustAnchor(`trust anchor for ${zone}: the DS digest must be ${digest.length * 2} hex digits`);
    }

    return encodeDs({ keyTag: tag, algorithm: checkedAlgorithm(algorithm, zone), digestType, digest: Buffer.from(text, 'hex') });
}

/** Parses a trust-anchor file; InvalidTrustAnchor names what is wrong. */
export function parseTrustAnchors(text: string): TrustAnchor[] {

    const tokens = tokenize(text);
    const anchors: TrustAnchor[] = [];
    let i = 0;
    const expect = (wanted: string) => {

        if (tokens[i]?.text !== wanted || tokens[i]?.quoted) {
            throw new InvalidTrustAnchor(`trust-anchor file: expected "${wanted}", found "${tokens[i]?.text ?? 'end of file'}"`);
        }

        ++i;
    };

    while (i < tokens.length) {
        const block = tokens[i]!.text;
        if (!internals.blocks.has(block)) {
            throw new InvalidTrustAnchor(`trust-anchor file: unknown statement "${block}" (expected trust-anchors, managed-keys or trusted-keys)`);
        }

        ++i;
        expect('{');
        while (tokens[i] && tokens[i]!.text !== '}') {
            const zone = zoneName(tokens[i++]);
            // trusted-keys entries have no form keyword: they are static keys.
            const form = block === 'trusted-keys' ? 'static-key' : tokens[i++]?.text ?? '';
            if (!internals.forms.has(form)) {
                throw new InvalidTrustAnchor(`trust anchor for ${zone}: unknown form "${form}"`);
            }

            const first = integer(tokens[i++], form.endsWith('-ds') ? 'key tag' : 'flags', 0xffff);
            const second = integer(tokens[i++], form.endsWith('-ds') ? 'algorithm' : 'protocol', 0xff);
            const third = integer(tokens[i++], form.endsWith('-ds') ? 'digest type' : 'algorithm', 0xff);
            const data = tokens[i++];
            if (!data?.quoted) {
                throw new InvalidTrustAnchor(`trust anchor for ${zone}: the ${form.endsWith('-ds') ? 'digest' : 'key'} must be a quoted string`);
            }

            const rdata = form.endsWith('-ds') ? dsAnchor(zone, first, second, third, data.text) : dnskeyAnchor(zone, first, second, third, data.text);
            anchors.push({ zone, form: form as TrustAnchorForm, rdata });
            expect(';');
        }

        expect('}');
        expect(';');
    }

    if (anchors.length === 0) {
        throw new InvalidTrustAnchor('the trust-anchor file holds no anchor');
    }

    return anchors;
}

/**
 * True when a DNSKEY of `zone` is the one a trust anchor names: the same key for key
 * anchors; for DS anchors, tag, algorithm and digest over owner name and RDATA match
 * (RFC 4034 §5.1.4).
 */
export function anchorMatches(anchor: TrustAnchor, zone: string, dnskey: Buffer): boolean {

    if (anchor.zone !== zone || dnskey.length < 5) {
        return false;
    }

    if (!anchor.form.endsWith('-ds')) {
        return anchor.rdata.equals(dnskey);
    }

    const digest = internals.digests.get(anchor.rdata[3]!)!;
    const expected = encodeDs({
        keyTag: keyTag(dnskey),
        algorithm: dnskey[3]!,
        digestType: anchor.rdata[3]!,
        digest: createHash(digest.hash).update(nameToWire(zone)).update(dnskey).digest()
    });
    return expected.equals(anchor.rdata);
}
