import * as Crypto from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { nameToWire } from '../../lib/dns/name';
import { RrType } from '../../lib/dns/types';
import { covers, decodeBase32Hex, encodeBase32Hex, matches, Nsec3Limits, nsec3Hash, parseNsec3, proveNsec3Nodata, proveNsec3Nxdomain, type Nsec3 } from '../../lib/dnssec/nsec3';
import { DnssecBogus } from '../../lib/errors';
import { covering, ldnsNsec3Hash, ldnsSignedZone, matching, NSEC3, nxdomainOwners, ORIGIN, type LdnsZone, type Nsec3Options } from '../helpers/nsec3-zone';

export const lab = Lab.script();
const { describe, it } = lab;

const CNAME = 5;
const DNAME = 39;
const DS = RrType.DS;

// Mnemonics ldns prints in NSEC3 type bit maps.
const typeNumbers = new Map<string, number>([['A', 1], ['NS', 2], ['CNAME', CNAME], ['SOA', 6], ['TXT', 16], ['SRV', 33], ['DNAME', DNAME], ['RRSIG', 46], ['DNSKEY', 48], ['NSEC3PARAM', 51]]);

// Signing parameters the proofs are checked with: none, RFC 5155 App. A style, the cap.
const parameterSets: Nsec3Options[] = [{ salt: '', iterations: 0 }, { salt: 'aabbccdd', iterations: 5 }, { salt: 'c4'.repeat(16), iterations: Nsec3Limits.maxIterations, algorithm: 'ECDSAP256SHA256' }];

const at = (label: string) => `${label}.${ORIGIN}`;

/** The zone's NSEC3 records of the given owners, parsed (signatures are validate.ts's business). */
function nsec3sOf(zone: LdnsZone, owners: readonly string[]): Nsec3[] {

    return [...new Set(owners)].map((owner) => parseNsec3(owner, ORIGIN, zone.records.find((record) => record.name === owner && record.type === NSEC3)!.rdata));
}

/** NSEC3 RDATA from its fields (RFC 5155 §3.2). */
function nsec3Rdata(fields: { algorithm?: number; flags?: number; iterations?: number; salt?: Buffer; next: Buffer; bitmap?: Buffer }): Buffer {

    const head = Buffer.from([fields.algorithm ?? 1, fields.flags ?? 0, 0, 0]);
    head.writeUInt16BE(fields.iterations ?? 0, 2);
    const salt = fields.salt ?? Buffer.alloc(0);
    return Buffer.concat([head, Buffer.from([salt.length]), salt, Buffer.from([fields.next.length]), fields.next, fields.bitmap ?? Buffer.alloc(0)]);
}

/** A synthetic NSEC3 between two hashes made of one repeated octet. */
function synthetic(owner: number, next: number, changes: Partial<Nsec3> = {}): Nsec3 {

    return { owner: at(encodeBase32Hex(Buffer.alloc(20, owner))), zone: ORIGIN, ownerHash: Buffer.alloc(20, owner), algorithm: 1, flags: 0, iterations: 0, salt: Buffer.alloc(0), next: Buffer.alloc(20, next), types: new Set(), ...changes };
}

