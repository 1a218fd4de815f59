import * as Fs from 'node:fs';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import { main } from '../../lib/cli';
import { activateKsk, finishKskRollover, initDomain, startKskRollover } from '../../lib/cli/keys';
import type { Output } from '../../lib/cli/output';
import { claimedSigner, DnsDiscovery, IksClient } from '../../lib/client';
import { RrType } from '../../lib/dns/types';
import { parseTrustAnchors } from '../../lib/dnssec';
import { createGateway } from '../../lib/gateway';
import { InvalidKey, RolloverRefused, StoreUnavailable } from '../../lib/errors';
import { activateIncomingKsk, createIncomingKsk, loadDomainSigningKey, publishedKsks, rolloverPhase } from '../../lib/keys';
import type { DnsAuthorityApi } from '../../plugins/dns-authority';
import { createUpdater } from '../../workers/updater';
import { NameSigner, publishedDomainKeys, signingPolicy } from '../../workers/updater/signer';
import { zonePaths } from '../../workers/updater/zone';
import { makeDomain, makeRegistration, overrideStore, type TestDomain } from '../helpers/domain';
import { eventually } from '../helpers/eventually';
import { freePort } from '../helpers/process';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

function capture(): Output & { stdout: string[]; stderr: string[] } {

    const stdout: string[] = [];
    const stderr: string[] = [];
    return { stdout, stderr, out: (line) => stdout.push(...line.split('\n')), err: (line) => stderr.push(line) };
}


