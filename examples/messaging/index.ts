/**
 * Example (b): "Alice must locate Bob's key" — a small internal messaging app inside one
 * domain. Alice and Bob each publish an X25519 key through IKS (the registration client,
 * password method), locate each other's key with full verification (the IKS client:
 * DNSSEC-validated SRV and KSK commitment from a trust anchor, KSK-signed key list and
 * key document), and exchange a sealed message (./sealing.ts).
 *
 * The domain's IKS runs in this process so the example is self-contained: keys, store,
 * gateway (HTTP + DNS) and the signer. The participants talk to it only over HTTP and DNS.
 *
 *     npx ts-node --transpile-only examples/messaging/index.ts
 */
import { generateKeyPairSync, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import type Hapi from '@hapi/hapi';

import { loadConfig, type IksConfig } from '../../config';
import { createGateway, DnsDiscovery, EmbeddedStore, IksClient, RegistrationClient, type DnsAuthorityApi, type Store } from '../../lib';
import { parseTrustAnchors, type TrustAnchor } from '../../lib/dnssec';
import { ensureDomainKeys } from '../../lib/keys';
import { hashPassword } from '../../lib/registration/password';
import { createUpdater, ensureSignedZone, zonePaths } from '../../workers/updater';
import { open, seal, type SealedMessage } from './sealing';

/** The domain's IKS as its operator runs it (here in one process). */
export class DomainService {

    private constructor(
        readonly config: IksConfig,
        readonly store: Store,
        readonly gateway: Hapi.Server,
        readonly dns: { host: string; port: number },
        readonly anchors: readonly TrustAnchor[]
    ) {}

    static async start(domain: string, dataDir: string): Promise<DomainService> {

        const settings = (http: number, dns: number) => loadConfig({ env: {}, overrides: { domain, dataDir, 'http.port': http, 'dns.port': dns, logLevel: 'warn' } });
        ensureDomainKeys(dataDir, domain);
        // The gateway takes free ports; the zone then names them (SRV port, A of iks.<domain>).
        ensureSignedZone(settings(0, 0));
        const store = new EmbeddedStore({ path: Path.join(dataDir, 'store.sqlite') });
        const gateway = await createGateway(settings(0, 0), { store, port: 0, dnsPort: 0 });
        await gateway.start();
        const dnsApi = (gateway.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!;
        const dns = dnsApi.address()!;
        const config = settings(gateway.info.port as number, dns.port);
        ensureSignedZone(config);
        await dnsApi.reload();
        await store.enqueue([domain]);
        const service = new DomainService(config, store, gateway, dns, parseTrustAnchors(Fs.readFileSync(zonePaths(config).trustAnchor, 'utf8')));
        await service.publish();
        return service;
    }

    /** `iks user add`: a password user of the registration service; returns the password to hand over. */
    async addUser(name: string): Promise<string> {

        const password = randomBytes(12).toString('base64url');
        await this.store.putUser({ name, passwordHash: await hashPassword(password), disabled: false, createdAt: Date.now() });
        return password;
    }

    /** The signer's turn: sign what is queued (the updater loop would do it within a poll interval). */
    async publish(): Promise<void> {

        await createUpdater(this.config, this.store).drain();
    }

    /** What a participant needs to know about the domain: a DNS server and the trust anchor. */
    discovery(): DnsDiscovery {

        return new DnsDiscovery({ server: this.dns, anchors: this.anchors });
    }

    async stop(): Promise<void> {

        await this.gateway.stop();
        await this.store.close();
    }
}

/** Someone who sends and receives sealed messages. */
export class Participant {

    readonly #privateKey: KeyObject;
    #keyId = '';

    constructor(readonly name: string, private readonly discovery: DnsDiscovery) {

        this.#privateKey = generateKeyPairSync('x25519').privateKey;
    }

    /** Publishes this participant's X25519 key through IKS (paper §5.2); resolves with its key id. */
    async publishKey(password: string): Promise<string> {

        const client = new RegistrationClient({ discovery: this.discovery });
        const container = createPublicKey(this.#privateKey).export({ type: 'spki', format: 'pem' }) as string;
        const receipt = await client.register(this.name, { container, usage: ['encrypt'] }, { password });
        this.#keyId = receipt.answer.keyId!;
        return this.#keyId;
    }

    /** Locates `name`'s X25519 key with every link of paper §5.1 verified; throws otherwise. */
    async locate(name: string, keyId?: string): Promise<{ keyId: string; publicKey: KeyObject }> {

        const result = await new IksClient({ discovery: this.discovery }).lookup(name, { algorithm: 'x25519', usage: 'encrypt', ...(keyId !== undefined ? { keyId } : {}) });
        const key = result.selected[0];
        if (!key) {
            throw new Error(`${name} has published no X25519 encryption key`);
        }

        return { keyId: key.id, publicKey: createPublicKey({ key: Buffer.from(key.spki, 'base64'), format: 'der', type: 'spki' }) };
    }

    async send(to: string, text: string): Promise<SealedMessage> {

        const recipient = await this.locate(to);
        return seal(text, { from: this.name, to, senderKeyId: this.#keyId, recipientKeyId: recipient.keyId }, this.#privateKey, recipient.publicKey);
    }

    /** Opens a message after locating the sender's key through IKS: who sent it is verified, not claimed. */
    async receive(message: SealedMessage): Promise<string> {

        if (message.to !== this.name || message.recipientKeyId !== this.#keyId) {
            throw new Error('this message is not for me');
        }

        const sender = await this.locate(message.from, message.senderKeyId);
        return open(message, this.#privateKey, sender.publicKey);
    }
}

/** The whole story; resolves with what Bob read. */
export async function aliceWritesToBob(dataDir: string, text: string): Promise<{ read: string; sealed: SealedMessage }> {

    const domain = await DomainService.start('example.test', dataDir);
    try {
        const alice = new Participant('alice@example.test', domain.discovery());
        const bob = new Participant('bob@example.test', domain.discovery());
        await alice.publishKey(await domain.addUser(alice.name));
        await bob.publishKey(await domain.addUser(bob.name));
        await domain.publish();

        const sealed = await alice.send(bob.name, text);
        return { read: await bob.receive(sealed), sealed };
    }
    finally {
        await domain.stop();
    }
}

if (require.main === module) {
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-messaging-'));
    aliceWritesToBob(dataDir, 'Lunch at noon?')
        .then(({ read, sealed }) => process.stdout.write(`sealed: ${sealed.ciphertext}\nBob read: ${read}\n`))
        .catch((error: Error) => {

            process.stderr.write(`${error.message}\n`);
            process.exitCode = 1;
        })
        .finally(() => Fs.rmSync(dataDir, { recursive: true, force: true }));
}
