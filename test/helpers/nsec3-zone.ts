/**
 * NSEC3-signed zones made by independent tools, for the NSEC3 validator's tests: keys from
 * ldns-keygen, the zone signed by `ldns-signzone -n`, read back with every record in
 * RFC 3597 form (`ldns-read-zone -U TXT`) so the wire RDATA is ldns's, not ours. Records
 * are picked the way a server would, with hashes from ldns-nsec3-hash and the hash order
 * of the base32hex labels ldns printed — never with the code under test.
 */
import { spawnSync } from 'node:child_process';
import * as Crypto from 'node:crypto';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import type { DecodedMessage, DecodedRecord } from '../../lib/dns/decode';
import { Rcode, RrType } from '../../lib/dns/types';
import { DnskeyFlags, parseTrustAnchors, signRRset, zoneKey, type TrustAnchor, type ZoneKey } from '../../lib/dnssec';

export const ORIGIN = 'example.test';
export const NSEC3 = 50;

/**
 * The zone: data at the apex, ns1, iks1 and _ikqs._tcp (under the empty non-terminal
 * _tcp), sha256.k1 (under the ENT k1), an alias, an unsigned delegation, a DNAME and a
 * wildcard under the ENT w.
 */
const zoneText = `$ORIGIN ${ORIGIN}.
$TTL 3600
@ IN SOA ns1 hostmaster 1 3600 600 1209600 300
@ IN NS ns1
ns1 IN A 127.0.0.1
iks1 IN A 127.0.0.2
_ikqs._tcp IN SRV 10 60 8080 iks1
sha256.k1 IN TXT "abc"
alias IN CNAME iks1
sub IN NS ns1.example.org.
d IN DNAME example.org.
*.w IN TXT "wild"
`;

export type LdnsAlgorithm = 'ED25519' | 'ECDSAP256SHA256';

export interface Nsec3Options {
    /** Hex, '' for none. */
    readonly salt?: string;
    readonly iterations?: number;
    readonly optOut?: boolean;
    readonly algorithm?: LdnsAlgorithm;
}

/** An NSEC3 record as ldns printed it. */
export interface LdnsNsec3 {
    /** The hash label of the owner. */
    readonly label: string;
    readonly next: string;
    readonly flags: number;
    readonly types: readonly string[];
}

export interface LdnsZone {
    readonly salt: string;
    readonly iterations: number;
    readonly records: readonly DecodedRecord[];
    /** By hash label, in hash order. */
    readonly nsec3: ReadonlyMap<string, LdnsNsec3>;
    readonly anchors: TrustAnchor[];
    /** The ldns key, loaded into node:crypto to sign records ldns will not make. */
    readonly key: ZoneKey;
    readonly inception: number;
    readonly expiration: number;
}

interface LdnsKey {
    readonly base: string;
    readonly files: ReadonlyMap<string, string>;
}

const internals = {
    keys: new Map<LdnsAlgorithm, LdnsKey>(),
    zones: new Map<string, LdnsZone>(),
    hashes: new Map<string, string>(),
    // Fixed at load so every zone of a run has the same validity window.
    now: Math.floor(Date.now() / 1000)
};

