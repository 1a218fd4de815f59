import * as Crypto from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { decodeTxt, rdataToText } from '../../lib/dns/rdata';
import { DnsFormatError, RrType } from '../../lib/dns/types';
import { InvalidZone } from '../../lib/dnssec';
import { buildZone, kskCommitmentRecords } from '../../lib/zone/spec';
import { demoSpec, ORIGIN, p256 } from './fixture';

export const lab = Lab.script();
const { describe, it } = lab;

describe('buildZone()', () => {

    it('builds SOA, NS, addresses, both SRV services and the KSK commitments', () => {

        const ksk = p256();
        const spki = ksk.publicKey.export({ type: 'spki', format: 'der' });
        const rrsets = buildZone(demoSpec(ksk, 1));
        const find = (name: string, type: number) => rrsets.find((set) => set.name === name && set.type === type);

        expect(rdataToText(RrType.SOA, find(ORIGIN, RrType.SOA)!.rdata[0]!)).to.equal('ns1.example.test. hostmaster.example.test. 2024010101 3600 600 1209600 300');
        expect(find(ORIGIN, RrType.NS)!.rdata.length).to.equal(1);
        expect(find('iks3.example.test', RrType.AAAA)!.rdata.length).to.equal(1);
        for (const service of ['_ikqs._tcp', '_ikrs._tcp']) {
            expect(find(`${service}.${ORIGIN}`, RrType.SRV)!.rdata.map((rdata) => rdataToText(RrType.SRV, rdata).split(' ')[3])).to.equal(['iks1.example.test.', 'iks2.example.test.', 'iks3.example.test.']);
        }

        const sha256 = decodeTxt(find(`sha256.k1.${ORIGIN}`, RrType.TXT)!.rdata[0]!)[0]!.toString();
        const sha1 = decodeTxt(find(`sha1.k1.${ORIGIN}`, RrType.TXT)!.rdata[0]!)[0]!.toString();
        expect(sha256).to.equal(Crypto.createHash('sha256').update(spki).digest('hex'));
        expect(sha1).to.equal(Crypto.createHash('sha1').update(spki).digest('hex'));
        expect(rrsets.every((set) => set.ttl === 3600)).to.be.true();
    });

    it('names the commitment records sha1.K.D and sha256.K.D', () => {

        const records = kskCommitmentRecords('Example.TEST', 'K1', Buffer.from('spki'));
        expect(records.map((record) => record.name)).to.equal(['sha1.k1.example.test', 'sha256.k1.example.test']);
    });

    it('rejects records outside the zone, bad addresses and a zone without nameserver', () => {

        expect(() => buildZone({ ...demoSpec(), addresses: [{ name: 'iks.example.org', a: ['192.0.2.1'] }] })).to.throw(InvalidZone, /outside/);
        expect(() => buildZone({ ...demoSpec(), addresses: [{ name: 'iks.example.test', a: ['::1'] }] })).to.throw(DnsFormatError);
        expect(() => buildZone({ ...demoSpec(), nameservers: [] })).to.throw(InvalidZone, /nameserver/);
    });
});
