import { createHash, generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';
import Pino from 'pino';

import { runUpdater } from '../../lib/cli/updater';
import { RegistrationClient } from '../../lib/client/registration';
import { DnsStub } from '../../lib/dns/stub';
import { RrType } from '../../lib/dns/types';
import { createGateway } from '../../lib/gateway';
import { loadDomainPublicKey } from '../../lib/keys';
import { nameToUrlForm } from '../../lib/names';
import { IksMetrics, nameHash, redactPath, requestLogging, startMetricsServer } from '../../lib/observability';
import { hashPassword } from '../../lib/registration/password';
import { RedisStore } from '../../lib/store';
import type { DnsAuthorityApi } from '../../plugins/dns-authority';
import { createUpdater } from '../../workers/updater';
import { makeDomain, makeRegistration, overrideStore, type TestDomain } from '../helpers/domain';
import { eventually } from '../helpers/eventually';
import { injectFetch } from '../helpers/inject-fetch';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

export const lab = Lab.script();
const { describe, it, before, after } = lab;


/** One sample of the Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {

    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('gateway observability: /metrics, /readyz and logs', () => {

    let redis: RedisServer;
    let store: RedisStore;
    let domain: TestDomain;
    let server: Hapi.Server;
    const metrics = new IksMetrics();
    const logLines: Record<string, unknown>[] = [];
    const rawLog: string[] = [];
    const password = 'correct horse battery staple';

    before(async () => {

        // AOF on: the store's contents survive the kill and restart below, as in production.
        redis = await startRedisServer({ appendonly: true });
        store = new RedisStore({ url: redis.url, keyPrefix: 'iks-observability' });
        domain = await makeDomain({ store });
        await store.putRegistrations([makeRegistration('bob@example.test')]);
        await store.putUser({ name: 'alice@example.test', passwordHash: await hashPassword(password, { N: 1024, r: 8, p: 1 }), disabled: false, createdAt: Date.now() });
        await store.enqueue([domain.domain]);
        await createUpdater(domain.config, store).drain();

        const sink = new Writable({
            write(chunk: Buffer, _encoding, done) {

                for (const line of chunk.toString().split('\n').filter(Boolean)) {
                    rawLog.push(line);
                    logLines.push(JSON.parse(line) as Record<string, unknown>);
                }

                done();
            }
        });
        server = await createGateway(domain.config, { store, port: 0, dnsPort: 0, logger: Pino({ level: 'info' }, sink), metrics });
        await server.start();
    });

    after(async () => {

        await server?.stop();
        await store?.close();
        await domain?.cleanup();
        await redis?.stop();
    });

    it('counts a lookup, a negative lookup, a 304, a registration and a DNS query in /metrics', async () => {

        const bob = `/ikqs/v1/n/${nameToUrlForm('bob@example.test')}`;
        const hit = await server.inject(bob);
        expect(hit.statusCode).to.equal(200);
        expect((await server.inject({ url: bob, headers: { 'if-none-match': hit.headers.etag as string } })).statusCode).to.equal(304);
        expect((await server.inject(`/ikqs/v1/n/${nameToUrlForm('nobody@example.test')}`)).statusCode).to.equal(404);
        // Not a lookup of this domain's names: a 400 and an unsigned 404, neither an error nor a negative answer.
        expect((await server.inject('/ikqs/v1/n/not-base64!')).statusCode).to.equal(400);
        expect((await server.inject(`/ikqs/v1/n/${nameToUrlForm('bob@other.test')}`)).statusCode).to.equal(404);

        const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
        const client = new RegistrationClient({
            baseUrl: 'http://iks.example.test',
            commitmentFor: async () => ({ sha256: createHash('sha256').update(ksk.spki).digest('hex') }),
            fetch: injectFetch(server)
        });
        const key = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
        expect((await client.register('alice@example.test', { container: key, usage: ['encrypt'] }, { password })).answer.outcome).to.equal('accepted');
        const fault = await server.inject({ method: 'POST', url: '/ikrs/v1', headers: { 'content-type': 'application/soap+xml' }, payload: '<x/>' });
        expect(fault.statusCode).to.equal(400);

        // The in-process updater records into the gateway's registry.
        await createUpdater(domain.config, store, { onSigned: metrics.signingObserver(domain.domain) }).drain();

        const dnsPort = (server.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!.address()!.port;
        await new DnsStub({ server: { host: '127.0.0.1', port: dnsPort } }).query('_ikqs._tcp.example.test', RrType.SRV);

        const res = await server.inject('/metrics');
        expect(res.statusCode).to.equal(200);
        expect(String(res.headers['content-type'])).to.startWith('text/plain');
        const text = res.payload;
        expect(sample(text, 'iks_lookups_total{domain="example.test",document="list",outcome="hit"}')).to.equal(1);
        expect(sample(text, 'iks_lookups_total{domain="example.test",document="list",outcome="not-modified"}')).to.equal(1);
        expect(sample(text, 'iks_lookups_total{domain="example.test",document="list",outcome="negative"}')).to.equal(1);
        expect(sample(text, 'iks_lookups_total{domain="example.test",document="list",outcome="bad-request"}')).to.equal(1);
        expect(sample(text, 'iks_lookups_total{domain="example.test",document="list",outcome="not-served"}')).to.equal(1);
        expect(sample(text, 'iks_lookups_total{domain="example.test",document="list",outcome="error"}')).to.be.undefined();
        expect(sample(text, 'iks_registrations_total{domain="example.test",operation="register",method="password",outcome="accepted"}')).to.equal(1);
        expect(sample(text, 'iks_registrations_total{domain="example.test",operation="unknown",method="none",outcome="fault"}')).to.equal(1);
        expect(sample(text, 'iks_dns_queries_total{zone="example.test",transport="udp",qtype="SRV",rcode="NOERROR"}')).to.equal(1);
        expect(sample(text, 'iks_store_up{domain="example.test"}')).to.equal(1);
        expect(sample(text, 'iks_signing_duration_seconds_count{domain="example.test",outcome="signed"}')).to.equal(1);
        // bob, the domain itself and alice, each waiting for its next re-sign.
        expect(sample(text, 'iks_queue_depth{domain="example.test"}')).to.equal(3);
        expect(sample(text, 'iks_queue_oldest_age_seconds{domain="example.test"}')!).to.be.at.least(0);
        expect(sample(text, 'iks_signature_expiry_horizon_seconds{domain="example.test"}')!).to.be.above(0);
        // The host process's default registry is untouched: ours is per server.
        expect(text).to.not.contain('process_cpu_seconds_total');
    });

    it('logs each request with its id and a name hash, never the name, the password or a key', () => {

        const responses = logLines.filter((line) => typeof line.msg === 'string' && / \/ikqs\/v1\/n\//.test(line.msg));
        expect(responses.length).to.be.at.least(3);
        for (const line of responses) {
            const req = line.req as { id: string; url: string };
            expect(req.id).to.match(/^\d+:/);
            expect(req.url).to.startWith('/ikqs/v1/n/#');
        }

        expect(responses.map((line) => (line.req as { url: string }).url)).to.include(`/ikqs/v1/n/#${nameHash('bob@example.test')}`);
        expect(responses.some((line) => String(line.msg).startsWith(`GET /ikqs/v1/n/#${nameHash('bob@example.test')} 304 (`))).to.be.true();
        expect(responses.some((line) => String(line.msg).startsWith(`GET /ikqs/v1/n/#${nameHash('nobody@example.test')} 404 (`))).to.be.true();
        const audit = logLines.find((line) => Array.isArray(line.tags) && (line.tags as string[]).includes('audit'));
        expect(audit).to.exist();
        expect((audit!.data as { nameHash: string }).nameHash).to.equal(nameHash('alice@example.test'));

        const all = rawLog.join('\n');
        for (const secret of ['bob@example.test', 'alice@example.test', nameToUrlForm('bob@example.test'), nameToUrlForm('alice@example.test'), password, 'PRIVATE KEY', 'Envelope']) {
            expect(all, secret).to.not.contain(secret);
        }
    });

    it('serves the updater\'s own metrics on a bare endpoint', async () => {

        const endpoint = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0 });
        try {
            const res = await fetch(endpoint.url);
            expect(res.status).to.equal(200);
            expect(await res.text()).to.contain('iks_signing_duration_seconds_bucket{le="0.0005",domain="example.test",outcome="signed"}');
            expect((await fetch(endpoint.url.replace('/metrics', '/'))).status).to.equal(404);
        }
        finally {
            await endpoint.close();
        }
    });

    it('hides the URL form of a name behind any prefix', () => {

        expect(redactPath(`/keys/ikqs/v1/n/${nameToUrlForm('bob@example.test')}/k/0123456789abcdef`)).to.equal(`/keys/ikqs/v1/n/#${nameHash('bob@example.test')}/k/0123456789abcdef`);
        expect(redactPath('/orders/7')).to.equal('/orders/7');
        // Near misses (404s) are hidden too: another case, doubled slashes.
        const encoded = nameToUrlForm('carol@example.test');
        for (const path of [`/ikqs//v1/n/${encoded}`, `/IKQS/v1/n/${encoded}`, `//ikqs/v1/N//${encoded}`]) {
            expect(redactPath(path)).to.not.contain(encoded);
            expect(redactPath(path)).to.contain(`#${nameHash('carol@example.test')}`);
        }
    });

    it('logs a store error without its command, whose arguments hold names', () => {

        const { options } = requestLogging(Pino({ level: 'silent' }));
        const error = Object.assign(new Error('BUSY Redis is busy running a script'), { command: { name: 'hget', args: ['iks:{bob@example.test}:doc', 'list'] } });
        const serialized = (options.serializers!.err as (error: Error) => Record<string, unknown>)(error);
        expect(serialized.message).to.equal('BUSY Redis is busy running a script');
        expect(serialized.stack).to.be.a.string();
        expect(JSON.stringify(serialized)).to.not.contain('bob@example.test');
    });

    it('answers /readyz 503 while the store is down and 200 once it is back', async () => {

        const ready = async () => (await server.inject('/readyz')).statusCode;
        expect(await ready()).to.equal(200);
        await redis.kill();
        await eventually(async () => (await ready()) === 503);
        expect(sample((await server.inject('/metrics')).payload, 'iks_store_up{domain="example.test"}')).to.equal(0);
        await redis.start();
        await eventually(async () => (await ready()) === 200);
    });
});

describe('iks updater metrics endpoint', () => {

    it('serves signing latency and the queue on updater.metricsPort while it runs', async () => {

        const domain = await makeDomain({ env: { IKS_UPDATER_METRICS_PORT: '0' } });
        try {
            await domain.store.putRegistrations([makeRegistration('bob@example.test')]);
            const lines: string[] = [];
            let stop: (signal: string) => void = () => {};
            const stopped = new Promise<string>((resolve) => {

                stop = resolve;
            });
            const running = runUpdater(domain.config, domain.store, {}, { out: (line) => lines.push(line), err: () => {} }, () => stopped);
            await eventually(async () => lines.some((line) => line.includes('metrics on ')));
            const url = /metrics on (\S+)/.exec(lines.join('\n'))![1]!;
            // The running updater signs bob and the domain documents; each is timed.
            await eventually(async () => (sample(await (await fetch(url)).text(), 'iks_signing_duration_seconds_count{domain="example.test",outcome="signed"}') ?? 0) >= 2);
            expect(sample(await (await fetch(url)).text(), 'iks_queue_depth{domain="example.test"}')).to.equal(2);
            stop('test');
            expect(await running).to.equal(0);
            await expect(fetch(url)).to.reject();
        }
        finally {
            await domain.cleanup();
        }
    });
});

describe('signer error logs', () => {

    it('name the failing name by its hash only, in the gateway\'s log and in iks updater\'s output', async () => {

        const domain = await makeDomain({ env: { IKS_SIGNING: 'ondemand', IKS_DNS_ENABLED: 'false' } });
        const secret = 'alice.secret-person@example.test';
        // A store whose read for signing fails for that name (a transient store error).
        const failing = overrideStore(domain.store, {
            readForSigning: async (name: string) => {

                if (name === secret) {
                    throw new Error('transient');
                }

                return await domain.store.readForSigning(name);
            }
        });

        const lines: string[] = [];
        const sink = new Writable({
            write(chunk: Buffer, _encoding, done) {

                lines.push(chunk.toString());
                done();
            }
        });
        const server = await createGateway(domain.config, { store: failing, port: 0, logger: Pino({ level: 'info' }, sink) });
        try {
            await server.initialize();
            await domain.store.enqueue([secret]);
            await eventually(() => lines.some((line) => line.includes('transient')), 10_000, 'the signer error logged');
        }
        finally {
            await server.stop();
        }

        const logged = lines.join('');
        expect(logged).to.contain(nameHash(secret));
        expect(logged).to.not.contain('alice.secret-person');

        // The offline signer's command prints what it logs the same way.
        const output: string[] = [];
        const offline = { ...domain.config, signing: 'offline' as const };
        await domain.store.enqueue([secret]);
        expect(await runUpdater(offline, failing, { once: true }, { out: (line) => output.push(line), err: (line) => output.push(line) }, () => Promise.resolve(''))).to.equal(2);
        expect(output.join('\n')).to.contain(`#${nameHash(secret)}: transient`);
        expect(output.join('\n')).to.not.contain('alice.secret-person');
        await domain.cleanup();
    });
});