describe('NSEC3 hash', () => {

    it('equals ldns-nsec3-hash for several names, salts and iteration counts', () => {

        const names = [ORIGIN, 'EXAMPLE.Test', '*.example.test', '_ikqs._tcp.example.test', 'sha256.k1.example.test', 'a.b.c.d.e.f.g.example.test', 'example', 'x'.repeat(63) + '.example.test'];
        const salts = ['', 'aabbccdd', '00', 'ab'.repeat(255)];
        let checked = 0;
        for (const name of names) {
            for (const salt of salts) {
                for (const iterations of [0, 1, 12, Nsec3Limits.maxIterations]) {
                    const ours = encodeBase32Hex(nsec3Hash(name, Buffer.from(salt, 'hex'), iterations));
                    expect(ours, `${name} salt "${salt}" ${iterations} iterations`).to.equal(ldnsNsec3Hash(name, salt, iterations));
                    ++checked;
                }
            }
        }

        expect(checked).to.equal(names.length * salts.length * 4);
    });

    it('gives the RFC 5155 Appendix A hashes (salt aabbccdd, 12 iterations)', () => {

        const salt = Buffer.from('aabbccdd', 'hex');
        expect(encodeBase32Hex(nsec3Hash('example', salt, 12))).to.equal('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom');
        expect(encodeBase32Hex(nsec3Hash('a.example', salt, 12))).to.equal('35mthgpgcu1qg68fab165klnsnk3dpvl');
    });

    it('hashes the canonical wire form: SHA-1 of name and salt, then of digest and salt', () => {

        const salt = Buffer.from('0102', 'hex');
        const once = Crypto.createHash('sha1').update(nameToWire('a.example.test')).update(salt).digest();
        const twice = Crypto.createHash('sha1').update(once).update(salt).digest();
        expect(nsec3Hash('A.Example.TEST', salt, 0)).to.equal(once);
        expect(nsec3Hash('a.example.test', salt, 1)).to.equal(twice);
    });
});

describe('base32hex', () => {

    it('encodes and decodes the RFC 4648 §10 vectors, lowercase and without padding', () => {

        const vectors: [string, string][] = [['', ''], ['f', 'co'], ['fo', 'cpng'], ['foo', 'cpnmu'], ['foob', 'cpnmuog'], ['fooba', 'cpnmuoj1'], ['foobar', 'cpnmuoj1e8']];
        for (const [plain, encoded] of vectors) {
            expect(encodeBase32Hex(Buffer.from(plain))).to.equal(encoded);
            expect(decodeBase32Hex(encoded)).to.equal(Buffer.from(plain));
            expect(decodeBase32Hex(encoded.toUpperCase())).to.equal(Buffer.from(plain));
        }

        const random = Crypto.randomBytes(20);
        expect(decodeBase32Hex(encodeBase32Hex(random))).to.equal(random);
    });

    it('refuses characters outside the alphabet, padding, impossible lengths and non-zero spare bits', () => {

        for (const text of ['cw', 'cz', 'co======', 'c-', 'c', 'cpn', 'cpnmuo', 'cp', 'cpnh']) {
            expect(decodeBase32Hex(text), text).to.be.null();
        }
    });

    it('encodes the next hashed owner of each ldns NSEC3 as ldns prints it', () => {

        const zone = ldnsSignedZone({ salt: 'aabbccdd', iterations: 5 });
        for (const [label, printed] of zone.nsec3) {
            const nsec3 = nsec3sOf(zone, [at(label)])[0]!;
            expect(encodeBase32Hex(nsec3.next)).to.equal(printed.next);
            expect(encodeBase32Hex(nsec3.ownerHash)).to.equal(label);
        }
    });
});

