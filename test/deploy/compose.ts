import { spawn } from 'node:child_process';
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
    healthcheck?: { test: string[] };
    depends_on?: Record<string, { condition: string }>;
    cap_drop?: string[];
    security_opt?: string[];
    profiles?: string[];
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
        // `keys` is a one-off tool (profile "tools"): `up` does not start it.
        expect(Object.keys(all).filter((name) => all[name]!.profiles === undefined).sort()).to.equal(['gateway', 'redis', 'updater']);
        expect(all.keys!.profiles).to.equal(['tools']);
        expect(all.keys!.volumes).to.equal(['./keys:/var/lib/iks']);
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
            if (name !== 'updater' && service.profiles === undefined) {
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

describe('docker-compose.yml health and privileges', () => {

    let domain: TestDomain;

    before(async () => {

        domain = await makeDomain({ env: { IKS_DNS_ENABLED: 'false' } });
    });

    after(async () => {

        await domain.cleanup();
    });

    /** Runs a service's `node -e` healthcheck against `url` instead of the address it probes in the container. */
    const probe = (service: Service, url: string): Promise<number | null> => {

        const [kind, command, flag, script] = service.healthcheck!.test;
        expect([kind, command, flag]).to.equal(['CMD', 'node', '-e']);
        // Asynchronously: the gateway it probes runs in this process.
        const child = spawn(process.execPath, ['-e', script!.replace(/http:\/\/127\.0\.0\.1:\d+/, url)], { stdio: 'ignore', timeout: 10_000 });
        return new Promise((resolve) => child.once('exit', resolve));
    };

    it('starts the IKS services once Redis answers, without capabilities or privilege gain', () => {

        const all = services();
        expect(all.redis!.healthcheck!.test).to.equal(['CMD', 'redis-cli', 'ping']);
        for (const name of ['gateway', 'updater']) {
            expect(all[name]!.depends_on, name).to.equal({ redis: { condition: 'service_healthy' } });
            expect(all[name]!.cap_drop, name).to.equal(['ALL']);
            expect(all[name]!.security_opt, name).to.equal(['no-new-privileges:true']);
        }
    });

    it('probes the gateway\'s /readyz: healthy when ready, unhealthy when not or unreachable', async () => {

        const gateway = services().gateway!;
        expect(gateway.healthcheck!.test[3]).to.contain('http://127.0.0.1:8080/readyz');
        const server = await createGateway(domain.config, { store: domain.store, port: 0 });
        await server.start();
        try {
            const base = server.info.uri.replace('localhost', '127.0.0.1');
            // The updater has not published the RSK yet: not ready.
            expect(await probe(gateway, base)).to.equal(1);
            await domain.store.enqueue([domain.domain]);
            await createUpdater(domain.config, domain.store).drain();
            expect(await probe(gateway, base)).to.equal(0);
        }
        finally {
            await server.stop();
        }

        expect(await probe(gateway, 'http://127.0.0.1:9')).to.equal(1);
    });

    it('probes the updater\'s metrics endpoint, which it serves on the port compose sets', () => {

        const updater = services().updater!;
        expect(updater.healthcheck!.test[3]).to.contain(`http://127.0.0.1:${updater.environment!.IKS_UPDATER_METRICS_PORT}/metrics`);
        expect(updater.environment!.IKS_UPDATER_METRICS_HOST).to.equal('0.0.0.0');
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
