import * as Fs from 'node:fs';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { createGateway } from '../../lib/gateway';
import { domainKeyPaths, loadedKeyFiles } from '../../lib/keys';
import { nameToUrlForm } from '../../lib/names';
import { createUpdater } from '../../workers/updater';
import { makeDomain, makeRegistration, type TestDomain } from '../helpers/domain';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

describe('gateway privilege split (offline signing)', () => {

    let domain: TestDomain;

    before(async () => {

        domain = await makeDomain();
        await domain.store.putRegistrations([makeRegistration('bob@example.test')]);
        await domain.store.enqueue([domain.domain]);
        await createUpdater(domain.config, domain.store).drain();
    });

    after(async () => {

        await domain.cleanup();
    });

    it('loads the RSK and the password-encryption key and never the KSK private key', async () => {

        const before = loadedKeyFiles().length;
        const server = await createGateway(domain.config, { store: domain.store, port: 0, dnsPort: 0 });
        const loaded = loadedKeyFiles().slice(before);
        // iks-query: the RSK; iks-register: the enc key and the RSK.
        expect(loaded.map((entry) => entry.role)).to.equal(['rsk', 'enc', 'rsk']);
        expect(loaded.map((entry) => entry.path)).to.not.include(domainKeyPaths(domain.dataDir, domain.domain, 'ksk').privatePath);
        await server.stop();
    });

    it('serves signed lookups with the KSK private key file absent', async () => {

        const { privatePath } = domainKeyPaths(domain.dataDir, domain.domain, 'ksk');
        const saved = Fs.readFileSync(privatePath);
        Fs.rmSync(privatePath);
        try {
            const server = await createGateway(domain.config, { store: domain.store, port: 0, dnsPort: 0 });
            const res = await server.inject(`/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`);
            expect(res.statusCode).to.equal(200);
            expect((await server.inject(`/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`)).statusCode).to.equal(404);
        }
        finally {
            Fs.writeFileSync(privatePath, saved, { mode: 0o600 });
        }

        expect(Path.basename(privatePath)).to.equal('ksk.pem');
    });
});