describe('iks init and iks keys rotate ksk', () => {

    let domain: TestDomain;
    let gateway: Hapi.Server;
    let configFile: string;
    let dnsPort: number;

    /** Runs `iks …` in process with the test domain's configuration. */
    const iks = async (...args: string[]) => {

        const io = capture();
        const code = await main(['node', 'iks', '--config', configFile, ...args], io);
        return { code, ...io };
    };

    const dnsAuthority = () => (gateway.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!;
    const servedCommitments = () => (dnsAuthority().zone()?.rrsets ?? []).filter((rrset) => rrset.type === RrType.TXT && rrset.name.startsWith('sha256.')).map((rrset) => rrset.name.split('.')[1]);

    before(async () => {

        const httpPort = await freePort();
        domain = await makeDomain({ env: { IKS_HTTP_PORT: String(httpPort) } });
        // The same settings for the CLI as for the gateway, so both build the same zone.
        configFile = Path.join(domain.dataDir, 'iks.json');
        Fs.writeFileSync(configFile, JSON.stringify({ domain: domain.domain, dataDir: domain.dataDir, http: { port: httpPort }, logLevel: 'warn' }));
        await domain.store.putRegistrations([makeRegistration('bob@example.test', 'x25519', { usage: ['encrypt'] })]);
        await domain.store.enqueue([domain.domain]);
        await createUpdater(domain.config, domain.store).drain();
        gateway = await createGateway(domain.config, { store: domain.store, dnsPort: 0 });
        await gateway.start();
        dnsPort = dnsAuthority().address()!.port;
    });

    after(async () => {

        await gateway?.stop();
        await domain?.cleanup();
    });

    it('init prints the SRV and commitment records and the DS to publish', async () => {

        const { code, stdout } = await iks('init');
        expect(code).to.equal(0);
        const ksk = publishedKsks(domain.dataDir, domain.domain)[0]!;
        const text = stdout.join('\n');
        expect(text).to.contain('all keys already exist');
        expect(text).to.contain(`KSK name: ${ksk.keyName}`);
        expect(text).to.match(/_ikqs\._tcp\.example\.test\.\t3600\tIN\tSRV\t10 100 \d+ iks\.example\.test\./);
        expect(text).to.match(/_ikrs\._tcp\.example\.test\.\t3600\tIN\tSRV\t10 100 \d+ iks\.example\.test\./);
        expect(text).to.match(new RegExp(`sha256\\.${ksk.keyName}\\.example\\.test\\.\\t3600\\tIN\\tTXT\\t"[0-9a-f]{64}"`));
        expect(text).to.match(new RegExp(`sha1\\.${ksk.keyName}\\.example\\.test\\.\\t3600\\tIN\\tTXT\\t"[0-9a-f]{40}"`));
        expect(text).to.match(/example\.test\. 3600 IN DS \d+ 13 2 [0-9A-Fa-f]{64}/);
    });

    it('refuses steps out of order and other key roles, saying what to do', async () => {

        const rsk = await iks('keys', 'rotate', 'rsk');
        expect(rsk.code).to.equal(2);
        expect(rsk.stderr.join('\n')).to.contain('only the KSK rotates with this command');
        const activate = await iks('keys', 'rotate', 'ksk', '--activate', '--overlap', '0');
        expect(activate.stderr.join('\n')).to.contain('ROLLOVER_REFUSED: no new KSK is published; start with `iks keys rotate ksk`');
        const finish = await iks('keys', 'rotate', 'ksk', '--finish', '--overlap', '0');
        expect(finish.stderr.join('\n')).to.contain('no rollover is under way');
        // Nothing read as a shorter wait than was meant: no prefix of "12abc", no mantissa of "3.6e3".
        for (const overlap of ['soon', '12abc', '3.6e3', '-5', '1.5']) {
            const refused = await iks('keys', 'rotate', 'ksk', '--overlap', overlap);
            expect(refused.code).to.equal(2);
            expect(refused.stderr.join('\n')).to.contain('--overlap must be a whole number of seconds');
        }

        expect(rolloverPhase(domain.dataDir, domain.domain).phase).to.equal('none');
        for (const order of [['--activate', '--finish'], ['--finish', '--activate']]) {
            const both = await iks('keys', 'rotate', 'ksk', ...order, '--overlap', '0');
            expect(both.code).to.equal(2);
            expect(both.stderr.join('\n')).to.contain('option \'--finish\' cannot be used with option \'--activate\'');
        }

        expect(rolloverPhase(domain.dataDir, domain.domain).phase).to.equal('none');
    });

    it('rolls the KSK over while lookups verified through DNSSEC keep succeeding', async () => {

        const anchors = parseTrustAnchors(Fs.readFileSync(zonePaths(domain.config).trustAnchor, 'utf8'));
        const oldKsk = publishedKsks(domain.dataDir, domain.domain)[0]!.keyName;
        const signers: string[] = [];
        const failures: unknown[] = [];
        let running = true;

        // A fresh client per lookup: nothing cached hides a broken link.
        const lookups = (async () => {

            while (running) {
                try {
                    const client = new IksClient({ discovery: new DnsDiscovery({ server: { host: '127.0.0.1', port: dnsPort }, anchors, timeoutMs: 1000 }), timeout: 2000 });
                    const result = await client.lookup('bob@example.test');
                    expect(result.found).to.be.true();
                    signers.push(/ksk-[0-9a-f]{12}/.exec(result.links.find((link) => link.link === 'ksk')!.detail)![0]);
                }
                catch (error) {
                    failures.push(error);
                }
            }
        })();

        const lookupsSoFar = () => signers.length + failures.length;
        const someLookups = async () => {

            const before = lookupsSoFar();
            await eventually(() => lookupsSoFar() >= before + 3);
        };

        try {
            await someLookups();

            // Step 1: the new commitment is published next to the old one; nothing signs with it yet.
            const started = await iks('keys', 'rotate', 'ksk');
            expect(started.code, started.stderr.join('\n')).to.equal(0);
            const newKsk = /new KSK (ksk-[0-9a-f]{12}) created/.exec(started.stdout.join('\n'))![1]!;
            expect(started.stdout.join('\n')).to.contain(`sha256.${newKsk}.example.test.`);
            expect(rolloverPhase(domain.dataDir, domain.domain).phase).to.equal('published');

            // Activating before the overlap is refused.
            const early = await iks('keys', 'rotate', 'ksk', '--activate');
            expect(early.code).to.equal(2);
            expect(early.stderr.join('\n')).to.contain('ROLLOVER_REFUSED');

            // The overlap, as the test can observe it: the authority serves both commitments.
            await eventually(() => servedCommitments().includes(newKsk));
            expect(servedCommitments()).to.include([oldKsk, newKsk]);
            await someLookups();

            // Step 2: every document is re-signed by the new KSK while both commitments stay.
            const activated = await iks('keys', 'rotate', 'ksk', '--activate', '--overlap', '0');
            expect(activated.code, activated.stderr.join('\n')).to.equal(0);
            expect(activated.stdout.join('\n')).to.contain(`KSK ${newKsk} is active; ${oldKsk} is retired`);
            await eventually(() => signers.slice(-3).length === 3 && signers.slice(-3).every((signer) => signer === newKsk));

            // Step 3: only once the overlap is given, the old commitment is withdrawn.
            expect((await iks('keys', 'rotate', 'ksk', '--finish')).code).to.equal(2);
            const finished = await iks('keys', 'rotate', 'ksk', '--finish', '--overlap', '0');
            expect(finished.code, finished.stderr.join('\n')).to.equal(0);
            await eventually(() => !servedCommitments().includes(oldKsk));
            expect(servedCommitments()).to.equal([newKsk]);
            await someLookups();
        }
        finally {
            running = false;
            await lookups;
        }

        expect(failures).to.equal([]);
        expect(signers[0]).to.equal(oldKsk);
        expect(signers[signers.length - 1]).to.equal(publishedKsks(domain.dataDir, domain.domain)[0]!.keyName);
        expect(rolloverPhase(domain.dataDir, domain.domain).phase).to.equal('none');
        expect(Fs.readdirSync(Path.join(domain.dataDir, domain.domain, 'private')).sort()).to.equal(['enc.pem', 'ksk.pem', 'rsk.pem', 'zsk.pem']);
    });

    it('signs the zone when started again after a run that stopped before signing it, and restarts the wait', async () => {

        const fresh = await makeDomain({ env: { IKS_DNS_ENABLED: 'false' } });
        try {
            const signedZone = () => Fs.readFileSync(zonePaths(fresh.config).signedZone, 'utf8');
            signedZone();
            // A first run that stopped right after creating the key, an hour ago: no commitment in the zone.
            const incoming = createIncomingKsk(fresh.dataDir, fresh.domain, { now: Date.now() - 3_600_000 });
            expect(signedZone()).to.not.contain(`sha256.${incoming.keyName}`);

            const now = Date.now();
            expect(() => startKskRollover(fresh.config, { overlap: 60, now })).to.throw(RolloverRefused, /lacked its commitment .* carries it now, so wait until/);
            expect(signedZone()).to.contain(`sha256.${incoming.keyName}`);
            expect(rolloverPhase(fresh.dataDir, fresh.domain).state.publishedAt).to.equal(now);
            // The wait counts from now, not from the hour-old record.
            expect(() => activateIncomingKsk(fresh.dataDir, fresh.domain, { overlap: 60_000, now: now + 1000 })).to.throw(RolloverRefused, /wait until/);

            // Run once more, the zone is current: refused as before, the wait left as it is.
            expect(() => startKskRollover(fresh.config, { overlap: 60, now: now + 2000 })).to.throw(RolloverRefused, 'a new KSK is already published; activate it with `iks keys rotate ksk --activate`');
            expect(rolloverPhase(fresh.dataDir, fresh.domain).state.publishedAt).to.equal(now);
        }
        finally {
            await fresh.cleanup();
        }
    });

    it('init on a gateway host (private rsk and enc only) keeps the published KSK and zone key and says they are held elsewhere', async () => {

        const fresh = await makeDomain({ env: { IKS_DNS_ENABLED: 'false' } });
        try {
            const dir = Path.join(fresh.dataDir, fresh.domain);
            const read = (file: string) => Fs.readFileSync(Path.join(dir, file), 'utf8');
            const published = ['public/ksk.pem', 'public/zsk.pem', 'public/ds.txt', 'public/zone.signed'].map(read);
            Fs.rmSync(Path.join(dir, 'private', 'ksk.pem'));
            Fs.rmSync(Path.join(dir, 'private', 'zsk.pem'));

            const lines = initDomain(fresh.config).join('\n');
            expect(lines).to.contain('ksk: public only (held elsewhere)');
            expect(lines).to.contain('zsk: public only (held elsewhere)');
            expect(lines).to.contain('zone not signed here');
            expect(lines).to.not.contain('all keys already exist');
            expect(['public/ksk.pem', 'public/zsk.pem', 'public/ds.txt', 'public/zone.signed'].map(read)).to.equal(published);
            expect(Fs.readdirSync(Path.join(dir, 'private')).sort()).to.equal(['enc.pem', 'rsk.pem']);

            // A partial restore: private and public halves of different keys are refused in plain words.
            const other = await makeDomain({ env: { IKS_DNS_ENABLED: 'false' } });
            Fs.copyFileSync(Path.join(other.dataDir, other.domain, 'public', 'rsk.pem'), Path.join(dir, 'public', 'rsk.pem'));
            await other.cleanup();
            expect(() => initDomain(fresh.config)).to.throw(InvalidKey, /the rsk key files do not match/);
        }
        finally {
            await fresh.cleanup();
        }
    });

    it('--activate checks the store before switching the KSK, and completes an activation that stopped before re-signing', async () => {

        const fresh = await makeDomain({ env: { IKS_DNS_ENABLED: 'false' } });
        try {
            await fresh.store.putRegistrations([makeRegistration('carol@example.test')]);
            await fresh.store.enqueue([fresh.domain, 'carol@example.test']);
            await createUpdater(fresh.config, fresh.store).drain();
            const oldKsk = publishedKsks(fresh.dataDir, fresh.domain)[0]!.keyName;
            const incoming = createIncomingKsk(fresh.dataDir, fresh.domain, { now: Date.now() - 3_600_000 });

            // The store is down: nothing changes, the rollover stays where it was.
            const down = overrideStore(fresh.store, { ping: () => Promise.reject(new StoreUnavailable('connection refused')) });
            await expect(activateKsk(fresh.config, down, { overlap: 0 })).to.reject(StoreUnavailable);
            expect(rolloverPhase(fresh.dataDir, fresh.domain).phase).to.equal('published');
            expect(publishedKsks(fresh.dataDir, fresh.domain)[0]!.keyName).to.equal(oldKsk);

            // An activation that switched the KSK and then could not queue the re-signing (the store failed after the check).
            activateIncomingKsk(fresh.dataDir, fresh.domain, { overlap: 0 });
            const signer = async () => claimedSigner((await fresh.store.getDocument('carol@example.test', 'list'))!.body);
            expect(await signer()).to.equal(oldKsk);

            const completed = await activateKsk(fresh.config, fresh.store, { overlap: 0 });
            expect(completed[0]).to.equal(`KSK ${incoming.keyName} was already active (${oldKsk} retired): completing the earlier activation by re-signing every name`);
            expect(completed[1]).to.match(/^re-signed \d+ of \d+ name\(s\)$/);
            expect(await signer()).to.equal(incoming.keyName);
            expect(rolloverPhase(fresh.dataDir, fresh.domain).phase).to.equal('active');
            // Nothing is signed by the retired KSK any more: finishing works.
            expect((await finishKskRollover(fresh.config, fresh.store, { overlap: 0 }))[0]).to.equal(`KSK ${oldKsk} withdrawn: its commitment is gone from the signed zone`);
        }
        finally {
            await fresh.cleanup();
        }
    });

    it('refuses to finish while a document is still signed by the retired KSK', async () => {

        const started = await iks('keys', 'rotate', 'ksk');
        expect(started.code).to.equal(0);
        // A signer that still holds the old KSK and cannot see the new one (on another host,
        // with its own copy of public/: a signer that can see it stops, test/cli/updater.ts).
        const stale = createUpdater(domain.config, domain.store, {
            signer: new NameSigner({ store: domain.store, domain: domain.domain, ksk: loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk'), published: publishedDomainKeys(domain.dataDir, domain.domain), policy: signingPolicy(domain.config) })
        });
        const activated = await iks('keys', 'rotate', 'ksk', '--activate', '--overlap', '0');
        expect(activated.code).to.equal(0);
        await domain.store.enqueue(['bob@example.test']);
        await stale.drain();

        const refused = await iks('keys', 'rotate', 'ksk', '--finish', '--overlap', '0');
        expect(refused.code).to.equal(2);
        expect(refused.stderr.join('\n')).to.contain('1 name(s) are still signed by the retired KSK');
        // Requeued: a signer with the new KSK fixes it, then finishing works.
        await createUpdater(domain.config, domain.store).drain();
        expect((await iks('keys', 'rotate', 'ksk', '--finish', '--overlap', '0')).code).to.equal(0);
    });

    it('resumes an --activate that died midway: the old KSK stays committed and --finish works', async () => {

        const oldKsk = publishedKsks(domain.dataDir, domain.domain)[0]!.keyName;
        expect((await iks('keys', 'rotate', 'ksk')).code).to.equal(0);
        const newKsk = publishedKsks(domain.dataDir, domain.domain).find((ksk) => ksk.state === 'incoming')!.keyName;

        // The first run died after replacing public/ksk.pem, before recording the activation.
        const dir = Path.join(domain.dataDir, domain.domain);
        Fs.copyFileSync(Path.join(dir, 'public', 'ksk.pem'), Path.join(dir, 'public', 'ksk.retired.pem'));
        Fs.copyFileSync(Path.join(dir, 'private', 'ksk.next.pem'), Path.join(dir, 'private', 'ksk.pem'));
        Fs.copyFileSync(Path.join(dir, 'public', 'ksk.next.pem'), Path.join(dir, 'public', 'ksk.pem'));

        const activated = await iks('keys', 'rotate', 'ksk', '--activate', '--overlap', '0');
        expect(activated.code, activated.stderr.join('\n')).to.equal(0);
        expect(activated.stdout.join('\n')).to.contain(`KSK ${newKsk} is active; ${oldKsk} is retired`);
        expect(publishedKsks(domain.dataDir, domain.domain).map((ksk) => [ksk.state, ksk.keyName])).to.equal([['active', newKsk], ['retired', oldKsk]]);
        await eventually(() => servedCommitments().length === 2);
        expect(servedCommitments()).to.include([oldKsk, newKsk]);

        const finished = await iks('keys', 'rotate', 'ksk', '--finish', '--overlap', '0');
        expect(finished.code, finished.stderr.join('\n')).to.equal(0);
        expect(finished.stdout.join('\n')).to.contain(`KSK ${oldKsk} withdrawn`);
        // The records to take out of DNS servers IKS does not run (docs/operations.md).
        expect(finished.stdout.join('\n')).to.contain(`remove: sha256.${oldKsk}.${domain.domain}. TXT and sha1.${oldKsk}.${domain.domain}. TXT`);
        await eventually(() => !servedCommitments().includes(oldKsk));
        expect(servedCommitments()).to.equal([newKsk]);
    });
});