describe('parseNsec3()', () => {

    it('reads every field of the NSEC3 records ldns-signzone made', () => {

        for (const options of [{ salt: 'aabbccdd', iterations: 5 }, { salt: '', iterations: 0, optOut: true }]) {
            const zone = ldnsSignedZone(options);
            expect(zone.nsec3.size).to.equal(12);                    // 9 names with data, 3 empty non-terminals
            for (const [label, printed] of zone.nsec3) {
                const nsec3 = nsec3sOf(zone, [at(label)])[0]!;
                expect(nsec3).to.include({ owner: at(label), zone: ORIGIN, algorithm: 1, flags: printed.flags, iterations: options.iterations });
                expect(nsec3.salt.toString('hex')).to.equal(options.salt);
                expect([...nsec3.types]).to.equal(printed.types.map((type) => typeNumbers.get(type)!));
            }
        }
    });

    it('refuses RDATA that is truncated, has an empty or overlong hash, a bad type bit map, or trailing octets', () => {

        const owner = at(encodeBase32Hex(Buffer.alloc(20, 1)));
        const good = nsec3Rdata({ next: Buffer.alloc(20, 2), bitmap: Buffer.from([0, 1, 0x40]) });
        expect(parseNsec3(owner, ORIGIN, good).types).to.equal(new Set([RrType.A]));
        const broken: [string, Buffer][] = [
            ['fixed fields', good.subarray(0, 4)],
            ['salt', Buffer.from([1, 0, 0, 0, 4, 0xaa])],
            ['empty next hash', nsec3Rdata({ next: Buffer.alloc(0) })],
            ['next hash past the end', good.subarray(0, 20)],
            ['bit map window empty', nsec3Rdata({ next: Buffer.alloc(20, 2), bitmap: Buffer.from([0, 0]) })],
            ['bit map windows out of order', nsec3Rdata({ next: Buffer.alloc(20, 2), bitmap: Buffer.from([1, 1, 0x40, 0, 1, 0x40]) })],
            ['trailing octet', Buffer.concat([good, Buffer.from([7])])]
        ];
        for (const [what, rdata] of broken) {
            expect(() => parseNsec3(owner, ORIGIN, rdata), what).to.throw(DnssecBogus, /NSEC3 of .* is malformed/);
        }
    });

    it('refuses an owner that is not <base32hex hash>.<zone>', () => {

        const rdata = nsec3Rdata({ next: Buffer.alloc(20, 2) });
        const label = encodeBase32Hex(Buffer.alloc(20, 1));
        for (const owner of [ORIGIN, `x.${label}.${ORIGIN}`, `${label}.example.org`, at('not-base32hex'), at('zz'), at(`${label.slice(0, -1)}w`)]) {
            expect(() => parseNsec3(owner, ORIGIN, rdata), owner).to.throw(DnssecBogus, /is not a base32hex hash label directly below example\.test/);
        }
    });
});

describe('covers() and matches()', () => {

    it('cover hashes strictly between owner and next, the last NSEC3 wrapping around to the first', () => {

        const middle = synthetic(0x40, 0x80);
        const last = synthetic(0xc0, 0x10);
        const cases: [Nsec3, number, boolean][] = [
            [middle, 0x50, true], [middle, 0x40, false], [middle, 0x80, false], [middle, 0x30, false], [middle, 0x90, false],
            [last, 0xd0, true], [last, 0x05, true], [last, 0x10, false], [last, 0xc0, false], [last, 0x50, false]
        ];
        for (const [nsec3, octet, expected] of cases) {
            expect(covers(nsec3, Buffer.alloc(20, octet)), `${nsec3.ownerHash[0]}→${nsec3.next[0]} covers ${octet}`).to.equal(expected);
        }

        // A chain of one: every other hash is covered.
        const alone = synthetic(0x40, 0x40);
        expect(covers(alone, Buffer.alloc(20, 0x41))).to.be.true();
        expect(covers(alone, Buffer.alloc(20, 0x39))).to.be.true();
        expect(covers(alone, Buffer.alloc(20, 0x40))).to.be.false();
        expect(matches(alone, Buffer.alloc(20, 0x40))).to.be.true();
        expect(matches(alone, Buffer.alloc(20, 0x41))).to.be.false();
    });
});