/** Runs a tool; throws with its output unless it succeeds. */
export function run(command: string, args: readonly string[], cwd?: string): string {

    const result = spawnSync(command, args as string[], { encoding: 'utf8', timeout: 30_000, ...(cwd ? { cwd } : {}) });
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.error?.message}): ${result.stdout}${result.stderr}`);
    }

    return result.stdout;
}

function inTempDir<T>(action: (dir: string) => T): T {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-nsec3-'));
    try {
        return action(dir);
    }
    finally {
        Fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** A key pair made by ldns-keygen (flags 257, one key signs everything), kept in memory. */
function ldnsKey(algorithm: LdnsAlgorithm): LdnsKey {

    const cached = internals.keys.get(algorithm);
    if (cached) {
        return cached;
    }

    const key = inTempDir((dir) => {

        const base = run('ldns-keygen', ['-a', algorithm, '-k', '-r', '/dev/urandom', ORIGIN], dir).trim();
        const files = new Map(Fs.readdirSync(dir).map((file) => [file, Fs.readFileSync(Path.join(dir, file), 'utf8')]));
        return { base, files };
    });
    internals.keys.set(algorithm, key);
    return key;
}

/** The NSEC3 hash label of `name` (no trailing dot) as ldns-nsec3-hash computes it. */
export function ldnsNsec3Hash(name: string, salt: string, iterations: number): string {

    const key = `${name}/${salt}/${iterations}`;
    let label = internals.hashes.get(key);
    if (!label) {
        label = run('ldns-nsec3-hash', ['-t', String(iterations), '-s', salt, `${name}.`]).trim().replace(/\.$/, '');
        internals.hashes.set(key, label);
    }

    return label;
}

/** Reads `ldns-read-zone -U TXT` output: every record but TXT as `\# length hex`. */
function readUnknownFormat(text: string): DecodedRecord[] {

    const records: DecodedRecord[] = [];
    for (const line of text.split('\n')) {
        const match = /^(\S+)\s+(\d+)\s+IN\s+TYPE(\d+)\s+\\#\s+(\d+)\s*([0-9a-fA-F\s]*)$/.exec(line.trim());
        if (match) {
            const rdata = Buffer.from(match[5]!.replace(/\s/g, ''), 'hex');
            if (rdata.length !== Number(match[4])) {
                throw new Error(`ldns-read-zone printed a record whose length does not fit: ${line}`);
            }

            records.push({ name: match[1]!.toLowerCase().replace(/\.$/, ''), type: Number(match[3]), class: 1, ttl: Number(match[2]), rdata });
        }
    }

    return records;
}

