/**
 * `npm start`: a complete demo domain in one process — keys, demo names, the
 * gateway and an in-process updater. The privilege split is still in the code:
 * the gateway plugins load only the RSK; the updater module alone loads the KSK.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import type { IksConfig } from '../../config';
import { domainDir } from '../../config';
import { createUpdater, startZoneRefresh } from '../../workers/updater';
import { createGateway } from '../gateway';
import { IksMetrics, nameHash } from '../observability';
import { makeDirectory } from '../files';
import { ensureDomainKeys, parsePublicKey } from '../keys';
import { nameToUrlForm } from '../names';
import { hashPassword } from '../registration/password';
import { InvalidInput } from '../errors';
import { registrationOf } from '../store/registration';
import { listenFailure } from './listen';
import { storeLabel } from './store';
import type { Registration, Store } from '../store/types';

export const demoEntities = ['alice', 'bob'] as const;

const internals = {
    // RFC 2606 / RFC 6761: names that can never be someone's real domain.
    reservedTlds: ['test', 'example', 'invalid', 'localhost'],
    reservedDomains: ['example.com', 'example.net', 'example.org']
};

/** Whether `domain` is one of the reserved example domains or under one (RFC 2606, RFC 6761). */
export function isExampleDomain(domain: string): boolean {

    const name = domain.toLowerCase().replace(/\.$/, '');
    return internals.reservedTlds.some((tld) => name === tld || name.endsWith(`.${tld}`)) ||
        internals.reservedDomains.some((reserved) => name === reserved || name.endsWith(`.${reserved}`));
}

/**
 * The quickstart seeds demo names and password users (alice, bob) whose passwords sit in
 * a file: refused for a domain that could be real unless `allowRealDomain`; a store
 * named by IKS_REDIS_URL (possibly shared) gets a warning, since the demo runs on Redis too.
 * Returns the warnings to print.
 */
export function checkDemoTarget(config: IksConfig, options: { readonly allowRealDomain?: boolean } = {}): string[] {

    if (!isExampleDomain(config.domain) && !options.allowRealDomain) {
        throw new InvalidInput('QUICKSTART_REFUSED', `the quickstart registers demo keys and creates the demo users ${demoEntities.join(' and ')} with known passwords in ${config.domain}, which is not a reserved example domain (.test, .example, example.com…); for a real domain use \`iks init\`, \`iks serve\` and \`iks user add\`, or pass --allow-real-domain to seed the demo anyway`);
    }

    const warnings: string[] = [];
    if (!isExampleDomain(config.domain)) {
        warnings.push(`WARNING: demo users ${demoEntities.map((entity) => `${entity}@${config.domain}`).join(', ')} with known passwords are being created in a domain that is not a reserved example domain (--allow-real-domain)`);
    }

    if (config.redisUrl) {
        warnings.push(`WARNING: the quickstart writes demo keys and demo users with known passwords into ${storeLabel(config)}; give it a Redis of its own, never one that serves a real domain`);
    }

    return warnings;
}

