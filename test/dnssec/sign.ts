import * as Crypto from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { decodeTypeBitmap, encodeA, encodeTxt, readWireName } from '../../lib/dns/rdata';
import { RrType, typeName, type RRset } from '../../lib/dns/types';
import { canonicalRdata, InvalidZone, signedData, signZone, verifyRaw, type SignedZone } from '../../lib/dnssec';
import { buildZone } from '../../lib/zone/spec';
import { exportZoneText } from '../../lib/zone/export';
import { demoSpec, ldnsVerifyZone, ORIGIN, p256, window } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it } = lab;

function rrset(zone: SignedZone, name: string, type: number) {

    return zone.rrsets.find((candidate) => candidate.name === name && candidate.type === type)!;
}

function verifyAll(zone: SignedZone, keys: Map<number, Crypto.KeyObject>): void {

    for (const set of zone.rrsets) {
        expect(set.signatures.length, `${set.name}/${typeName(set.type)}`).to.equal(1);
        const signature = set.signatures[0]!;
        const signerEnd = readWireName(signature, 18).next;
        const tag = signature.readUInt16BE(16);
        expect(signature.readUInt16BE(0)).to.equal(set.type);
        expect(verifyRaw(signature[2]!, keys.get(tag)!, signedData(set, signature.subarray(0, signerEnd)), signature.subarray(signerEnd)), `${set.name}/${typeName(set.type)}`).to.be.true();
    }
}

describe('signZone()', () => {

    it('signs every RRset with a combined signing key (flags 257)', () => {

        const csk = p256();
        const zone = signZone(buildZone(demoSpec()), { zsk: csk }, window());
        const dnskey = rrset(zone, ORIGIN, RrType.DNSKEY);
        expect(dnskey.rdata.length).to.equal(1);
        expect(dnskey.rdata[0]!.readUInt16BE(0)).to.equal(257);
        const tag = dnskey.signatures[0]!.readUInt16BE(16);
        verifyAll(zone, new Map([[tag, csk.publicKey]]));
        expect(ldnsVerifyZone(exportZoneText(zone))).to.include({ status: 0 });
    });

    it('signs the DNSKEY RRset with the KSK and the rest with the ZSK', () => {

        const ksk = p256();
        const zsk = p256();
        const zone = signZone(buildZone(demoSpec()), { ksk, zsk }, window());
        const dnskey = rrset(zone, ORIGIN, RrType.DNSKEY);
        expect(dnskey.rdata.map((rdata) => rdata.readUInt16BE(0)).sort()).to.equal([256, 257]);
        const kskTag = dnskey.signatures[0]!.readUInt16BE(16);
        const zskTag = rrset(zone, ORIGIN, RrType.SOA).signatures[0]!.readUInt16BE(16);
        expect(kskTag).to.not.equal(zskTag);
        verifyAll(zone, new Map([[kskTag, ksk.publicKey], [zskTag, zsk.publicKey]]));
        expect(ldnsVerifyZone(exportZoneText(zone))).to.include({ status: 0 });
    });

    it('signs zones that ldns verifies with Ed25519 and RSA keys', () => {

        for (const pair of [Crypto.generateKeyPairSync('ed25519'), Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })]) {
            const zone = signZone(buildZone(demoSpec()), { zsk: pair }, window());
            const result = ldnsVerifyZone(exportZoneText(zone));
            expect(result.status, result.output).to.equal(0);
        }
    });

    it('builds a closed NSEC chain in canonical order with each name\'s types', () => {

        const zone = signZone(buildZone(demoSpec()), { zsk: p256() }, window());
        const nsecs = zone.rrsets.filter((set) => set.type === RrType.NSEC);
        const owners = nsecs.map((set) => set.name);
        expect(owners[0]).to.equal(ORIGIN);
        expect(owners).to.contain(['sha1.k1.example.test', 'sha256.k1.example.test', '_ikqs._tcp.example.test']);
        nsecs.forEach((set, index) => {
            const next = readWireName(set.rdata[0]!, 0);
            expect(next.name).to.equal(`${owners[(index + 1) % owners.length]}.`);
            const types = decodeTypeBitmap(set.rdata[0]!.subarray(next.next));
            const present = zone.rrsets.filter((other) => other.name === set.name).map((other) => other.type);
            expect(types).to.equal([...present, RrType.RRSIG].sort((a, b) => a - b));
            expect(set.ttl).to.equal(300);                                 // min(SOA TTL, SOA minimum), RFC 9077
        });
    });

    it('merges RRsets given in parts and drops duplicate records', () => {

        const base = buildZone(demoSpec());
        const extra: RRset[] = [
            { name: 'Extra.example.test.', type: RrType.A, ttl: 3600, rdata: [encodeA('192.0.2.2'), encodeA('192.0.2.1')] },
            { name: 'extra.example.test', type: RrType.A, ttl: 3600, rdata: [encodeA('192.0.2.1')] }
        ];
        const zone = signZone([...base, ...extra], { zsk: p256() }, window());
        expect(rrset(zone, 'extra.example.test', RrType.A).rdata).to.equal([encodeA('192.0.2.1'), encodeA('192.0.2.2')]);
        expect(canonicalRdata([Buffer.from([2]), Buffer.from([1]), Buffer.from([2])])).to.equal([Buffer.from([1]), Buffer.from([2])]);
    });

    it('refuses zones it cannot sign soundly', () => {

        const base = buildZone(demoSpec());
        const soa = base.find((set) => set.type === RrType.SOA)!;
        const txt = (name: string, ttl = 3600): RRset => ({ name, type: RrType.TXT, ttl, rdata: [encodeTxt('x')] });
        const cases: [RRset[], RegExp][] = [
            [base.filter((set) => set.type !== RrType.SOA), /exactly one SOA/],
            [[...base, { ...soa, name: 'sub.example.test' }], /exactly one SOA/],
            [[...base, txt('example.org')], /outside the zone/],
            [[...base, txt('*.example.test')], /wildcard/],
            [[...base, { name: ORIGIN, type: RrType.DNSKEY, ttl: 3600, rdata: [Buffer.alloc(4)] }], /signer makes itself/],
            [[...base, txt('t.example.test'), txt('t.example.test', 60)], /different TTLs/]
        ];
        for (const [rrsets, message] of cases) {
            expect(() => signZone(rrsets, { zsk: p256() }, window()), message.source).to.throw(InvalidZone, message);
        }

        const now = new Date();
        expect(() => signZone(base, { zsk: p256() }, { inception: now, expiration: now })).to.throw(InvalidZone, /after inception/);
        const same = p256();
        expect(() => signZone(base, { ksk: same, zsk: same }, window())).to.throw(InvalidZone, /different keys/);
    });
});