/** The NSEC3 records of ldns-signzone's presentation output. */
function readNsec3Text(text: string): Map<string, LdnsNsec3> {

    const nsec3 = new Map<string, LdnsNsec3>();
    for (const line of text.split('\n')) {
        const fields = line.trim().split(/\s+/);
        if (fields[3] === 'NSEC3') {
            // owner TTL IN NSEC3 algorithm flags iterations salt next types…
            nsec3.set(fields[0]!.split('.')[0]!, { label: fields[0]!.split('.')[0]!, next: fields[8]!, flags: Number(fields[5]), types: fields.slice(9) });
        }
    }

    return new Map([...nsec3.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The ldns private key as a node:crypto ZoneKey (RFC 6605 / RFC 8080 private key fields). */
function zoneKeyOf(key: LdnsKey, dnskey: Buffer): ZoneKey {

    const privateText = key.files.get(`${key.base}.private`)!;
    const d = Buffer.from(/^PrivateKey:\s*(\S+)/m.exec(privateText)![1]!, 'base64').toString('base64url');
    const publicKey = dnskey.subarray(4);
    const jwk = dnskey[3] === 15 ?
        { kty: 'OKP', crv: 'Ed25519', d, x: publicKey.toString('base64url') } :
        { kty: 'EC', crv: 'P-256', d, x: publicKey.subarray(0, 32).toString('base64url'), y: publicKey.subarray(32).toString('base64url') };
    const privateKey = Crypto.createPrivateKey({ key: jwk, format: 'jwk' });
    return zoneKey({ privateKey, publicKey: Crypto.createPublicKey(privateKey) }, DnskeyFlags.SEP);
}

/** The demo zone signed by ldns-signzone with NSEC3 and the given parameters (memoised). */
export function ldnsSignedZone(options: Nsec3Options = {}): LdnsZone {

    const salt = options.salt ?? '';
    const iterations = options.iterations ?? 0;
    const algorithm = options.algorithm ?? 'ED25519';
    const cacheKey = JSON.stringify([salt, iterations, options.optOut ?? false, algorithm]);
    const cached = internals.zones.get(cacheKey);
    if (cached) {
        return cached;
    }

    const key = ldnsKey(algorithm);
    const inception = internals.now - 3600;
    const expiration = internals.now + 14 * 86_400;
    const { unknown, presentation } = inTempDir((dir) => {

        for (const [file, content] of key.files) {
            Fs.writeFileSync(Path.join(dir, file), content);
        }

        Fs.writeFileSync(Path.join(dir, 'zone.txt'), zoneText);
        const args = ['-n', '-s', salt, '-t', String(iterations), ...(options.optOut ? ['-p'] : []), '-i', String(inception), '-e', String(expiration), '-o', ORIGIN, '-f', 'signed.txt', 'zone.txt', key.base];
        run('ldns-signzone', args, dir);
        return { unknown: run('ldns-read-zone', ['-U', 'TXT', 'signed.txt'], dir), presentation: Fs.readFileSync(Path.join(dir, 'signed.txt'), 'utf8') };
    });

    const records = readUnknownFormat(unknown);
    const dnskey = records.find((record) => record.name === ORIGIN && record.type === RrType.DNSKEY)!.rdata;
    const zone: LdnsZone = {
        salt,
        iterations,
        records,
        nsec3: readNsec3Text(presentation),
        anchors: parseTrustAnchors(`trust-anchors { ${ORIGIN}. static-key 257 3 ${dnskey[3]} "${dnskey.subarray(4).toString('base64')}"; };`),
        key: zoneKeyOf(key, dnskey),
        inception,
        expiration
    };
    internals.zones.set(cacheKey, zone);
    return zone;
}

export const validationTime = () => internals.now;

/** The owner of the NSEC3 whose hash is the hash of `name`; throws when the zone has none. */
export function matching(zone: LdnsZone, name: string): string {

    const label = ldnsNsec3Hash(name, zone.salt, zone.iterations);
    if (!zone.nsec3.has(label)) {
        throw new Error(`the zone has no NSEC3 for ${name} (${label})`);
    }

    return `${label}.${ORIGIN}`;
}

/** The owner of the NSEC3 whose span holds the hash of `name` (the last one wraps); throws when the name's hash is an owner. */
export function covering(zone: LdnsZone, name: string): string {

    const label = ldnsNsec3Hash(name, zone.salt, zone.iterations);
    const labels = [...zone.nsec3.keys()];
    if (labels.includes(label)) {
        throw new Error(`${name} (${label}) exists in the zone: nothing covers it`);
    }

    const before = labels.filter((owner) => owner < label);
    return `${before.length > 0 ? before[before.length - 1]! : labels[labels.length - 1]!}.${ORIGIN}`;
}

/** The records of one owner and type, and the RRSIGs over them. */
export function recordsOf(zone: LdnsZone, name: string, type: number): DecodedRecord[] {

    const data = zone.records.filter((record) => record.name === name && record.type === type);
    const rrsigs = zone.records.filter((record) => record.name === name && record.type === RrType.RRSIG && record.rdata.readUInt16BE(0) === type);
    return [...data, ...rrsigs];
}

function message(rcode: number, answers: readonly DecodedRecord[], authorities: readonly DecodedRecord[]): DecodedMessage {

    return {
        id: 1, qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false, rcode, question: null,
        answers, authorities, additionals: [], edns: { payloadSize: 1232, dnssecOk: true, version: 0 }
    };
}

/** The answer to `example.test DNSKEY`. */
export function dnskeyReply(zone: LdnsZone): DecodedMessage {

    return message(Rcode.NOERROR, recordsOf(zone, ORIGIN, RrType.DNSKEY), []);
}

/** A negative answer with the SOA and the NSEC3 records (with their RRSIGs) of the given owners. */
export function denialReply(zone: LdnsZone, rcode: number, owners: readonly string[]): DecodedMessage {

    const nsec3 = [...new Set(owners)].flatMap((owner) => recordsOf(zone, owner, NSEC3));
    return message(rcode, [], [...recordsOf(zone, ORIGIN, RrType.SOA), ...nsec3]);
}

/** What a server sends for NXDOMAIN (RFC 5155 §7.2.2): closest encloser match, next closer and wildcard covers. */
export function nxdomainOwners(zone: LdnsZone, encloser: string, nextCloser: string): string[] {

    return [matching(zone, encloser), covering(zone, nextCloser), covering(zone, `*.${encloser}`)];
}

/**
 * NSEC3 RDATA (RFC 5155 §3.2) with fields changed, signed with the zone's key: what the
 * zone's owner could publish, but ldns-signzone will not make (unknown hash algorithm or
 * flags).
 */
export function resignedNsec3(zone: LdnsZone, owner: string, change: (rdata: Buffer) => Buffer): DecodedRecord[] {

    const original = zone.records.find((record) => record.name === owner && record.type === NSEC3)!;
    const rdata = change(Buffer.from(original.rdata));
    const rrsig = signRRset({ name: owner, type: NSEC3, ttl: original.ttl, rdata: [rdata] }, ORIGIN, zone.key, zone.inception, zone.expiration);
    return [{ ...original, rdata }, { ...original, type: RrType.RRSIG, rdata: rrsig }];
}