describe('NSEC3 NXDOMAIN proof', () => {

    it('accepts a closest encloser proof with the wildcard covered, for each parameter set', () => {

        for (const options of parameterSets) {
            const zone = ldnsSignedZone(options);
            const cases: [string, string, string][] = [
                ['nothing.example.test', ORIGIN, 'nothing.example.test'],
                ['a.b.sha256.k1.example.test', 'sha256.k1.example.test', 'b.sha256.k1.example.test'],
                ['x.k1.example.test', 'k1.example.test', 'x.k1.example.test'],                     // below an empty non-terminal
                ['deep.x._tcp.example.test', '_tcp.example.test', 'x._tcp.example.test']
            ];
            for (const [qname, encloser, nextCloser] of cases) {
                expect(() => proveNsec3Nxdomain(qname, ORIGIN, nsec3sOf(zone, nxdomainOwners(zone, encloser, nextCloser))), `${qname} ${JSON.stringify(options)}`).to.not.throw();
            }
        }
    });

    it('refuses a proof without the next closer cover, without the wildcard cover, or skipping the closest encloser', () => {

        const zone = ldnsSignedZone({ salt: 'aabbccdd', iterations: 5 });
        const [apex, nextCloser, wildcard] = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
        expect(new Set([apex, nextCloser, wildcard]).size).to.equal(3);
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, nsec3sOf(zone, [apex!, wildcard!]))).to.throw(DnssecBogus, /no NSEC3 covers nothing\.example\.test, the next closer name below the closest encloser example\.test/);
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, nsec3sOf(zone, [apex!, nextCloser!]))).to.throw(DnssecBogus, /no NSEC3 proves that \*\.example\.test is absent/);
        // Another record in the wildcard's place: it covers something, not *.example.test.
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, nsec3sOf(zone, [apex!, nextCloser!, matching(zone, 'iks1.example.test')]))).to.throw(DnssecBogus, /\*\.example\.test is absent/);
        // The real closest encloser is sha256.k1; the apex stands in for it, k1 is not covered.
        // (y: its cover is no ancestor's NSEC3, so only the apex matches.)
        const skipping = [apex!, covering(zone, 'y.sha256.k1.example.test'), wildcard!];
        expect(skipping).to.not.include(matching(zone, 'k1.example.test'));
        expect(skipping).to.not.include(matching(zone, 'sha256.k1.example.test'));
        expect(() => proveNsec3Nxdomain('y.sha256.k1.example.test', ORIGIN, nsec3sOf(zone, skipping))).to.throw(DnssecBogus, /no NSEC3 covers k1\.example\.test, the next closer name below the closest encloser example\.test/);
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, nsec3sOf(zone, [nextCloser!, wildcard!]))).to.throw(DnssecBogus, /no NSEC3 matches nothing\.example\.test or any ancestor up to the apex/);
    });

    it('refuses NXDOMAIN for a name whose NSEC3 matches, or when the wildcard at the closest encloser exists', () => {

        const zone = ldnsSignedZone({ salt: 'aabbccdd', iterations: 5 });
        expect(() => proveNsec3Nxdomain('iks1.example.test', ORIGIN, nsec3sOf(zone, [matching(zone, 'iks1.example.test'), matching(zone, ORIGIN)]))).to.throw(DnssecBogus, /the NSEC3 of iks1\.example\.test matches the name: it exists/);
        expect(() => proveNsec3Nxdomain('k1.example.test', ORIGIN, nsec3sOf(zone, [matching(zone, 'k1.example.test')]))).to.throw(DnssecBogus, /k1\.example\.test matches the name/);
        const wild = [matching(zone, 'w.example.test'), covering(zone, 'x.w.example.test'), matching(zone, '*.w.example.test')];
        expect(() => proveNsec3Nxdomain('x.w.example.test', ORIGIN, nsec3sOf(zone, wild))).to.throw(DnssecBogus, /\*\.w\.example\.test exists and would have answered/);
    });

    it('refuses a closest encloser at a zone cut: a delegation\'s or a DNAME\'s NSEC3 proves nothing below it', () => {

        const zone = ldnsSignedZone({ salt: 'aabbccdd', iterations: 5 });
        for (const cut of ['sub.example.test', 'd.example.test']) {
            const owners = [matching(zone, cut), covering(zone, `x.${cut}`), covering(zone, `*.${cut}`)];
            expect(() => proveNsec3Nxdomain(`x.${cut}`, ORIGIN, nsec3sOf(zone, owners)), cut).to.throw(DnssecBogus, new RegExp(`closest encloser ${cut.replace(/\./g, '\\.')} is a zone cut`));
        }
    });

    it('refuses opt-out on the NSEC3 covering the next closer name: it may be an unsigned delegation', () => {

        const zone = ldnsSignedZone({ salt: '', iterations: 0, optOut: true });
        const owners = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, nsec3sOf(zone, owners))).to.throw(DnssecBogus, /covering nothing\.example\.test has opt-out set, so nothing\.example\.test may be an unsigned delegation/);
    });
});