/** Registers an Ed25519 signing key and an X25519 encryption key for each demo entity that has none. */
export async function seedDemoNames(config: IksConfig, store: Store, now = Date.now()): Promise<string[]> {

    const demoDir = Path.join(domainDir(config), 'demo');
    makeDirectory(demoDir, 0o700);
    const seeded: string[] = [];
    for (const entity of demoEntities) {
        const name = `${entity}@${config.domain}`;
        if ((await store.getRegistrations(name)).length > 0) {
            continue;
        }

        const registrations: Registration[] = [];
        for (const [type, usage] of [['ed25519', 'sign'], ['x25519', 'encrypt']] as const) {
            const pair = generateKeyPairSync(type as 'ed25519');
            // The demo's private halves stay on disk so the examples can use them.
            Fs.writeFileSync(Path.join(demoDir, `${entity}-${type}.pem`), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
            const key = parsePublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
            registrations.push(registrationOf(name, key, [usage], now));
        }

        await store.putRegistrations(registrations);
        seeded.push(name);
    }

    return seeded;
}

/** Where the quickstart writes the demo users' passwords (mode 0600). */
export function demoUsersFile(config: IksConfig): string {

    return Path.join(domainDir(config), 'demo-users.json');
}

/**
 * Creates a password user for each demo entity that has none, and writes every demo
 * password it knows to demo-users.json (mode 0600) as `{"alice@example.test": "…"}`.
 * Demo only: a real deployment creates users with `iks user add`.
 */
export async function seedDemoUsers(config: IksConfig, store: Store): Promise<string[]> {

    const file = demoUsersFile(config);
    let known: Record<string, string> = {};
    try {
        known = JSON.parse(Fs.readFileSync(file, 'utf8')) as Record<string, string>;
    }
    catch {
        // First start (or an unreadable file): only users created now are written.
    }

    const created: string[] = [];
    for (const entity of demoEntities) {
        const name = `${entity}@${config.domain}`;
        if (await store.getUser(name)) {
            continue;
        }

        const password = randomBytes(12).toString('base64url');
        await store.putUser({ name, passwordHash: await hashPassword(password), disabled: false, createdAt: Date.now() });
        known[name] = password;
        created.push(name);
    }

    const temp = `${file}.${process.pid}.tmp`;
    Fs.writeFileSync(temp, `${JSON.stringify(known, null, 2)}\n`, { mode: 0o600 });
    Fs.chmodSync(temp, 0o600);
    Fs.renameSync(temp, file);
    return created;
}

/** The commands that work against a running quickstart. */
export function quickstartCommands(config: IksConfig): string[] {

    const base = `http://${config.http.host}:${config.http.port}`;
    const publicDir = Path.relative(process.cwd(), Path.join(domainDir(config), 'public')) || '.';
    const bob = nameToUrlForm(`bob@${config.domain}`);
    const dns = `@${config.dns.host} -p ${config.dns.port}`;
    return [
        ...(config.dns.enabled ? [
            `dig ${dns} _ikqs._tcp.${config.domain} SRV +dnssec`,
            `delv ${dns} -a ${publicDir}/trust-anchor.conf +root=${config.domain} _ikqs._tcp.${config.domain} SRV`
        ] : []),
        `curl -s ${base}/ikqs/v1/n/${bob} > bob.xml`,
        `xmlsec1 --verify --pubkey-pem ${publicDir}/ksk.pem bob.xml`,
        `xmllint --noout --schema lib/xml/schema/iks.xsd bob.xml`,
        `curl -s ${base}/ikqs/v1/n/$(printf nobody@${config.domain} | basenc --base64url | tr -d =) > nobody.xml   # 404, RSK-signed`,
        `xmlsec1 --verify --pubkey-pem ${publicDir}/rsk.pem nobody.xml`,
        `npx iks lookup bob@${config.domain}`,
        `npx iks import keys.jsonl   # JSON lines: {"name": "carol@${config.domain}", "key": "<PEM or OpenSSH>", "usage": ["sign"]}`,
        `openssl genpkey -algorithm ed25519 -out alice.key && openssl pkey -in alice.key -pubout -out alice.pub`,
        `node -p 'require("./${Path.relative(process.cwd(), demoUsersFile(config))}")["alice@${config.domain}"]' | npx iks register alice@${config.domain} --key alice.pub --usage iks-auth sign --password-stdin`,
        `npx iks revoke alice@${config.domain} <key id> --reason superseded --auth-key alice.key`
    ];
}

export interface Running {
    readonly url: string;
    stop(): Promise<void>;
}

/** Starts the quickstart; resolves once the gateway listens and the domain documents are signed. */
export async function startQuickstart(config: IksConfig, store: Store, log: (line: string) => void): Promise<Running> {

    const { created } = ensureDomainKeys(config.dataDir, config.domain);
    if (created.length > 0) {
        log(`created ${created.join(', ')} keys under ${domainDir(config)}`);
    }

    const seeded = await seedDemoNames(config, store);
    if (seeded.length > 0) {
        log(`registered demo keys for ${seeded.join(', ')}`);
    }

    const users = await seedDemoUsers(config, store);
    if (users.length > 0) {
        log(`created demo users ${users.join(', ')}; passwords in ${demoUsersFile(config)}`);
    }

    const stopZoneRefresh = startZoneRefresh(config, log);
    // In `ondemand`/`online` the plugin that holds the KSK runs the queue loop itself (paper §6).
    // One registry for gateway and updater, so the quickstart's /metrics shows signing latency.
    const metrics = new IksMetrics();
    const updater = config.signing === 'offline' ? createUpdater(config, store, { onError: (error, name) => log(`updater: #${nameHash(name)}: ${(error as Error).message}`), onSigned: metrics.signingObserver(config.domain) }) : null;
    await store.enqueue([config.domain]);
    await updater?.drain();
    updater?.start();

    let server: Awaited<ReturnType<typeof createGateway>> | undefined;
    try {
        server = await createGateway(config, { store, metrics });
        await server.start();
    }
    catch (error) {
        // The zone refresh timer, the updater and a bound DNS listener would keep the process alive.
        stopZoneRefresh();
        await server?.stop({ timeout: 1000 }).catch(() => {});
        await updater?.stop();
        throw listenFailure(error, config);
    }

    const started = server;
    return {
        url: started.info.uri,
        async stop() {

            stopZoneRefresh();
            await started.stop({ timeout: 2000 });
            await updater?.stop();
        }
    };
}
