import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { loadConfig, type IksConfig } from '../../../config';
import { RrType } from '../../../lib/dns/types';
import { dnskeyPublicKey, type SignedZone } from '../../../lib/dnssec';
import { domainKeyPaths, ensureDomainKeys, generateSigningKeyPem, signingKeyFromPem } from '../../../lib/keys';
import { ensureSignedZone } from '../../../workers/updater/zone';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

/** The public key fields of the zone's DNSKEY records (RDATA after flags, protocol and algorithm). */
const dnskeys = (zone: SignedZone) => zone.rrsets.find((rrset) => rrset.type === RrType.DNSKEY)!.rdata.map((rdata) => rdata.subarray(4).toString('base64'));

describe('ensureSignedZone()', () => {

    let dataDir: string;
    let config: IksConfig;

    before(() => {

        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-zone-'));
        config = loadConfig({ env: { IKS_DATA_DIR: dataDir } });
        ensureDomainKeys(dataDir, config.domain);
    });

    after(() => {

        Fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('signs a missing zone, then leaves it while nothing changed', () => {

        expect(ensureSignedZone(config)).to.include({ signed: true, reason: 'no usable signed zone' });
        expect(ensureSignedZone(config)).to.include({ signed: false, reason: 'up to date' });
    });

    it('re-signs when zsk.pem is replaced, publishing the new DNSKEY', () => {

        const before = ensureSignedZone(config).zone;
        const { privatePem, publicPem } = generateSigningKeyPem('zsk');
        const paths = domainKeyPaths(dataDir, config.domain, 'zsk');
        Fs.writeFileSync(paths.privatePath, privatePem, { mode: 0o600 });
        Fs.writeFileSync(paths.publicPath, publicPem, { mode: 0o644 });
        const replaced = dnskeyPublicKey(signingKeyFromPem('zsk', privatePem).publicKey).toString('base64');
        expect(dnskeys(before)).to.not.include(replaced);

        const result = ensureSignedZone(config);
        expect(result).to.include({ signed: true, reason: 'content changed' });
        expect(dnskeys(result.zone)).to.equal([replaced]);
        expect(ensureSignedZone(config)).to.include({ signed: false, reason: 'up to date' });
    });
});