describe('NSEC3 NODATA proof', () => {

    it('accepts the name\'s own NSEC3 without the type, an empty non-terminal\'s, and a delegation\'s for DS', () => {

        for (const options of parameterSets) {
            const zone = ldnsSignedZone(options);
            const cases: [string, number][] = [['iks1.example.test', RrType.TXT], [ORIGIN, RrType.TXT], ['k1.example.test', RrType.TXT], ['_tcp.example.test', RrType.SRV], ['w.example.test', RrType.TXT], ['sub.example.test', DS]];
            for (const [qname, qtype] of cases) {
                expect(() => proveNsec3Nodata(qname, qtype, ORIGIN, nsec3sOf(zone, [matching(zone, qname)])), `${qname} ${JSON.stringify(options)}`).to.not.throw();
            }
        }
    });

    it('refuses a listed type, an alias, a delegation\'s child data, and a name without its own NSEC3', () => {

        const zone = ldnsSignedZone({ salt: 'aabbccdd', iterations: 5 });
        const own = (name: string) => nsec3sOf(zone, [matching(zone, name)]);
        expect(() => proveNsec3Nodata('iks1.example.test', RrType.A, ORIGIN, own('iks1.example.test'))).to.throw(DnssecBogus, /NSEC3 of iks1\.example\.test lists A, yet no A records came/);
        expect(() => proveNsec3Nodata('alias.example.test', RrType.TXT, ORIGIN, own('alias.example.test'))).to.throw(DnssecBogus, /alias \(CNAME\)/);
        expect(() => proveNsec3Nodata('sub.example.test', RrType.A, ORIGIN, own('sub.example.test'))).to.throw(DnssecBogus, /sub\.example\.test is a delegation; its parent-side NSEC3 cannot deny A/);
        expect(() => proveNsec3Nodata('nothing.example.test', RrType.TXT, ORIGIN, nsec3sOf(zone, nxdomainOwners(zone, ORIGIN, 'nothing.example.test')))).to.throw(DnssecBogus, /no NSEC3 matches nothing\.example\.test$/);
        expect(() => proveNsec3Nodata('nothing.example.test', DS, ORIGIN, nsec3sOf(zone, [covering(zone, 'nothing.example.test')]))).to.throw(DnssecBogus, /opt-out denial of DS, RFC 5155 §8\.6, would leave an unsigned delegation/);
        expect(() => proveNsec3Nodata('iks1.example.org', RrType.TXT, ORIGIN, own('iks1.example.test'))).to.throw(DnssecBogus, /iks1\.example\.org is not in example\.test/);
    });
});

