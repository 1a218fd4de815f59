import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { RrType } from '../../lib/dns/types';
import { dsRecord, InvalidSignedZone, needsResign, parseSignedZone, secureEntryPoints, serializeSignedZone, trustAnchorFile } from '../../lib/dnssec';
import { p256, signedDemoZone } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it } = lab;

describe('serializeSignedZone() / parseSignedZone()', () => {

    it('round-trips a signed zone', () => {

        const zone = signedDemoZone();
        const text = serializeSignedZone(zone);
        expect(parseSignedZone(text)).to.equal(zone);
        expect(JSON.parse(text).format).to.equal('iks-signed-zone/1');
    });

    it('says what is wrong with an unusable file', () => {

        const json = JSON.parse(serializeSignedZone(signedDemoZone()));
        const variants: [unknown, RegExp][] = [
            [{ ...json, format: 'other' }, /invalid/],
            [{ ...json, origin: 'a..b' }, /invalid name/],
            [{ ...json, rrsets: [...json.rrsets, { ...json.rrsets[0], name: 'example.org' }] }, /outside/],
            [{ ...json, rrsets: json.rrsets.filter((set: { type: number }) => set.type !== RrType.SOA) }, /no SOA/],
            [{ ...json, rrsets: json.rrsets.filter((set: { type: number }) => set.type !== RrType.DNSKEY) }, /no DNSKEY/]
        ];
        for (const [value, message] of variants) {
            expect(() => parseSignedZone(JSON.stringify(value))).to.throw(InvalidSignedZone, message);
        }

        expect(() => parseSignedZone('{')).to.throw(InvalidSignedZone, /not JSON/);
    });
});

describe('needsResign()', () => {

    it('asks for new signatures shortly before expiration and before inception', () => {

        const zone = signedDemoZone();
        const expiration = zone.expiration * 1000;
        const day = 86_400_000;
        expect(needsResign(zone, new Date(expiration - 3 * day), 2 * day)).to.be.false();
        expect(needsResign(zone, new Date(expiration - day), 2 * day)).to.be.true();
        expect(needsResign(zone, new Date(zone.inception * 1000 - 1), 0)).to.be.true();
    });
});

describe('trustAnchorFile() and dsRecord()', () => {

    it('publishes only the secure entry point, in DNSKEY and DS forms', () => {

        const zone = signedDemoZone({ ksk: p256(), zsk: p256() });
        const [sep] = secureEntryPoints(zone);
        expect(secureEntryPoints(zone).length).to.equal(1);
        const key = sep!.subarray(4).toString('base64');
        expect(trustAnchorFile(zone)).to.equal(`trust-anchors {\n    example.test. static-key 257 3 13 "${key}";\n};\n`);
        expect(trustAnchorFile(zone, 'initial-key')).to.contain('initial-key 257 3 13');
        expect(trustAnchorFile(zone, 'static-ds')).to.match(/^trust-anchors \{\n {4}example\.test\. static-ds \d+ 13 2 "[0-9A-F]{64}";\n\};\n$/);
        expect(dsRecord(zone)).to.match(/^example\.test\. 3600 IN DS \d+ 13 2 [0-9A-F]{64}\n$/);
        expect(dsRecord(zone, 60)).to.contain(' 60 IN DS ');
    });

    it('publishes nothing for a zone without DNSKEY', () => {

        const zone = signedDemoZone();
        const withoutKeys = { ...zone, rrsets: zone.rrsets.filter((set) => set.type !== RrType.DNSKEY) };
        expect(secureEntryPoints(withoutKeys)).to.equal([]);
    });
});
