import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { InvalidName } from '../../lib/errors';
import { canonicalDomain, canonicalName, nameFromUrlForm, nameToUrlForm, parseName } from '../../lib/names';

export const lab = Lab.script();
const { describe, it } = lab;

describe('names', () => {

    describe('canonicalName()', () => {

        const canonical: Array<[string, string]> = [
            ['bob@example.test', 'bob@example.test'],
            ['Bob@EXAMPLE.Test', 'Bob@example.test'],
            ['bob@example.test.', 'bob@example.test'],
            ['jürgen@Bücher.Example', 'jürgen@xn--bcher-kva.example'],
            ['j\u0075\u0308rgen@example.test', 'j\u00fcrgen@example.test'],
            ['host/www@xn--bcher-kva.example', 'host/www@xn--bcher-kva.example']
        ];

        for (const [input, expected] of canonical) {
            it(`canonicalises ${JSON.stringify(input)}`, () => {

                expect(canonicalName(input)).to.equal(expected);
            });
        }

        const invalid: Array<[string, RegExp]> = [
            ['', /empty/],
            ['bob', /no "@"/],
            ['@example.test', /empty entity/],
            ['bob@', /empty domain/],
            ['bob@alice@example.test', /more than one "@"/],
            ['bob@example..test', /empty label/],
            ['bob@.example.test', /empty label/],
            ['bob@.', /empty label/],
            ['bob@exa mple.test', /not a valid IDNA/],
            ['bob@-bad.test', /letters, digits and inner hyphens/],
            ['bob@under_score.test', /letters, digits and inner hyphens/],
            [`bob@${'a'.repeat(64)}.test`, /longer than 63/],
            [`bob@${Array(60).fill('abcd').join('.')}`, /longer than 253/],
            [`${'x'.repeat(256)}@example.test`, /longer than 255 bytes/],
            ['bo\u0000b@example.test', /control character/],
            // Characters no signed document can carry: the name could never be answered (a 500 before).
            ['\uFFFE@example.test', /character IKS documents cannot carry/],
            ['a\uFFFF@example.test', /character IKS documents cannot carry/],
            ['a\uD800b@example.test', /character IKS documents cannot carry/],
            [' bob@example.test', /white space/]
        ];

        for (const [input, reason] of invalid) {
            it(`rejects ${JSON.stringify(input.slice(0, 40))} with a reason`, () => {

                expect(() => canonicalName(input)).to.throw(InvalidName, reason);
            });
        }

        it('splits a name into its parts', () => {

            expect(parseName('Alice@Example.TEST')).to.equal({ entity: 'Alice', domain: 'example.test', name: 'Alice@example.test' });
        });

        it('rejects a non-string domain', () => {

            expect(() => canonicalDomain(undefined as unknown as string)).to.throw(InvalidName, /empty/);
        });
    });

    describe('URL form', () => {

        it('encodes the canonical name as unpadded base64url', () => {

            expect(nameToUrlForm('bob@example.test')).to.equal('Ym9iQGV4YW1wbGUudGVzdA');
            expect(nameToUrlForm('BOB@EXAMPLE.TEST.')).to.equal(Buffer.from('BOB@example.test').toString('base64url'));
        });

        it('round-trips Unicode names', () => {

            const encoded = nameToUrlForm('jürgen@bücher.example');
            expect(nameFromUrlForm(encoded).name).to.equal('jürgen@xn--bcher-kva.example');
        });

        const invalid: Array<[string, RegExp]> = [
            ['Ym9iQGV4YW1wbGUudGVzdA==', /not base64url/],
            ['Ym9i+GV4', /not base64url/],
            ['', /not base64url/],
            ['Ym9iQGV4YW1wbGUudGVzdB', /canonical base64url/],
            [Buffer.from([0x62, 0xff, 0x40, 0x61]).toString('base64url'), /UTF-8/],
            [Buffer.from('bob@EXAMPLE.test').toString('base64url'), /not canonical; use "bob@example.test"/],
            [Buffer.from('bob@example.test.').toString('base64url'), /not canonical/],
            [Buffer.from('bob').toString('base64url'), /no "@"/],
            ['A', /not base64url/]
        ];

        for (const [input, reason] of invalid) {
            it(`rejects ${JSON.stringify(input)} with a reason`, () => {

                expect(() => nameFromUrlForm(input)).to.throw(InvalidName, reason);
            });
        }
    });
});
