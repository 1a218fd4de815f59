import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { asciiLowercase, canonicalName, compareCanonical, isInZone, labelCount, nameToWire } from '../../lib/dns/name';
import { DnsFormatError } from '../../lib/dns/types';

export const lab = Lab.script();
const { describe, it } = lab;

describe('canonicalName()', () => {

    it('lowercases and drops the trailing dot', () => {

        expect(canonicalName('_IKQS._tcp.Example.TEST.')).to.equal('_ikqs._tcp.example.test');
    });

    it('rejects a non-ASCII name that Unicode lowercasing would turn into an ASCII one', () => {

        // U+212A KELVIN SIGN lowercases to ASCII 'k'; U+0130 to 'i' and a combining dot.
        for (const bad of ['\u212aey.example.test', 'EXAMPLE.\u212a', '\u0130ks.test']) {
            expect(() => canonicalName(bad), bad).to.throw(DnsFormatError);
        }
    });

    it('rejects empty, overlong and unescapable names', () => {

        for (const bad of ['', '.', 'a..b', `${'a'.repeat(64)}.test`, 'a b.test', 'a"b.test', 'a\\b.test', `${'abcdefghi.'.repeat(26)}test`]) {
            expect(() => canonicalName(bad), bad).to.throw(DnsFormatError);
        }
    });
});

describe('nameToWire()', () => {

    it('encodes labels with length octets and the root', () => {

        expect(nameToWire('ab.c').toString('hex')).to.equal('0261620163' + '00');
    });
});

describe('labelCount()', () => {

    it('counts labels without a leading wildcard', () => {

        expect(labelCount('www.example.net')).to.equal(3);
        expect(labelCount('*.example.net')).to.equal(2);
    });
});

describe('isInZone()', () => {

    it('accepts the apex and names below it only', () => {

        expect(isInZone('example.test', 'example.test')).to.be.true();
        expect(isInZone('a.example.test', 'example.test')).to.be.true();
        expect(isInZone('badexample.test', 'example.test')).to.be.false();
    });
});

describe('compareCanonical()', () => {

    it('orders names as RFC 4034 §6.1 does', () => {

        // The example list of RFC 4034 §6.1 (escapes omitted), already in canonical order.
        const ordered = ['example', 'a.example', 'yljkjljk.a.example', 'z.a.example', 'zabc.a.example', 'z.example', '*.z.example'];
        const shuffled = [...ordered].reverse().sort(compareCanonical);
        expect(shuffled.slice(0, 6)).to.equal(ordered.slice(0, 6));
        expect(compareCanonical('z.example', '*.z.example')).to.equal(-1);
        expect(compareCanonical('a.example', 'a.example')).to.equal(0);
        expect(compareCanonical('b.example', 'a.example')).to.equal(1);
    });
});

describe('asciiLowercase()', () => {

    it('folds ASCII letters only', () => {

        expect(asciiLowercase('AbC\u00c0')).to.equal('abc\u00c0');
        expect(asciiLowercase('abc')).to.equal('abc');
    });
});