describe('NSEC3 chain rules', () => {

    const zone = () => ldnsSignedZone({ salt: 'aabbccdd', iterations: 5 });
    const changed = (nsec3s: Nsec3[], change: Partial<Nsec3>) => nsec3s.map((nsec3) => ({ ...nsec3, ...change }));

    it('ignores NSEC3 with an unknown hash algorithm or unknown flags (RFC 5155 §8.1, §8.2), saying so when the proof then fails', () => {

        const owners = nxdomainOwners(zone(), ORIGIN, 'nothing.example.test');
        const proof = nsec3sOf(zone(), owners);
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, proof)).to.not.throw();
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, changed(proof, { algorithm: 2 }))).to.throw(DnssecBogus, /no usable NSEC3 record of example\.test \(NSEC3 with unknown hash algorithm 2 ignored \(RFC 5155 §8\.1\)\)/);
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, [...proof.slice(0, 2), { ...proof[2]!, algorithm: 2 }])).to.throw(DnssecBogus, /\*\.example\.test is absent \(NSEC3 with unknown hash algorithm 2 ignored/);
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, [...proof.slice(0, 2), { ...proof[2]!, flags: 0x02 }])).to.throw(DnssecBogus, /\*\.example\.test is absent \(NSEC3 with unknown flags 0x2 ignored \(RFC 5155 §8\.2\)\)/);
        expect(() => proveNsec3Nodata('iks1.example.test', RrType.TXT, ORIGIN, changed(nsec3sOf(zone(), [matching(zone(), 'iks1.example.test')]), { flags: 0x80 }))).to.throw(DnssecBogus, /unknown flags 0x80 ignored/);
    });

    it('refuses more than the iteration cap', () => {

        const capped = ldnsSignedZone({ salt: '', iterations: Nsec3Limits.maxIterations + 1 });
        const owners = nxdomainOwners(capped, ORIGIN, 'nothing.example.test');
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, nsec3sOf(capped, owners))).to.throw(DnssecBogus, /uses 101 hash iterations; IKS refuses more than 100 \(RFC 9276 §3\.2\)/);
        expect(() => proveNsec3Nodata('iks1.example.test', RrType.TXT, ORIGIN, changed(nsec3sOf(zone(), [matching(zone(), 'iks1.example.test')]), { iterations: 65535 }))).to.throw(DnssecBogus, /65535 hash iterations/);
    });

    it('refuses NSEC3 records of different chains in one answer (another salt, iterations or algorithm)', () => {

        const other = ldnsSignedZone({ salt: '0102', iterations: 5 });
        const [apex, nextCloser] = nxdomainOwners(zone(), ORIGIN, 'nothing.example.test');
        const mixed = [...nsec3sOf(zone(), [apex!, nextCloser!]), ...nsec3sOf(other, [covering(other, '*.example.test')])];
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, mixed)).to.throw(DnssecBogus, /belong to different chains \(hash algorithm, iterations or salt differ\)/);
        const proof = nsec3sOf(zone(), nxdomainOwners(zone(), ORIGIN, 'nothing.example.test'));
        expect(() => proveNsec3Nxdomain('nothing.example.test', ORIGIN, [...proof, { ...proof[0]!, owner: at('00'), iterations: 6 }])).to.throw(DnssecBogus, /different chains/);
    });

    it('refuses hashes that are not SHA-1 long, and ignores NSEC3 records of another zone', () => {

        const short = parseNsec3(at(encodeBase32Hex(Buffer.alloc(20, 1))), ORIGIN, nsec3Rdata({ next: Buffer.alloc(19, 2) }));
        expect(() => proveNsec3Nodata('iks1.example.test', RrType.TXT, ORIGIN, [short])).to.throw(DnssecBogus, /holds a hash that is not 20 octets/);
        const foreign = changed(nsec3sOf(zone(), [matching(zone(), 'iks1.example.test')]), { zone: 'example.org' });
        expect(() => proveNsec3Nodata('iks1.example.test', RrType.TXT, ORIGIN, foreign)).to.throw(DnssecBogus, /no usable NSEC3 record of example\.test$/);
    });

    it('bounds the work: at most 8 NSEC3 records and 32 hashed names per proof', () => {

        const all = nsec3sOf(zone(), [...zone().nsec3.keys()].map(at));
        expect(() => proveNsec3Nodata('iks1.example.test', RrType.TXT, ORIGIN, all)).to.throw(DnssecBogus, /12 NSEC3 records, more than the 8 IKS considers in one answer/);
        expect(() => proveNsec3Nodata('iks1.example.test', RrType.TXT, ORIGIN, nsec3sOf(zone(), [matching(zone(), 'iks1.example.test')]))).to.not.throw();
        // A name 40 labels below the apex: the closest encloser walk would hash 41 names.
        const deep = `${Array.from({ length: 40 }, (_, index) => `l${index}`).join('.')}.${ORIGIN}`;
        expect(() => proveNsec3Nxdomain(deep, ORIGIN, nsec3sOf(zone(), [matching(zone(), ORIGIN)]))).to.throw(DnssecBogus, /needs more than 32 hashed names; IKS stops there/);
        const within = `${Array.from({ length: 30 }, (_, index) => `l${index}`).join('.')}.${ORIGIN}`;
        expect(() => proveNsec3Nxdomain(within, ORIGIN, nsec3sOf(zone(), nxdomainOwners(zone(), ORIGIN, `l29.${ORIGIN}`)))).to.not.throw();
    });
});
