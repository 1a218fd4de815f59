import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { clientNetwork } from '../../lib/registration/client-network';

export const lab = Lab.script();
const { describe, it } = lab;

describe('clientNetwork', () => {

    it('counts an IPv4 client by its address, also when it arrives IPv4-mapped', () => {

        expect(clientNetwork('192.0.2.10')).to.equal('192.0.2.10');
        expect(clientNetwork('::ffff:192.0.2.10')).to.equal('192.0.2.10');
        expect(clientNetwork('::FFFF:192.0.2.10')).to.equal('192.0.2.10');
    });

    it('counts an IPv6 client by its /64, however the address is written', () => {

        const network = '2001:db8:a:b::/64';
        for (const address of ['2001:db8:a:b::1', '2001:db8:a:b:ffff:ffff:ffff:fffe', '2001:0DB8:000A:000B:0:0:0:1', '2001:db8:a:b::192.0.2.1']) {
            expect(clientNetwork(address), address).to.equal(network);
        }

        expect(clientNetwork('2001:db8:a:c::1')).to.not.equal(network);
        expect(clientNetwork('::1')).to.equal('0:0:0:0::/64');
        expect(clientNetwork('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
        expect(clientNetwork('2001:db8::')).to.equal('2001:db8:0:0::/64');
    });

    it('leaves what is no IP address as it is', () => {

        expect(clientNetwork('unknown')).to.equal('unknown');
        expect(clientNetwork('')).to.equal('');
    });
});
