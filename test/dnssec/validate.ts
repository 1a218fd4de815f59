import * as Crypto from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import type { DecodedMessage } from '../../lib/dns/decode';
import { nameToWire } from '../../lib/dns/name';
import { decodeSrv, encodeDnskey, encodeSrv, encodeTxt, encodeTypeBitmap, readWireName } from '../../lib/dns/rdata';
import { Rcode, RrType } from '../../lib/dns/types';
import { DnskeyFlags, keyTag, parseTrustAnchors, secureEntryPoints, signatureTime, signRRset, validateAnswer, validateDnskeys, ValidatingResolver, zoneKey, type KeyPair, type SignedZone, type TrustAnchor } from '../../lib/dnssec';
import { BogusRrsig, DnsQueryFailed, DnssecBogus, RrsigExpired, RrsigNotYetValid, TrustAnchorMismatch, UnsignedAnswer } from '../../lib/errors';
import { zoneExchange } from '../helpers/dns-server';
import { covering, denialReply, dnskeyReply, ldnsSignedZone, matching, NSEC3, nxdomainOwners, ORIGIN, recordsOf, resignedNsec3, validationTime, type LdnsZone, type Nsec3Options } from '../helpers/nsec3-zone';
import { anchorsOf, changeRRset, flipLastOctet, signedByOtherZone, signedIksZone, tamperSignatures } from '../helpers/signed-zone';
import { p256, signedDemoZone } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it } = lab;

interface ResolverOptions {
    readonly anchors?: TrustAnchor[];
    readonly tamper?: (reply: DecodedMessage, name: string, type: number) => DecodedMessage;
    readonly now?: () => number;
}

function resolverFor(zone: SignedZone, options: ResolverOptions = {}): ValidatingResolver {

    return new ValidatingResolver({
        zone: 'example.test',
        anchors: options.anchors ?? anchorsOf(zone),
        exchange: zoneExchange(zone, options.tamper),
        ...(options.now ? { now: options.now } : {})
    });
}

function rrsetOf(zone: SignedZone, name: string, type: number) {

    return zone.rrsets.find((rrset) => rrset.name === name && rrset.type === type)!;
}

/** Applies `change` to the answer of one question only. */
function onQuestion(qname: string, qtype: number, change: (reply: DecodedMessage) => DecodedMessage) {

    return (reply: DecodedMessage, name: string, type: number) => (name === qname && type === qtype ? change(reply) : reply);
}

/** A zone signed with a known key, so a test can re-sign one RRset with other times. */
function zoneWithKey(): { zone: SignedZone; zsk: KeyPair } {

    const zsk = p256();
    return { zone: signedIksZone({ zsk, srv: [{ priority: 10, weight: 1, port: 8080, target: 'iks.example.test' }], addresses: [{ name: 'iks.example.test', a: ['127.0.0.1'] }] }), zsk };
}

function resignedWithWindow(zone: SignedZone, zsk: KeyPair, name: string, type: number, inception: number, expiration: number): SignedZone {

    return changeRRset(zone, name, type, (rrset) => ({ ...rrset, signatures: [signRRset(rrset, zone.origin, zoneKey(zsk, DnskeyFlags.SEP), inception, expiration)] }));
}

