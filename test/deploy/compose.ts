import * as Fs from 'node:fs';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as Yaml from 'yaml';

import { createGateway } from '../../lib/gateway';
import { loadedKeyFiles } from '../../lib/keys';
import { createUpdater, ensureSignedZone } from '../../workers/updater';
import { makeDomain, type TestDomain } from '../helpers/domain';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

// No Docker engine runs here, so the compose file is checked for the structure the
// privilege split needs (ARCHITECTURE.md §2), against what each component really loads.
interface Service {
    command?: string[];
    environment?: Record<string, string>;
    volumes?: string[];
    ports?: string[];
}

const internals = {
    root: Path.join(__dirname, '../..')
};

function services(): Record<string, Service> {

    const file = Yaml.parse(Fs.readFileSync(Path.join(internals.root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
    return file.services;
}

/** Private key roles a service mounts, from `…/private/<role>.pem` volume sources. */
function mountedPrivateRoles(service: Service): string[] {

    return (service.volumes ?? [])
        .map((volume) => /\/private\/([a-z]+)\.pem:/.exec(volume)?.[1])
        .filter((role): role is string => role !== undefined)
        .sort();
}

function publicMount(service: Service): string | undefined {

    return (service.volumes ?? []).find((volume) => /\/public:\/var\/lib\/iks\/[^/]+\/public(:|$)/.test(volume));
}

describe('docker-compose.yml', () => {

    let domain: TestDomain;

    before(async () => {

        domain = await makeDomain();
    });

    after(async () => {

        await domain.cleanup();
    });

    it('runs redis with an fsync on every write, the gateway and the updater', () => {

        const all = services();
        expect(Object.keys(all).sort()).to.equal(['gateway', 'redis', 'updater']);
        const redis = all.redis!.command!.join(' ');
        expect(redis).to.contain('--appendonly yes');
        expect(redis).to.contain('--appendfsync always');
        expect(all.gateway!.command).to.equal(['node', 'bin/iks.js', 'serve']);
        expect(all.updater!.command).to.equal(['node', 'bin/iks.js', 'updater']);
        for (const name of ['gateway', 'updater']) {
            expect(all[name]!.environment!.IKS_REDIS_URL).to.equal('redis://redis:6379');
            expect(all[name]!.environment!.IKS_DOMAIN).to.equal(all.gateway!.environment!.IKS_DOMAIN);
        }
    });

    it('gives the KSK and the zone-signing key to the updater and to no other service', () => {

        const all = services();
        expect(mountedPrivateRoles(all.updater!)).to.equal(['ksk', 'zsk']);
        for (const [name, service] of Object.entries(all)) {
            if (name !== 'updater') {
                expect(mountedPrivateRoles(service), name).to.not.include(['ksk']);
                expect(mountedPrivateRoles(service), name).to.not.include(['zsk']);
            }
        }
    });

    it('mounts for the gateway every private key it loads, and public material read-only', async () => {

        const gateway = services().gateway!;
        const start = loadedKeyFiles().length;
        const server = await createGateway(domain.config, { store: domain.store, port: 0, dnsPort: 0 });
        await server.stop();
        const loaded = [...new Set(loadedKeyFiles().slice(start).map((entry) => entry.role))];
        expect(loaded.length).to.be.at.least(1);
        expect(mountedPrivateRoles(gateway)).to.include(loaded);
        expect(publicMount(gateway)!.endsWith(':ro')).to.be.true();
        expect(gateway.environment!.IKS_SIGNING).to.equal('offline');
    });

    it('mounts for the updater every private key it loads, and public/ writable for the zone it signs', async () => {

        const updater = services().updater!;
        const start = loadedKeyFiles().length;
        createUpdater(domain.config, domain.store);
        ensureSignedZone(domain.config, { force: true });
        const loaded = [...new Set(loadedKeyFiles().slice(start).map((entry) => entry.role))].sort();
        expect(loaded).to.equal(['ksk', 'zsk']);
        expect(mountedPrivateRoles(updater)).to.include(loaded);
        expect(publicMount(updater)).to.exist();
        expect(publicMount(updater)!.endsWith(':ro')).to.be.false();
    });

    it('publishes HTTP and DNS over UDP and TCP from the gateway, listening beyond loopback', () => {

        const gateway = services().gateway!;
        expect(gateway.ports).to.include(['8080:8080', '53:5300/udp', '53:5300/tcp']);
        expect(gateway.environment!.IKS_HTTP_HOST).to.equal('0.0.0.0');
        expect(gateway.environment!.IKS_DNS_HOST).to.equal('0.0.0.0');
    });
});

describe('Dockerfile', () => {

    it('builds from the lock file and runs as an unprivileged user', () => {

        const text = Fs.readFileSync(Path.join(internals.root, 'Dockerfile'), 'utf8');
        expect(text).to.match(/npm ci/);
        expect(text).to.match(/^USER node$/m);
        expect(text).to.match(/^EXPOSE .*5300\/udp/m);
    });
});
