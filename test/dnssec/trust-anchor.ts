import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { anchorMatches, dsRdata, InvalidTrustAnchor, parseTrustAnchors, secureEntryPoints, trustAnchorFile } from '../../lib/dnssec';
import { runTool, tempFile } from '../helpers/domain';
import { p256, signedDemoZone } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it } = lab;

describe('parseTrustAnchors()', () => {

    const zone = signedDemoZone({ zsk: p256() });
    const dnskey = secureEntryPoints(zone)[0]!;

    it('reads every form trustAnchorFile() writes, and each names the zone\'s key', () => {

        for (const form of ['static-key', 'initial-key', 'static-ds', 'initial-ds'] as const) {
            const anchors = parseTrustAnchors(trustAnchorFile(zone, form));
            expect(anchors).to.have.length(1);
            expect(anchors[0]!).to.include({ zone: 'example.test', form });
            expect(anchors[0]!.rdata).to.equal(form.endsWith('-ds') ? dsRdata('example.test', dnskey) : dnskey);
            expect(anchorMatches(anchors[0]!, 'example.test', dnskey), form).to.be.true();
            expect(anchorMatches(anchors[0]!, 'example.test', secureEntryPoints(signedDemoZone())[0]!), form).to.be.false();
            expect(anchorMatches(anchors[0]!, 'other.test', dnskey), form).to.be.false();
        }
    });

    it('reads BIND\'s other spellings: managed-keys, trusted-keys, comments, quoted names, keys split by spaces', () => {

        const key = dnskey.subarray(4).toString('base64');
        const text = [
            '# the IKS demo zone',
            'managed-keys { // RFC 5011 anchors, used as static ones here',
            `    "Example.Test." initial-key 257 3 13 "${key.slice(0, 20)} ${key.slice(20)}";`,
            '};',
            '/* legacy',
            '   syntax */',
            `trusted-keys { other.test. 257 3 13 "${key}"; };`
        ].join('\n');
        const anchors = parseTrustAnchors(text);
        expect(anchors.map((anchor) => [anchor.zone, anchor.form])).to.equal([['example.test', 'initial-key'], ['other.test', 'static-key']]);
        expect(anchors[0]!.rdata).to.equal(dnskey);
    });

    it('matches a SHA-384 DS anchor that ldns-key2ds computed', () => {

        const file = tempFile('Kexample.test.key', `example.test. 3600 IN DNSKEY 257 3 13 ${dnskey.subarray(4).toString('base64')}\n`);
        const ds = runTool('ldns-key2ds', ['-n', '-4', file]);
        expect(ds.status, ds.output).to.equal(0);
        const [tag, algorithm, digestType, digest] = ds.output.trim().split(/\s+/).slice(-4);
        expect(digestType).to.equal('4');
        const anchor = parseTrustAnchors(`trust-anchors { example.test. static-ds ${tag} ${algorithm} 4 "${digest}"; };`)[0]!;
        expect(anchorMatches(anchor, 'example.test', dnskey)).to.be.true();
        expect(anchorMatches(anchor, 'example.test', Buffer.from(dnskey.subarray(0, 4)))).to.be.false();
    });

    it('refuses files it cannot use, saying why', () => {

        const key = dnskey.subarray(4).toString('base64');
        const digest = '00'.repeat(32);
        const cases: [string, RegExp][] = [
            ['', /holds no anchor/],
            ['options { };', /unknown statement "options"/],
            [`trust-anchors { example.test. static-key 257 3 13 "${key}" };`, /expected ";"/],
            [`trust-anchors { example.test. static-key 257 3 13 "${key}"; }`, /expected ";", found "end of file"/],
            [`trust-anchors { example.test. dynamic-key 257 3 13 "${key}"; };`, /unknown form "dynamic-key"/],
            [`trust-anchors { example.test. static-key 257 3 13 ${key}; };`, /must be a quoted string/],
            [`trust-anchors { example.test. static-key 256x 3 13 "${key}"; };`, /flags must be a number/],
            [`trust-anchors { example.test. static-key 70000 3 13 "${key}"; };`, /flags must be a number from 0 to 65535/],
            [`trust-anchors { example.test. static-key 1 3 13 "${key}"; };`, /not a usable zone key/],
            [`trust-anchors { example.test. static-key 385 3 13 "${key}"; };`, /not a usable zone key/],
            [`trust-anchors { example.test. static-key 257 2 13 "${key}"; };`, /not a usable zone key/],
            [`trust-anchors { example.test. static-key 257 3 5 "${key}"; };`, /algorithm 5; supported/],
            [`trust-anchors { example.test. static-ds 1 13 1 "${'00'.repeat(20)}"; };`, /digest type 1; supported/],
            [`trust-anchors { example.test. static-ds 1 13 2 "${digest}00"; };`, /64 hex digits/],
            [`trust-anchors { example.test. static-ds 1 13 2 "${'zz'.repeat(32)}"; };`, /64 hex digits/],
            ['trust-anchors { ; };', /expected a zone name/],
            [`trust-anchors { bad..name static-ds 1 13 2 "${digest}"; };`, /not a usable name/],
            ['trust-anchors { example.test. static-ds 1 13 2 "unterminated; };', /cannot read the trust-anchor file/]
        ];

        for (const [text, message] of cases) {
            expect(() => parseTrustAnchors(text), text).to.throw(InvalidTrustAnchor, message);
        }
    });

    it('never matches a DNSKEY too short to be one', () => {

        const anchor = parseTrustAnchors(trustAnchorFile(zone, 'static-ds'))[0]!;
        expect(anchorMatches(anchor, 'example.test', Buffer.from([1, 1, 3]))).to.be.false();
    });
});
