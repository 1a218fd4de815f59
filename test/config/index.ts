import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { assertPublishableZone, domainDir, loadConfig } from '../../config';
import { InvalidConfig } from '../../lib/errors';

export const lab = Lab.script();
const { describe, it } = lab;

describe('config', () => {

    it('has working defaults with no configuration', () => {

        const config = loadConfig({ env: {} });
        expect(config.domain).to.equal('example.test');
        expect(config.http).to.equal({ host: '127.0.0.1', port: 8080, workers: 1 });
        expect(config.dns).to.equal({ enabled: true, host: '127.0.0.1', port: 5300 });
        expect(config.signing).to.equal('offline');
        expect(config.redisUrl).to.not.exist();
        expect(config.dataDir).to.equal(Path.resolve('.iks'));
        expect(domainDir(config)).to.equal(Path.resolve('.iks', 'example.test'));
    });

    it('reads IKS_* environment variables', () => {

        const config = loadConfig({
            env: {
                IKS_DOMAIN: 'Bücher.Example.',
                IKS_HTTP_PORT: '9090',
                IKS_HTTP_WORKERS: '4',
                IKS_DNS_PORT: '5353',
                IKS_DATA_DIR: '/tmp/iks-x',
                IKS_REDIS_URL: 'redis://127.0.0.1:6390',
                IKS_SIGNING: 'ondemand',
                IKS_UPDATER_IN_PROCESS: 'true'
            }
        });

        expect(config.domain).to.equal('xn--bcher-kva.example');
        expect(config.http.port).to.equal(9090);
        expect(config.http.workers).to.equal(4);
        expect(config.dns.port).to.equal(5353);
        expect(config.dataDir).to.equal('/tmp/iks-x');
        expect(config.redisUrl).to.equal('redis://127.0.0.1:6390');
        expect(config.signing).to.equal('ondemand');
        expect(config.updater.inProcess).to.be.true();
    });

    it('lets a file set values and the environment and overrides win over it', () => {

        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-config-'));
        const file = Path.join(dir, 'iks.json');
        Fs.writeFileSync(file, JSON.stringify({ domain: 'corp.test', http: { port: 7000 }, signatureValidity: 600, refreshBefore: 60 }));

        const config = loadConfig({ env: { IKS_CONFIG: file, IKS_HTTP_PORT: '7001' }, overrides: { 'dns.port': 5400, domain: undefined } });
        expect(config.domain).to.equal('corp.test');
        expect(config.http.port).to.equal(7001);
        expect(config.dns.port).to.equal(5400);
        expect(config.signatureValidity).to.equal(600);
        Fs.rmSync(dir, { recursive: true });
    });

    const invalid: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
        ['a port out of range', { IKS_HTTP_PORT: '70000' }, /"http\.port" \(from IKS_HTTP_PORT\)/],
        ['too many gateway workers', { IKS_HTTP_WORKERS: '65' }, /"http\.workers" \(from IKS_HTTP_WORKERS\): .*less than or equal to 64/],
        ['a non-numeric port', { IKS_DNS_PORT: 'fifty' }, /"dns\.port" \(from IKS_DNS_PORT\): .*must be a number/],
        ['an unknown signing strategy', { IKS_SIGNING: 'sometimes' }, /"signing" \(from IKS_SIGNING\): .*offline, ondemand, online/],
        ['a Redis URL of another scheme', { IKS_REDIS_URL: 'http://localhost' }, /"redisUrl" \(from IKS_REDIS_URL\)/],
        ['a bad domain', { IKS_DOMAIN: 'exa mple' }, /"domain" \(from IKS_DOMAIN\): .*IDNA/],
        ['a refresh margin longer than the validity', { IKS_SIGNATURE_VALIDITY: '100', IKS_REFRESH_BEFORE: '200' }, /"refreshBefore" must be smaller/],
        ['a non-numeric registration cap', { IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME: 'lots' }, /"register\.maxRegistrationsPerName" \(from IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME\): .*must be a number/]
    ];

    for (const [what, env, message] of invalid) {
        it(`fails naming the setting for ${what}`, () => {

            expect(() => loadConfig({ env })).to.throw(InvalidConfig, message);
        });
    }

    it('names both settings of a refresh margin that is not below the validity, and where each came from', () => {

        expect(() => loadConfig({ env: { IKS_SIGNATURE_VALIDITY: '3600' } })).to.throw(InvalidConfig,
            'invalid settings "refreshBefore" (from defaults) and "signatureValidity" (from IKS_SIGNATURE_VALIDITY): "refreshBefore" must be smaller than "signatureValidity" (86400 ≥ 3600 seconds)');
        expect(() => loadConfig({ env: { IKS_REFRESH_BEFORE: '604800' } })).to.throw(InvalidConfig, /"refreshBefore" \(from IKS_REFRESH_BEFORE\) and "signatureValidity" \(from defaults\)/);
    });

    it('bounds the registrations a name stores at 4 × maxKeysPerName unless told, and never below maxKeysPerName', () => {

        expect(loadConfig({ env: {} }).register).to.include({ maxKeysPerName: 16, maxRegistrationsPerName: 64 });
        expect(loadConfig({ env: { IKS_REGISTER_MAX_KEYS_PER_NAME: '3' } }).register).to.include({ maxKeysPerName: 3, maxRegistrationsPerName: 12 });
        expect(loadConfig({ env: { IKS_REGISTER_MAX_KEYS_PER_NAME: '3', IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME: '3' } }).register.maxRegistrationsPerName).to.equal(3);
        expect(loadConfig({ env: {}, overrides: { 'register.maxRegistrationsPerName': 500 } }).register.maxRegistrationsPerName).to.equal(500);

        expect(() => loadConfig({ env: { IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME: '10' } })).to.throw(InvalidConfig,
            'invalid settings "register.maxRegistrationsPerName" (from IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME) and "register.maxKeysPerName" (from defaults): "register.maxRegistrationsPerName" must be at least "register.maxKeysPerName" (10 < 16)');

        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-config-'));
        const file = Path.join(dir, 'iks.json');
        try {
            Fs.writeFileSync(file, JSON.stringify({ register: { maxKeysPerName: 40, maxRegistrationsPerName: 100 } }));
            expect(loadConfig({ env: {}, file }).register).to.include({ maxKeysPerName: 40, maxRegistrationsPerName: 100 });
            expect(() => loadConfig({ env: { IKS_REGISTER_MAX_KEYS_PER_NAME: '200' }, file })).to.throw(InvalidConfig,
                `invalid settings "register.maxRegistrationsPerName" (from ${file}) and "register.maxKeysPerName" (from IKS_REGISTER_MAX_KEYS_PER_NAME): "register.maxRegistrationsPerName" must be at least "register.maxKeysPerName" (100 < 200)`);
        }
        finally {
            Fs.rmSync(dir, { recursive: true });
        }
    });

    it('checks the zone\'s refresh margin against the zone\'s signature validity', () => {

        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-config-'));
        const file = Path.join(dir, 'iks.json');
        try {
            Fs.writeFileSync(file, JSON.stringify({ zone: { signatureValidity: 7200 } }));
            expect(() => loadConfig({ env: {}, file })).to.throw(InvalidConfig,
                `invalid settings "zone.refreshBefore" (from defaults) and "zone.signatureValidity" (from ${file}): "zone.refreshBefore" must be smaller than "zone.signatureValidity" (259200 ≥ 7200 seconds)`);
            expect(() => loadConfig({ env: {}, file, overrides: { 'zone.refreshBefore': 7200 } })).to.throw(InvalidConfig, /"zone\.refreshBefore" \(from option zone\.refreshBefore\) and "zone\.signatureValidity" \(from .*iks\.json\)/);

            Fs.writeFileSync(file, JSON.stringify({ zone: { signatureValidity: 7200, refreshBefore: 1800 } }));
            expect(loadConfig({ env: {}, file }).zone).to.include({ signatureValidity: 7200, refreshBefore: 1800 });
        }
        finally {
            Fs.rmSync(dir, { recursive: true });
        }
    });

    it('publishes ns1 and iks at the public address when one is given, else at the listening addresses', () => {

        const listening = loadConfig({ env: { IKS_HTTP_HOST: '0.0.0.0', IKS_DNS_HOST: '192.0.2.53' } }).zone.addresses;
        expect(listening).to.equal([{ name: 'ns1.example.test', a: ['192.0.2.53'] }, { name: 'iks.example.test', a: ['127.0.0.1'] }]);

        const published = loadConfig({ env: { IKS_HTTP_HOST: '0.0.0.0', IKS_DNS_HOST: '0.0.0.0', IKS_ZONE_PUBLIC_ADDRESS: '2001:db8::10' } }).zone.addresses;
        expect(published).to.equal([{ name: 'ns1.example.test', aaaa: ['2001:db8::10'] }, { name: 'iks.example.test', aaaa: ['2001:db8::10'] }]);
        expect(() => loadConfig({ env: { IKS_ZONE_PUBLIC_ADDRESS: 'iks.example.test' } })).to.throw(InvalidConfig, /IKS_ZONE_PUBLIC_ADDRESS/);
    });

    it('fails on an unreadable or non-object config file', () => {

        expect(() => loadConfig({ env: {}, file: '/nonexistent/iks.json' })).to.throw(InvalidConfig, /cannot read config file/);
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-config-'));
        const file = Path.join(dir, 'iks.json');
        Fs.writeFileSync(file, '[1]');
        expect(() => loadConfig({ env: {}, file })).to.throw(InvalidConfig, /must hold a JSON object/);
        Fs.writeFileSync(file, JSON.stringify({ unknownSetting: 1 }));
        expect(() => loadConfig({ env: {}, file })).to.throw(InvalidConfig, /"unknownSetting" \(from .*iks\.json\): .*not allowed/);
        Fs.rmSync(dir, { recursive: true });
    });

    it('bounds negativeValidity as the iks-query plugin does, naming the variable', () => {

        expect(loadConfig({ env: { IKS_NEGATIVE_VALIDITY: '86400' } }).negativeValidity).to.equal(86400);
        expect(() => loadConfig({ env: { IKS_NEGATIVE_VALIDITY: '86401' } })).to.throw(InvalidConfig, /"negativeValidity" \(from IKS_NEGATIVE_VALIDITY\): .*less than or equal to 86400/);
    });

    describe('config files', () => {

        const withFile = (content: unknown, env: NodeJS.ProcessEnv = {}) => {

            const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-config-'));
            const file = Path.join(dir, 'iks.json');
            Fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
            try {
                return loadConfig({ env, file });
            }
            finally {
                Fs.rmSync(dir, { recursive: true });
            }
        };

        it('refuses a variable under a setting the file gives as a non-object, naming both', () => {

            expect(() => withFile({ http: 'x' }, { IKS_HTTP_PORT: '8081' })).to.throw(InvalidConfig, /invalid setting "http": it must be an object, to hold "http.port" \(from IKS_HTTP_PORT\)/);
            expect(() => withFile({ register: { passwordFailures: 5 } }, { IKS_REGISTER_PASSWORD_LOCKOUT: '60' })).to.throw(InvalidConfig, /"register.passwordFailures": it must be an object/);
        });

        it('refuses __proto__, constructor and prototype keys (no setting arrives as an inherited default)', () => {

            expect(() => withFile('{"__proto__":{"domain":"evil.test"}}')).to.throw(InvalidConfig, /invalid setting "__proto__" \(from .*iks\.json\): "__proto__" is not allowed/);
            expect(() => withFile('{"http":{"__proto__":{"port":1}}}')).to.throw(InvalidConfig, /"http.__proto__"/);
            expect(() => withFile({ constructor: { prototype: {} } })).to.throw(InvalidConfig, /"constructor"/);
            expect(() => withFile({ zone: { prototype: 1 } })).to.throw(InvalidConfig, /"zone.prototype"/);
            expect(loadConfig({ env: {} }).domain).to.equal('example.test');
        });
    });

    it('refuses a zone that publishes what clients cannot reach, naming the setting', () => {

        expect(() => loadConfig({ env: { IKS_ZONE_PUBLIC_ADDRESS: '0.0.0.0' } })).to.throw(InvalidConfig, /"zone.publicAddress" \(from IKS_ZONE_PUBLIC_ADDRESS\): 0.0.0.0 is the unspecified address/);
        expect(() => loadConfig({ env: { IKS_ZONE_PUBLIC_ADDRESS: '::' } })).to.throw(InvalidConfig, /"zone.publicAddress"/);
        expect(() => loadConfig({ env: {}, overrides: { zone: { addresses: [{ name: 'iks.example.test', a: ['0.0.0.0'] }, { name: 'ns1.example.test', a: ['192.0.2.1'] }] } } })).to.throw(InvalidConfig, /"zone.addresses.0" .*unspecified address/);
        expect(() => loadConfig({ env: {}, overrides: { zone: { srv: [{ service: '_ikqs._tcp', port: 443, target: 'www.example.test' }] } } })).to.throw(InvalidConfig, /"zone.srv.0.target" .*www.example.test is in example.test but "zone.addresses" .*gives it no address/);
        expect(() => loadConfig({ env: {}, overrides: { zone: { nameservers: ['ns2.example.test'] } } })).to.throw(InvalidConfig, /"zone.nameservers.0" .*ns2.example.test .*no address/);
        // Out-of-zone targets and nameservers are published elsewhere.
        const outside = loadConfig({ env: {}, overrides: { zone: { nameservers: ['ns.provider.test'], srv: [{ service: '_ikqs._tcp', port: 443, target: 'iks.provider.test' }] } } });
        expect(outside.zone.nameservers).to.equal(['ns.provider.test']);
    });

    it('accepts http.port 0 (listening on a free port) but refuses to publish it in SRV', () => {

        const config = loadConfig({ env: { IKS_HTTP_PORT: '0' } });
        expect(config.http.port).to.equal(0);
        expect(() => assertPublishableZone(config)).to.throw(InvalidConfig, /_ikqs._tcp SRV with port 0: "http.port" \(IKS_HTTP_PORT\) is 0/);
        expect(() => assertPublishableZone(loadConfig({ env: {} }))).to.not.throw();
    });
});
