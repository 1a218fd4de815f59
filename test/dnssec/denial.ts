import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { encodeNsec } from '../../lib/dns/rdata';
import { RrType } from '../../lib/dns/types';
import { covers, parseNsec, proveNodata, proveNxdomain, type Nsec } from '../../lib/dnssec/denial';
import { DnssecBogus } from '../../lib/errors';

export const lab = Lab.script();
const { describe, it } = lab;

const CNAME = 5;
const DNAME = 39;

/** An NSEC chain written like a zone file: "owner next TYPES". */
function chain(...lines: string[]): Nsec[] {

    return lines.map((line) => {

        const [owner, next, ...types] = line.split(' ');
        return { owner: owner!, next: next!, types: new Set(types.map(Number)) };
    });
}

// example.test → a → c.b → m (delegation) → *.w (wildcard) → z → back to the apex.
const zone = chain(
    `example.test a.example.test ${RrType.SOA} ${RrType.NS} ${RrType.NSEC}`,
    `a.example.test c.b.example.test ${RrType.A} ${RrType.NSEC}`,
    `c.b.example.test m.example.test ${RrType.TXT} ${RrType.NSEC}`,
    `m.example.test *.w.example.test ${RrType.NS} ${RrType.NSEC}`,
    `*.w.example.test z.example.test ${RrType.A} ${RrType.NSEC}`,
    `z.example.test example.test ${CNAME} ${RrType.NSEC}`
);

const nsecOf = (owner: string) => zone.find((nsec) => nsec.owner === owner)!;

describe('NSEC denial', () => {

    it('reads NSEC RDATA, lowercasing the next name for comparison (RFC 6840 §5.1)', () => {

        const nsec = parseNsec('a.example.test', encodeNsec('next.example.test', [RrType.A, RrType.RRSIG]));
        expect(nsec.next).to.equal('next.example.test');
        expect([...nsec.types]).to.equal([RrType.A, RrType.RRSIG]);
    });

    it('covers names strictly between owner and next, the last NSEC wrapping to the apex', () => {

        const cases: [string, string, boolean][] = [
            ['a.example.test', 'b.example.test', true],
            ['a.example.test', 'a.example.test', false],
            ['a.example.test', 'c.b.example.test', false],
            ['a.example.test', 'aa.example.test', true],
            ['a.example.test', 'x.a.example.test', true],
            ['z.example.test', 'zz.example.test', true],
            ['z.example.test', 'y.example.test', false],
            ['example.test', 'a.example.test', false],
            ['example.test', '*.example.test', true]
        ];
        for (const [owner, name, expected] of cases) {
            expect(covers(nsecOf(owner), name), `${owner} covers ${name}`).to.equal(expected);
        }
    });

    it('proves NXDOMAIN when the name and *.<closest encloser> are covered', () => {

        expect(() => proveNxdomain('aa.example.test', 'example.test', zone)).to.not.throw();          // encloser example.test
        expect(() => proveNxdomain('x.c.b.example.test', 'example.test', zone)).to.not.throw();       // encloser c.b.example.test
        expect(() => proveNxdomain('zz.example.test', 'example.test', zone)).to.not.throw();
    });

    it('refuses NXDOMAIN for an existing name or empty non-terminal, without the wildcard proof, or when the wildcard exists', () => {

        expect(() => proveNxdomain('a.example.test', 'example.test', zone)).to.throw(DnssecBogus, /without an NSEC that covers/);
        expect(() => proveNxdomain('aa.example.test', 'example.test', zone.filter((nsec) => nsec.owner !== 'example.test'))).to.throw(DnssecBogus, /\*\.example\.test is absent/);
        expect(() => proveNxdomain('b.example.test', 'example.test', zone)).to.throw(DnssecBogus, /c\.b\.example\.test exists below it/);
        expect(() => proveNxdomain('v.w.example.test', 'example.test', zone)).to.throw(DnssecBogus, /\*\.w\.example\.test exists/);
    });

    it('does not let the parent\'s NSEC at a delegation deny names below it (RFC 6840 §4.1)', () => {

        expect(() => proveNxdomain('host.m.example.test', 'example.test', zone)).to.throw(DnssecBogus, /without an NSEC that covers/);
        const dname = chain(`example.test d.example.test ${RrType.SOA}`, `d.example.test example.test ${DNAME}`);
        expect(() => proveNxdomain('x.d.example.test', 'example.test', dname)).to.throw(DnssecBogus);
        expect(() => proveNodata('x.d.example.test', RrType.A, 'example.test', dname)).to.throw(DnssecBogus);
    });

    it('ignores NSEC records of other zones', () => {

        const foreign = chain(`evil.test zzz.evil.test ${RrType.A}`, `aaa.example.test zzz.example.test ${RrType.A}`);
        expect(() => proveNxdomain('b.example.test', 'example.test', foreign)).to.throw(DnssecBogus);
    });

    it('proves NODATA from the name\'s own NSEC, or for an empty non-terminal', () => {

        expect(() => proveNodata('a.example.test', RrType.TXT, 'example.test', zone)).to.not.throw();
        expect(() => proveNodata('b.example.test', RrType.TXT, 'example.test', zone)).to.not.throw();         // ENT above c.b
        expect(() => proveNodata('m.example.test', RrType.DS, 'example.test', zone)).to.not.throw();
    });

    it('refuses NODATA for a listed type, an alias, a delegation\'s child data or a name that is not there', () => {

        expect(() => proveNodata('a.example.test', RrType.A, 'example.test', zone)).to.throw(DnssecBogus, /lists A/);
        expect(() => proveNodata('z.example.test', RrType.TXT, 'example.test', zone)).to.throw(DnssecBogus, /alias \(CNAME\)/);
        expect(() => proveNodata('m.example.test', RrType.A, 'example.test', zone)).to.throw(DnssecBogus, /is a delegation/);
        expect(() => proveNodata('aa.example.test', RrType.A, 'example.test', zone)).to.throw(DnssecBogus, /no NSEC proves/);
    });
});
