import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { encodeNsec, encodeRrsigPrefix, encodeSrv, encodeTxt } from '../../lib/dns/rdata';
import { RrType } from '../../lib/dns/types';
import { canonicalRdataOf } from '../../lib/dnssec/canonical';
import { DnsFormatError } from '../../lib/dns/types';

export const lab = Lab.script();
const { describe, it } = lab;

/** Wire name keeping case (nameToWire expects canonical input). */
function wire(name: string): Buffer {

    return Buffer.concat([...name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])), Buffer.from([0])]);
}

describe('canonicalRdataOf()', () => {

    it('lowercases the names embedded in SRV, NS, SOA and the RRSIG signer (RFC 4034 §6.2)', () => {

        const srv = Buffer.concat([encodeSrv({ priority: 1, weight: 2, port: 80, target: 'x.test' }).subarray(0, 6), wire('IKS.Example.TEST')]);
        expect(canonicalRdataOf(RrType.SRV, srv)).to.equal(encodeSrv({ priority: 1, weight: 2, port: 80, target: 'iks.example.test' }));
        expect(canonicalRdataOf(RrType.NS, wire('NS1.Example.Test'))).to.equal(wire('ns1.example.test'));
        const soa = Buffer.concat([wire('NS1.A.TEST'), wire('Host.Master.A.TEST'), Buffer.alloc(20, 0x41)]);
        expect(canonicalRdataOf(RrType.SOA, soa)).to.equal(Buffer.concat([wire('ns1.a.test'), wire('host.master.a.test'), Buffer.alloc(20, 0x41)]));
        const fields = { typeCovered: 33, algorithm: 13, labels: 4, originalTtl: 3600, expiration: 2, inception: 1, keyTag: 7, signerName: 'example.test' };
        const shouting = Buffer.concat([encodeRrsigPrefix(fields).subarray(0, 18), wire('EXAMPLE.test'), Buffer.from('SIG')]);
        expect(canonicalRdataOf(RrType.RRSIG, shouting)).to.equal(Buffer.concat([encodeRrsigPrefix(fields), Buffer.from('SIG')]));
    });

    it('leaves NSEC\'s next name (RFC 6840 §5.1), TXT and unknown types as they are', () => {

        const nsec = Buffer.concat([wire('Next.Example.test'), encodeNsec('x.test', [RrType.A]).subarray(8)]);
        expect(canonicalRdataOf(RrType.NSEC, nsec)).to.equal(nsec);
        expect(canonicalRdataOf(RrType.TXT, encodeTxt('ABC'))).to.equal(encodeTxt('ABC'));
        expect(canonicalRdataOf(65280, Buffer.from('ABC'))).to.equal(Buffer.from('ABC'));
    });

    it('refuses a malformed embedded name', () => {

        expect(() => canonicalRdataOf(RrType.NS, Buffer.from([5, 0x41]))).to.throw(DnsFormatError);
    });
});