describe('ValidatingResolver', () => {

    describe('accepts', () => {

        it('SRV, TXT, A and AAAA answers chained to a static-key anchor, returning the zone\'s own records', async () => {

            const zone = signedDemoZone();
            const resolver = resolverFor(zone);
            for (const [name, type] of [['_ikqs._tcp.example.test', RrType.SRV], ['sha256.k1.example.test', RrType.TXT], ['iks1.example.test', RrType.A], ['iks2.example.test', RrType.AAAA]] as const) {
                const answer = await resolver.resolve(name, type);
                expect(answer.kind, name).to.equal('answer');
                const rrset = answer.kind === 'answer' ? answer.rrset : null;
                expect(rrset!.rdata).to.equal(rrsetOf(zone, name, type).rdata);
                expect(rrset!.signature).to.include({ signer: 'example.test', keyTag: (await resolver.trustedKeys()).anchor.keyTag, algorithm: 13, expiration: zone.expiration, inception: zone.inception });
            }
        });

        it('every anchor form: static-key, initial-key, static-ds, initial-ds', async () => {

            const zone = signedDemoZone();
            for (const form of ['static-key', 'initial-key', 'static-ds', 'initial-ds'] as const) {
                const resolver = resolverFor(zone, { anchors: anchorsOf(zone, form) });
                expect((await resolver.resolve('_ikqs._tcp.example.test', RrType.SRV)).kind, form).to.equal('answer');
                expect((await resolver.trustedKeys()).anchor.form).to.equal(form);
            }
        });

        it('a zone whose KSK signs the DNSKEY RRset and whose ZSK signs the rest', async () => {

            const zone = signedDemoZone({ ksk: p256(), zsk: p256() });
            const resolver = resolverFor(zone);
            const answer = await resolver.resolve('_ikqs._tcp.example.test', RrType.SRV);
            const keys = await resolver.trustedKeys();
            expect(keys.keys).to.have.length(2);
            expect(answer.kind === 'answer' && answer.rrset.signature.keyTag).to.not.equal(keys.anchor.keyTag);
        });

        it('RSA/SHA-256 (algorithm 8) and Ed25519 (algorithm 15) zones', async () => {

            for (const [algorithm, zsk] of [[8, Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })], [15, Crypto.generateKeyPairSync('ed25519')]] as const) {
                const zone = signedDemoZone({ zsk });
                const answer = await resolverFor(zone).resolve('sha1.k1.example.test', RrType.TXT);
                expect(answer.kind === 'answer' && answer.rrset.signature.algorithm).to.equal(algorithm);
            }
        });

        it('a validated NXDOMAIN: the name and the wildcard at its closest encloser are covered', async () => {

            const zone = signedDemoZone();
            const answer = await resolverFor(zone).resolve('nothing.example.test', RrType.SRV);
            expect(answer.kind).to.equal('nxdomain');
            // sha256.k1 → ns1 covers the name, the apex NSEC covers *.example.test.
            expect(answer.kind !== 'answer' && answer.proof.map((rrset) => rrset.name).sort()).to.equal(['example.test', 'sha256.k1.example.test']);
            expect((await resolverFor(zone).resolve('a.b.sha256.k1.example.test', RrType.TXT)).kind).to.equal('nxdomain');
        });

        it('a validated NODATA at a name and at an empty non-terminal', async () => {

            const zone = signedDemoZone();
            expect((await resolverFor(zone).resolve('iks1.example.test', RrType.TXT)).kind).to.equal('nodata');
            expect((await resolverFor(zone).resolve('_tcp.example.test', RrType.SRV)).kind).to.equal('nodata');
            expect((await resolverFor(zone).resolve('k1.example.test', RrType.TXT)).kind).to.equal('nodata');
        });

        it('zone keys it cannot use are skipped, not trusted (revoked, other protocol, unknown algorithm)', async () => {

            const { zone, zsk } = zoneWithKey();
            const signer = zoneKey(zsk, DnskeyFlags.SEP);
            const extra = [Buffer.from([0x01, 0x81, 3, 13, ...Buffer.alloc(64, 7)]), Buffer.from([0x01, 0x00, 2, 13, ...Buffer.alloc(64, 7)]), Buffer.from([0x01, 0x00, 3, 250, 1, 2, 3])];
            const widened = changeRRset(zone, 'example.test', RrType.DNSKEY, (rrset) => {

                const rdata = [...rrset.rdata, ...extra].sort(Buffer.compare);
                return { ...rrset, rdata, signatures: [signRRset({ ...rrset, rdata }, 'example.test', signer, zone.inception, zone.expiration)] };
            });
            const keys = await resolverFor(widened).trustedKeys();
            expect(keys.dnskeys.rdata).to.have.length(4);
            expect(keys.keys.map((key) => key.tag)).to.equal([signer.keyTag]);
        });

        it('a retry after the DNSKEY RRset could not be fetched, instead of remembering the failure', async () => {

            const zone = signedDemoZone();
            const exchange = zoneExchange(zone);
            let failures = 1;
            const resolver = new ValidatingResolver({
                zone: 'example.test',
                anchors: anchorsOf(zone),
                exchange: (name, type) => (failures-- > 0 ? Promise.reject(new DnsQueryFailed('no answer')) : exchange(name, type))
            });
            await expect(resolver.resolve('iks1.example.test', RrType.A)).to.reject(DnsQueryFailed);
            expect((await resolver.resolve('iks1.example.test', RrType.A)).kind).to.equal('answer');
        });

        it('names in any case, canonicalising embedded names before checking the signature', async () => {

            const zone = signedDemoZone();
            const shouting = onQuestion('_ikqs._tcp.example.test', RrType.SRV, (reply) => ({
                ...reply,
                answers: reply.answers.map((record) => (record.type === RrType.SRV ? { ...record, rdata: encodeSrvUpper(record.rdata) } : record))
            }));
            const answer = await resolverFor(zone, { tamper: shouting }).resolve('_IKQS._tcp.Example.TEST', RrType.SRV);
            expect(answer.kind === 'answer' && answer.rrset.rdata).to.equal(rrsetOf(zone, '_ikqs._tcp.example.test', RrType.SRV).rdata);
        });
    });

    describe('rejects', () => {

        it('a zone whose keys do not match the trust anchor (TrustAnchorMismatch)', async () => {

            const zone = signedDemoZone();
            await expect(resolverFor(zone, { anchors: anchorsOf(signedDemoZone()) }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(TrustAnchorMismatch, /no DNSKEY of example\.test .* matches/);
            await expect(resolverFor(zone, { anchors: anchorsOf(signedDemoZone(), 'static-ds') }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(TrustAnchorMismatch);
            await expect(resolverFor(zone, { anchors: [{ ...anchorsOf(zone)[0]!, zone: 'other.test' }] }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(TrustAnchorMismatch, /no anchor for example\.test/);
        });

        it('a DNSKEY RRset signed only by a key the anchor does not name', async () => {

            const zone = signedDemoZone({ ksk: p256(), zsk: p256() });
            const zsk = rrsetOf(zone, 'example.test', RrType.DNSKEY).rdata.find((rdata) => rdata.readUInt16BE(0) === DnskeyFlags.ZONE)!;
            const anchors: TrustAnchor[] = [{ zone: 'example.test', form: 'static-key', rdata: zsk }];
            await expect(resolverFor(zone, { anchors }).trustedKeys()).to.reject(TrustAnchorMismatch, /not signed by the anchored key/);
        });

        it('an answer without a DNSKEY RRset', async () => {

            const zone = signedDemoZone();
            const empty = onQuestion('example.test', RrType.DNSKEY, (reply) => ({ ...reply, answers: [] }));
            await expect(resolverFor(zone, { tamper: empty }).trustedKeys()).to.reject(TrustAnchorMismatch, /without a DNSKEY RRset/);
        });

        it('a tampered RRSIG over the SRV, or over the DNSKEY RRset (BogusRrsig)', async () => {

            const zone = signedDemoZone();
            await expect(resolverFor(tamperSignatures(zone, '_ikqs._tcp.example.test', RrType.SRV)).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(BogusRrsig, /RRSIG over _ikqs\._tcp\.example\.test SRV by key \d+ does not verify/);
            await expect(resolverFor(tamperSignatures(zone, 'example.test', RrType.DNSKEY)).trustedKeys()).to.reject(BogusRrsig, /example\.test DNSKEY .* does not verify/);
        });

        it('SRV data changed under its valid RRSIG', async () => {

            const zone = signedDemoZone();
            const redirect = onQuestion('_ikqs._tcp.example.test', RrType.SRV, (reply) => ({
                ...reply,
                answers: reply.answers.map((record) => (record.type === RrType.SRV ? { ...record, rdata: encodeSrv({ ...decodeSrv(record.rdata), port: 6666 }) } : record))
            }));
            await expect(resolverFor(zone, { tamper: redirect }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(BogusRrsig, /does not verify/);
        });

        it('an RRSIG made by another zone, or by a key the zone does not publish', async () => {

            const zone = signedDemoZone();
            await expect(resolverFor(signedByOtherZone(zone, '_ikqs._tcp.example.test', RrType.SRV, 'evil.test')).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(BogusRrsig, /signed by zone "evil\.test", not by the anchored zone example\.test/);
            const impostor = signedByOtherZone(zone, 'sha256.k1.example.test', RrType.TXT, 'example.test');
            await expect(resolverFor(impostor).resolve('sha256.k1.example.test', RrType.TXT)).to.reject(BogusRrsig, /not a trusted key of example\.test|does not verify/);
        });

        it('an expired RRSIG, and one not valid yet', async () => {

            const { zone, zsk } = zoneWithKey();
            const now = Math.floor(Date.now() / 1000);
            const expired = resignedWithWindow(zone, zsk, '_ikqs._tcp.example.test', RrType.SRV, now - 20 * 86400, now - 86400);
            await expect(resolverFor(expired).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(RrsigExpired, /RRSIG over _ikqs\._tcp\.example\.test SRV expired at/);
            const early = resignedWithWindow(zone, zsk, 'iks.example.test', RrType.A, now + 86400, now + 20 * 86400);
            await expect(resolverFor(early).resolve('iks.example.test', RrType.A)).to.reject(RrsigNotYetValid, /valid only from/);
            const backwards = resignedWithWindow(zone, zsk, 'iks.example.test', RrType.A, now + 100, now - 100);
            await expect(resolverFor(backwards).resolve('iks.example.test', RrType.A)).to.reject(BogusRrsig, /expires before its inception/);
            // The whole zone past its window: the DNSKEY RRset is the first to fail.
            await expect(resolverFor(zone, { now: () => (zone.expiration + 60) * 1000 }).trustedKeys()).to.reject(RrsigExpired, /example\.test DNSKEY/);
        });

        it('keys whose RRSIG ran out since they were validated', async () => {

            const zone = signedDemoZone();
            let now = Date.now();
            const resolver = resolverFor(zone, { now: () => now });
            expect((await resolver.resolve('iks1.example.test', RrType.A)).kind).to.equal('answer');
            now = (zone.expiration + 1) * 1000;
            await expect(resolver.resolve('iks1.example.test', RrType.A)).to.reject(RrsigExpired);
        });

        it('an answer whose RRSIGs were removed (UnsignedAnswer)', async () => {

            const zone = signedDemoZone();
            const unsigned = onQuestion('_ikqs._tcp.example.test', RrType.SRV, (reply) => ({ ...reply, answers: reply.answers.filter((record) => record.type !== RrType.RRSIG) }));
            await expect(resolverFor(zone, { tamper: unsigned }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(UnsignedAnswer, /_ikqs\._tcp\.example\.test SRV arrived without an RRSIG/);
            const unsignedNsec = onQuestion('nothing.example.test', RrType.A, (reply) => ({ ...reply, authorities: reply.authorities.filter((record) => record.type !== RrType.RRSIG) }));
            await expect(resolverFor(zone, { tamper: unsignedNsec }).resolve('nothing.example.test', RrType.A)).to.reject(UnsignedAnswer, /NSEC arrived without an RRSIG/);
        });

        it('an empty answer or NXDOMAIN without any NSEC: records stripped, not a proof', async () => {

            const zone = signedDemoZone();
            const stripped = onQuestion('_ikqs._tcp.example.test', RrType.SRV, (reply) => ({ ...reply, answers: [], authorities: [] }));
            const error = await expect(resolverFor(zone, { tamper: stripped }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(DnssecBogus, /NOERROR without any NSEC proof/);
            expect(error.code).to.equal('DNSSEC_BOGUS');
            const fakeNxdomain = onQuestion('_ikqs._tcp.example.test', RrType.SRV, (reply) => ({ ...reply, rcode: Rcode.NXDOMAIN, answers: [], authorities: [] }));
            await expect(resolverFor(zone, { tamper: fakeNxdomain }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(DnssecBogus, /NXDOMAIN without any NSEC proof/);
        });

        it('an NXDOMAIN missing the proof that no wildcard exists', async () => {

            const zone = signedDemoZone();
            const noWildcardProof = onQuestion('nothing.example.test', RrType.A, (reply) => ({ ...reply, authorities: reply.authorities.filter((record) => record.name !== 'example.test') }));
            await expect(resolverFor(zone, { tamper: noWildcardProof }).resolve('nothing.example.test', RrType.A)).to.reject(DnssecBogus, /does not prove that \*\.example\.test is absent/);
        });

        it('a denial replayed for a name that exists, or a type that exists', async () => {

            const zone = signedDemoZone();
            const resolver = resolverFor(zone);
            const keys = await resolver.trustedKeys();
            const exchange = zoneExchange(zone);
            const now = Math.floor(Date.now() / 1000);
            const nxdomain = await exchange('nothing.example.test', RrType.A);
            expect(() => validateAnswer(nxdomain, 'ns1.example.test', RrType.A, keys, now)).to.throw(DnssecBogus, /without an NSEC that covers the name/);
            const nodata = await exchange('iks1.example.test', RrType.TXT);
            expect(() => validateAnswer(nodata, 'iks1.example.test', RrType.A, keys, now)).to.throw(DnssecBogus, /lists A, yet no A records came/);
            expect(() => validateAnswer(nodata, 'iks2.example.test', RrType.A, keys, now)).to.throw(DnssecBogus, /no NSEC proves that iks2\.example\.test has no A records/);
            expect(() => validateAnswer({ ...nodata, rcode: Rcode.NXDOMAIN }, 'iks1.example.test', RrType.TXT, keys, now)).to.throw(DnssecBogus, /without an NSEC that covers/);
        });

        it('records that come with NXDOMAIN, and names outside the anchored zone', async () => {

            const zone = signedDemoZone();
            const keys = await resolverFor(zone).trustedKeys();
            const reply = await zoneExchange(zone)('iks1.example.test', RrType.A);
            const now = Math.floor(Date.now() / 1000);
            expect(() => validateAnswer({ ...reply, rcode: Rcode.NXDOMAIN }, 'iks1.example.test', RrType.A, keys, now)).to.throw(DnssecBogus, /records and NXDOMAIN/);
            expect(() => validateAnswer(reply, 'iks1.example.org', RrType.A, keys, now)).to.throw(DnssecBogus, /outside the anchored zone/);
        });

        it('RRSIGs whose labels, algorithm or shape do not fit', async () => {

            const zone = signedDemoZone();
            const name = '_ikqs._tcp.example.test';
            const edit = (change: (rdata: Buffer) => Buffer) => changeRRset(zone, name, RrType.SRV, (rrset) => ({ ...rrset, signatures: rrset.signatures.map((rdata) => change(Buffer.from(rdata))) }));
            const labels = edit((rdata) => {

                rdata[3] = 3;                       // as if expanded from *.example.test (RFC 4035 §5.3.4)
                return rdata;
            });
            await expect(resolverFor(labels).resolve(name, RrType.SRV)).to.reject(BogusRrsig, /has 3 labels, the owner 4/);
            const algorithm = edit((rdata) => {

                rdata[2] = 8;
                return rdata;
            });
            await expect(resolverFor(algorithm).resolve(name, RrType.SRV)).to.reject(BogusRrsig, /algorithm 8\), which is not a trusted key/);
            await expect(resolverFor(edit((rdata) => rdata.subarray(0, 19))).resolve(name, RrType.SRV)).to.reject(BogusRrsig, /too short/);
            await expect(resolverFor(edit((rdata) => rdata.subarray(0, 30))).resolve(name, RrType.SRV)).to.reject(BogusRrsig, /malformed/);
        });

        it('RDATA that cannot be put in canonical form', async () => {

            const zone = signedDemoZone();
            const keys = await resolverFor(zone).trustedKeys();
            const reply = await zoneExchange(zone)('_ikqs._tcp.example.test', RrType.SRV);
            const broken = { ...reply, answers: reply.answers.map((record) => (record.type === RrType.SRV ? { ...record, rdata: Buffer.from([0, 1, 0, 1, 0, 80, 9, 0x61]) } : record)) };
            expect(() => validateAnswer(broken, '_ikqs._tcp.example.test', RrType.SRV, keys, Math.floor(Date.now() / 1000))).to.throw(DnssecBogus, /SRV has malformed RDATA/);
        });

        it('a server failure as DnsQueryFailed, not as a proof of anything', async () => {

            const zone = signedDemoZone();
            const failing = onQuestion('_ikqs._tcp.example.test', RrType.SRV, (reply) => ({ ...reply, rcode: Rcode.SERVFAIL }));
            await expect(resolverFor(zone, { tamper: failing }).resolve('_ikqs._tcp.example.test', RrType.SRV)).to.reject(DnsQueryFailed, /answered SERVFAIL/);
        });

        it('a denial proven only by an NSEC whose RDATA is garbage, and two NSEC records at one name', async () => {

            const zsk = p256();
            const zone = signedDemoZone({ zsk });
            const garbage = changeRRset(zone, 'iks1.example.test', RrType.NSEC, (rrset) => {

                const rdata = [Buffer.from([0x41, 0x00])];
                return { ...rrset, rdata, signatures: [signRRset({ ...rrset, rdata }, 'example.test', zoneKey(zsk, DnskeyFlags.SEP), zone.inception, zone.expiration)] };
            });
            await expect(resolverFor(garbage).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /NSEC of iks1\.example\.test is malformed/);
            const doubled = changeRRset(zone, 'iks1.example.test', RrType.NSEC, (rrset) => {

                const rdata = [...rrset.rdata, Buffer.concat([rrset.rdata[0]!, Buffer.from([0])])];
                return { ...rrset, rdata, signatures: [signRRset({ ...rrset, rdata }, 'example.test', zoneKey(zsk, DnskeyFlags.SEP), zone.inception, zone.expiration)] };
            });
            await expect(resolverFor(doubled).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /2 NSEC records/);
        });

        it('a genuine NSEC whose next name has a "." inside a label, replayed as NODATA for the name it would seem to cover', async () => {

            // The zone holds `a\.b.example.test` (one label "a.b") and b.example.test TXT; its
            // apex NSEC names `a\.b` as next, which read as `a.b` would "cover" b.example.test.
            const zsk = p256();
            const zone = signedIksZone({ zsk, extra: [{ name: 'b.example.test', type: RrType.TXT, ttl: 3600, rdata: [encodeTxt('exists')] }] });
            const next = Buffer.concat([Buffer.from([3]), Buffer.from('a.b', 'latin1'), nameToWire('example.test')]);
            const nsec = { name: 'example.test', type: RrType.NSEC, ttl: 300, rdata: [Buffer.concat([next, encodeTypeBitmap([RrType.NS, RrType.SOA, RrType.RRSIG, RrType.NSEC, RrType.DNSKEY])])] };
            const rrsig = signRRset(nsec, 'example.test', zoneKey(zsk, DnskeyFlags.SEP), zone.inception, zone.expiration);
            const replayed = onQuestion('b.example.test', RrType.TXT, (reply) => ({
                ...reply,
                answers: [],
                authorities: [{ name: 'example.test', type: RrType.NSEC, class: 1, ttl: 300, rdata: nsec.rdata[0]! }, { name: 'example.test', type: RrType.RRSIG, class: 1, ttl: 300, rdata: rrsig }]
            }));
            expect((await resolverFor(zone).resolve('b.example.test', RrType.TXT)).kind).to.equal('answer');
            await expect(resolverFor(zone, { tamper: replayed }).resolve('b.example.test', RrType.TXT)).to.reject(DnssecBogus, /NSEC of example\.test is malformed/);
        });

        it('an NSEC whose type bit map RFC 4034 §4.1.2 says must not be interpreted (windows out of order)', async () => {

            const zsk = p256();
            const zone = signedDemoZone({ zsk });
            // Window 1 before window 0: read leniently, it lists A and TYPE257 and denies TXT.
            const misordered = changeRRset(zone, 'iks1.example.test', RrType.NSEC, (rrset) => {

                const rdata = [Buffer.concat([readWireNameOctets(rrset.rdata[0]!), Buffer.from([1, 1, 0x40, 0, 1, 0x40])])];
                return { ...rrset, rdata, signatures: [signRRset({ ...rrset, rdata }, 'example.test', zoneKey(zsk, DnskeyFlags.SEP), zone.inception, zone.expiration)] };
            });
            await expect(resolverFor(misordered).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /NSEC of iks1\.example\.test is malformed/);
        });

        it('a zone key of 1024 bits whose modulus is padded with zero octets to 256 (RFC 3110 §2)', () => {

            const pair = Crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
            const jwk = pair.publicKey.export({ format: 'jwk' });
            const exponent = Buffer.from(jwk.e!, 'base64url');
            const modulus = Buffer.from(jwk.n!, 'base64url');
            const dnskey = encodeDnskey({ flags: DnskeyFlags.SEP, algorithm: 8, publicKey: Buffer.concat([Buffer.from([exponent.length]), exponent, Buffer.alloc(256 - modulus.length), modulus]) });
            const key = { algorithm: 8, flags: DnskeyFlags.SEP, dnskey, keyTag: keyTag(dnskey), privateKey: pair.privateKey };
            const now = Math.floor(Date.now() / 1000);
            const rrset = { name: 'example.test', type: RrType.DNSKEY, ttl: 3600, rdata: [dnskey] };
            const rrsig = signRRset(rrset, 'example.test', key, now - 60, now + 3600);
            const reply: DecodedMessage = {
                id: 1, qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false, rcode: Rcode.NOERROR, question: null,
                answers: [{ name: 'example.test', type: RrType.DNSKEY, class: 1, ttl: 3600, rdata: dnskey }, { name: 'example.test', type: RrType.RRSIG, class: 1, ttl: 3600, rdata: rrsig }],
                authorities: [], additionals: [], edns: null
            };
            const anchors = parseTrustAnchors(`trust-anchors { example.test. static-key 257 3 8 "${dnskey.subarray(4).toString('base64')}"; };`);
            expect(() => validateDnskeys('example.test', reply, anchors, now)).to.throw(TrustAnchorMismatch, /no DNSKEY of example\.test/);
        });
    });
});

describe('NSEC3 denials (zones signed by ldns-signzone -n)', () => {

    // No salt and no iterations (RFC 9276), an RFC 5155 App. A style salt, the iteration cap with an ECDSA key.
    const parameterSets: Nsec3Options[] = [{ salt: '', iterations: 0 }, { salt: 'aabbccdd', iterations: 5 }, { salt: 'c4'.repeat(16), iterations: 100, algorithm: 'ECDSAP256SHA256' }];
    const standard = () => ldnsSignedZone({ salt: 'aabbccdd', iterations: 5 });

    /** A resolver whose server answers the zone's DNSKEY RRset, and `reply` to everything else. */
    function resolverAnswering(zone: LdnsZone, reply: DecodedMessage): ValidatingResolver {

        return new ValidatingResolver({
            zone: ORIGIN,
            anchors: zone.anchors,
            exchange: (name, type) => Promise.resolve(name === ORIGIN && type === RrType.DNSKEY ? dnskeyReply(zone) : reply),
            now: () => validationTime() * 1000
        });
    }

    const denied = (zone: LdnsZone, rcode: number, owners: readonly string[]) => resolverAnswering(zone, denialReply(zone, rcode, owners));

    /** A reply with other NSEC3 records (and their RRSIGs) added to the authority section. */
    const adding = (reply: DecodedMessage, records: DecodedMessage['authorities']) => ({ ...reply, authorities: [...reply.authorities, ...records] });

    describe('accepts', () => {

        it('NXDOMAIN by closest encloser proof, NODATA, NODATA at an empty non-terminal and DS at an unsigned delegation', async () => {

            for (const options of parameterSets) {
                const zone = ldnsSignedZone(options);
                const what = JSON.stringify(options);
                for (const [qname, encloser, nextCloser] of [['nothing.example.test', ORIGIN, 'nothing.example.test'], ['a.b.sha256.k1.example.test', 'sha256.k1.example.test', 'b.sha256.k1.example.test']] as const) {
                    const owners = nxdomainOwners(zone, encloser, nextCloser);
                    const answer = await denied(zone, Rcode.NXDOMAIN, owners).resolve(qname, RrType.TXT);
                    expect(answer.kind, `${qname} ${what}`).to.equal('nxdomain');
                    const proof = answer.kind === 'answer' ? [] : answer.proof;
                    expect(proof.map((rrset) => rrset.name).sort()).to.equal([...new Set(owners)].sort());
                    expect(proof.every((rrset) => rrset.type === NSEC3 && rrset.signature.keyTag === zone.key.keyTag)).to.be.true();
                }

                for (const [qname, qtype] of [['iks1.example.test', RrType.TXT], ['k1.example.test', RrType.TXT], ['_tcp.example.test', RrType.SRV], ['sub.example.test', RrType.DS]] as const) {
                    const answer = await denied(zone, Rcode.NOERROR, [matching(zone, qname)]).resolve(qname, qtype);
                    expect(answer.kind, `${qname} ${what}`).to.equal('nodata');
                }
            }
        });
    });

    describe('rejects', () => {

        it('an NSEC3 denial with NSEC3 records removed: all of them, the next closer cover, the wildcard cover, the name\'s own', async () => {

            const zone = standard();
            const [apex, nextCloser, wildcard] = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
            expect(new Set([apex, nextCloser, wildcard]).size).to.equal(3);
            await expect(denied(zone, Rcode.NXDOMAIN, []).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /NXDOMAIN without any NSEC proof \(neither NSEC nor NSEC3/);
            await expect(denied(zone, Rcode.NXDOMAIN, [apex!, wildcard!]).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /no NSEC3 covers nothing\.example\.test, the next closer name/);
            await expect(denied(zone, Rcode.NXDOMAIN, [apex!, nextCloser!]).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /no NSEC3 proves that \*\.example\.test is absent/);
            await expect(denied(zone, Rcode.NOERROR, []).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /NOERROR without any NSEC proof/);
            await expect(denied(zone, Rcode.NOERROR, [apex!]).resolve('k1.example.test', RrType.TXT)).to.reject(DnssecBogus, /no NSEC3 matches k1\.example\.test/);
        });

        it('an NSEC3 NXDOMAIN with a wrong closest encloser or wildcard proof, or for a name that exists', async () => {

            const zone = standard();
            const [apex, nextCloser, wildcard] = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
            // y.sha256.k1's closest encloser is sha256.k1; the apex cannot stand in for it.
            const skipping = [apex!, covering(zone, 'y.sha256.k1.example.test'), wildcard!];
            await expect(denied(zone, Rcode.NXDOMAIN, skipping).resolve('y.sha256.k1.example.test', RrType.TXT)).to.reject(DnssecBogus, /no NSEC3 covers k1\.example\.test, the next closer name below the closest encloser example\.test/);
            await expect(denied(zone, Rcode.NXDOMAIN, [apex!, nextCloser!, matching(zone, 'iks1.example.test')]).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /\*\.example\.test is absent/);
            await expect(denied(zone, Rcode.NXDOMAIN, [matching(zone, 'iks1.example.test'), apex!]).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /NSEC3 of iks1\.example\.test matches the name: it exists/);
            const wild = [matching(zone, 'w.example.test'), covering(zone, 'x.w.example.test'), matching(zone, '*.w.example.test')];
            await expect(denied(zone, Rcode.NXDOMAIN, wild).resolve('x.w.example.test', RrType.TXT)).to.reject(DnssecBogus, /\*\.w\.example\.test exists/);
            const delegated = [matching(zone, 'sub.example.test'), covering(zone, 'x.sub.example.test'), covering(zone, '*.sub.example.test')];
            await expect(denied(zone, Rcode.NXDOMAIN, delegated).resolve('x.sub.example.test', RrType.TXT)).to.reject(DnssecBogus, /closest encloser sub\.example\.test is a zone cut/);
        });

        it('an NSEC3 from another chain (another salt) in the proof', async () => {

            const zone = standard();
            const other = ldnsSignedZone({ salt: '0102', iterations: 5 });
            const [apex, nextCloser] = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
            const mixed = adding(denialReply(zone, Rcode.NXDOMAIN, [apex!, nextCloser!]), recordsOf(other, covering(other, '*.example.test'), NSEC3));
            await expect(resolverAnswering(zone, mixed).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /belong to different chains \(hash algorithm, iterations or salt differ\)/);
        });

        it('an NSEC3 whose RRSIG is broken, or missing', async () => {

            const zone = standard();
            const owners = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
            const reply = denialReply(zone, Rcode.NXDOMAIN, owners);
            const isRrsigOver = (record: DecodedMessage['authorities'][number], owner: string) => record.name === owner && record.type === RrType.RRSIG;
            const broken = { ...reply, authorities: reply.authorities.map((record) => (isRrsigOver(record, owners[2]!) ? { ...record, rdata: flipLastOctet(record.rdata) } : record)) };
            await expect(resolverAnswering(zone, broken).resolve('nothing.example.test', RrType.TXT)).to.reject(BogusRrsig, new RegExp(`the RRSIG over ${owners[2]!.replace(/\./g, '\\.')} NSEC3 by key \\d+ does not verify`));
            const unsigned = { ...reply, authorities: reply.authorities.filter((record) => !isRrsigOver(record, owners[0]!)) };
            await expect(resolverAnswering(zone, unsigned).resolve('nothing.example.test', RrType.TXT)).to.reject(UnsignedAnswer, /NSEC3 arrived without an RRSIG/);
        });

        it('an NSEC3 NXDOMAIN whose next closer name is covered by an opt-out NSEC3, and an opt-out DS denial', async () => {

            const zone = ldnsSignedZone({ salt: '', iterations: 0, optOut: true });
            const owners = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
            await expect(denied(zone, Rcode.NXDOMAIN, owners).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /NSEC3 covering nothing\.example\.test has opt-out set, so nothing\.example\.test may be an unsigned delegation; IKS needs a signed denial/);
            await expect(denied(zone, Rcode.NOERROR, owners.slice(0, 2)).resolve('nothing.example.test', RrType.DS)).to.reject(DnssecBogus, /no NSEC3 matches nothing\.example\.test \(an opt-out denial of DS/);
        });

        it('NSEC3 with more hash iterations than 100', async () => {

            const zone = ldnsSignedZone({ salt: '', iterations: 101 });
            await expect(denied(zone, Rcode.NXDOMAIN, nxdomainOwners(zone, ORIGIN, 'nothing.example.test')).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /uses 101 hash iterations; IKS refuses more than 100 \(RFC 9276 §3\.2\)/);
            await expect(denied(zone, Rcode.NOERROR, [matching(zone, 'iks1.example.test')]).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /101 hash iterations/);
        });

        it('NSEC3 with an unknown hash algorithm or unknown flags, though signed by the zone', async () => {

            const zone = standard();
            const soa = recordsOf(zone, ORIGIN, RrType.SOA);
            const withAlgorithm2 = (rdata: Buffer) => Buffer.concat([Buffer.from([2]), rdata.subarray(1)]);
            const owners = nxdomainOwners(zone, ORIGIN, 'nothing.example.test');
            const unknownAlgorithm = { ...denialReply(zone, Rcode.NXDOMAIN, []), authorities: [...soa, ...owners.flatMap((owner) => resignedNsec3(zone, owner, withAlgorithm2))] };
            await expect(resolverAnswering(zone, unknownAlgorithm).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /no usable NSEC3 record of example\.test \(NSEC3 with unknown hash algorithm 2 ignored \(RFC 5155 §8\.1\)\)/);
            const withFlag2 = (rdata: Buffer) => Buffer.concat([rdata.subarray(0, 1), Buffer.from([0x02]), rdata.subarray(2)]);
            const unknownFlags = { ...denialReply(zone, Rcode.NOERROR, []), authorities: [...soa, ...resignedNsec3(zone, matching(zone, 'iks1.example.test'), withFlag2)] };
            await expect(resolverAnswering(zone, unknownFlags).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /NSEC3 with unknown flags 0x2 ignored \(RFC 5155 §8\.2\)/);
            // The same records unchanged but re-signed by the test's copy of the key: accepted.
            const resigned = { ...denialReply(zone, Rcode.NOERROR, []), authorities: [...soa, ...resignedNsec3(zone, matching(zone, 'iks1.example.test'), (rdata) => rdata)] };
            expect((await resolverAnswering(zone, resigned).resolve('iks1.example.test', RrType.TXT)).kind).to.equal('nodata');
        });

        it('an NSEC3 NODATA whose matching NSEC3 lists the type, is an alias, or is a delegation\'s', async () => {

            const zone = standard();
            await expect(denied(zone, Rcode.NOERROR, [matching(zone, 'iks1.example.test')]).resolve('iks1.example.test', RrType.A)).to.reject(DnssecBogus, /the NSEC3 of iks1\.example\.test lists A, yet no A records came/);
            await expect(denied(zone, Rcode.NOERROR, [matching(zone, 'alias.example.test')]).resolve('alias.example.test', RrType.TXT)).to.reject(DnssecBogus, /alias \(CNAME\)/);
            await expect(denied(zone, Rcode.NOERROR, [matching(zone, 'sub.example.test')]).resolve('sub.example.test', RrType.TXT)).to.reject(DnssecBogus, /sub\.example\.test is a delegation; its parent-side NSEC3 cannot deny TXT/);
        });

        it('NSEC3 records it does not consider: of another zone, at an owner that is no hash label, two at one owner, more than 8', async () => {

            const zone = standard();
            const own = matching(zone, 'iks1.example.test');
            const original = recordsOf(zone, own, NSEC3)[0]!;
            const signedAt = (owner: string, rdata: Buffer[]) => [
                ...rdata.map((octets) => ({ ...original, name: owner, rdata: octets })),
                { ...original, name: owner, type: RrType.RRSIG, rdata: signRRset({ name: owner, type: NSEC3, ttl: original.ttl, rdata }, ORIGIN, zone.key, zone.inception, zone.expiration) }
            ];
            const soaOnly = denialReply(zone, Rcode.NOERROR, []);

            const foreign = adding(soaOnly, [{ ...original, name: `${own.split('.')[0]}.example.org` }]);
            await expect(resolverAnswering(zone, { ...foreign, rcode: Rcode.NXDOMAIN }).resolve('nothing.example.test', RrType.TXT)).to.reject(DnssecBogus, /NXDOMAIN without any NSEC proof/);
            await expect(resolverAnswering(zone, adding(soaOnly, signedAt('iks1.example.test', [original.rdata]))).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /NSEC3 owner iks1\.example\.test is not a base32hex hash label directly below example\.test/);
            await expect(resolverAnswering(zone, adding(soaOnly, signedAt(own, [original.rdata, Buffer.concat([original.rdata, Buffer.from([0, 1, 0x40])])]))).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /2 NSEC3 records; a name owns exactly one/);
            await expect(denied(zone, Rcode.NOERROR, [...zone.nsec3.keys()].map((label) => `${label}.${ORIGIN}`)).resolve('iks1.example.test', RrType.TXT)).to.reject(DnssecBogus, /12 NSEC3 records in one answer, more than the 8 IKS considers/);
        });
    });
});

describe('signatureTime()', () => {

    it('reads 32-bit RRSIG times with serial arithmetic, across the 2106 wrap (RFC 4034 §3.1.5)', () => {

        const now = 1_700_000_000;
        expect(signatureTime(now + 100, now)).to.equal(now + 100);
        expect(signatureTime(now - 100, now)).to.equal(now - 100);
        const after2106 = 2 ** 32 + 500;
        expect(signatureTime(after2106 % 2 ** 32, 2 ** 32 - 500)).to.equal(after2106);
        expect(signatureTime(2 ** 32 - 500, after2106)).to.equal(2 ** 32 - 500);
    });
});

/** The next-name octets at the start of NSEC RDATA. */
function readWireNameOctets(rdata: Buffer): Buffer {

    return rdata.subarray(0, readWireName(rdata, 0).next);
}

function encodeSrvUpper(rdata: Buffer): Buffer {

    const srv = decodeSrv(rdata);
    return encodeSrvRaw(srv.priority, srv.weight, srv.port, srv.target.toUpperCase());
}

/** SRV RDATA keeping the target's case (encodeSrv lowercases, as a signer must). */
function encodeSrvRaw(priority: number, weight: number, port: number, target: string): Buffer {

    const head = Buffer.alloc(6);
    head.writeUInt16BE(priority, 0);
    head.writeUInt16BE(weight, 2);
    head.writeUInt16BE(port, 4);
    const labels = target.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')]));
    return Buffer.concat([head, ...labels, Buffer.from([0])]);
}

describe('trust anchor and signer agree', () => {

    it('anchors the key the signer publishes as secure entry point (trustAnchorFile)', async () => {

        const zone = signedDemoZone({ ksk: p256(), zsk: p256() });
        const keys = await resolverFor(zone).trustedKeys();
        expect(keys.keys.map((key) => key.rdata)).to.contain(secureEntryPoints(zone)[0]!);
        expect(keys.dnskeys.rdata.find((rdata) => rdata.readUInt16BE(0) === DnskeyFlags.SEP)).to.equal(secureEntryPoints(zone)[0]!);
    });
});
