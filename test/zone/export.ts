import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { exportZoneText } from '../../lib/zone/export';
import { ldnsVerifyZone, namedCheckZone, ORIGIN, p256, signedDemoZone } from './fixture';

export const lab = Lab.script();
const { describe, it } = lab;

describe('exportZoneText()', () => {

    it('writes a master file that ldns-verify-zone verifies and named-checkzone loads (CSK)', () => {

        const text = exportZoneText(signedDemoZone());
        const ldns = ldnsVerifyZone(text);
        expect(ldns.status, ldns.output).to.equal(0);
        expect(ldns.output).to.contain('Zone is verified and complete');
        const named = namedCheckZone(ORIGIN, text);
        expect(named.status, named.output).to.equal(0);
        expect(named.output).to.contain('(DNSSEC signed)');
    });

    it('writes a master file both tools accept for a KSK + ZSK zone with many SRV targets', () => {

        const text = exportZoneText(signedDemoZone({ ksk: p256(), zsk: p256() }, 8));
        expect(ldnsVerifyZone(text).status).to.equal(0);
        expect(namedCheckZone(ORIGIN, text).status).to.equal(0);
    });

    it('starts with the SOA and follows each RRset with its RRSIG', () => {

        const lines = exportZoneText(signedDemoZone()).split('\n').filter((line) => line && !line.startsWith(';') && !line.startsWith('$'));
        expect(lines[0]).to.match(/^example\.test\.\t3600\tIN\tSOA\t/);
        expect(lines[1]).to.match(/^example\.test\.\t3600\tIN\tRRSIG\tSOA 13 2 3600 /);
    });

    it('is rejected by ldns-verify-zone once a signature is tampered with', () => {

        const text = exportZoneText(signedDemoZone());
        const tampered = text.replace(/(RRSIG\tSRV .* )([A-Za-z0-9+/])/, (_, head: string, first: string) => `${head}${first === 'A' ? 'B' : 'A'}`);
        expect(tampered).to.not.equal(text);
        expect(ldnsVerifyZone(tampered).status).to.not.equal(0);
    });
});
