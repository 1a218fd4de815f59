/**
 * `iks init` and `iks keys rotate ksk`: a domain's keys and what to publish for them.
 * Both run where the KSK and the zone key live (the signer's host): they sign.
 *
 * The KSK rollover has three steps, so that no lookup ever meets a document whose KSK
 * has no commitment in DNS (lib/keys/ksk-rollover.ts):
 *   1. `rotate ksk`             new KSK created, its commitment published next to the old one
 *   2. `rotate ksk --activate`  after the overlap: every name re-signed with the new KSK
 *   3. `rotate ksk --finish`    after the overlap, and once nothing is signed by the old KSK: old commitment withdrawn
 */
import { Option, type Command } from 'commander';

import { assertPublishableZone, domainDir, type IksConfig } from '../../config';
import { claimedSigner } from '../client';
import { dsRecord } from '../dnssec';
import { RolloverRefused } from '../errors';
import { activateIncomingKsk, createIncomingKsk, ensureDomainKeys, publishedKsks, restartPublishedOverlap, rolloverPhase, withdrawRetiredKsk } from '../keys';
import type { Store } from '../store/types';
import { recordsToPublish } from '../zone/export';
import { createUpdater, ensureSignedZone, queueEveryName } from '../../workers/updater';
import type { Output } from './output';

export interface KeyCommandContext {
    readonly io: Output;
    readonly result: { code: number };
    config(): IksConfig;
    withStore<T>(config: IksConfig, action: (store: Store) => Promise<T>): Promise<T>;
}

/** How long each rollover step waits by default, seconds: DNS caches (zone TTL) and HTTP caches (maxCacheAge). */
export function defaultOverlap(config: IksConfig): number {

    return Math.max(config.zone.ttl, config.maxCacheAge);
}

/** The records to publish for the domain and the DS for its parent, from the freshly signed zone. */
function publicationLines(config: IksConfig): string[] {

    const { zone } = ensureSignedZone(config);
    return [
        `Records to publish in ${config.domain} (already in the signed zone the dns-authority plugin serves; copy them when your own DNS serves ${config.domain}):`,
        ...recordsToPublish(zone).map((line) => `  ${line}`),
        `DS for the parent zone, when the dns-authority plugin (or \`iks zone export\`) serves ${config.domain} itself:`,
        ...dsRecord(zone).trimEnd().split('\n').map((line) => `  ${line}`)
    ];
}

/**
 * `iks init`: creates the missing keys, signs the zone, prints what to publish. A key whose
 * public file exists without its private one is held by another host (the gateway holds
 * only rsk and enc): it is reported, never replaced; without the zone key the zone is
 * signed where that key is.
 */
export function initDomain(config: IksConfig): string[] {

    assertPublishableZone(config);
    const { created, publicOnly } = ensureDomainKeys(config.dataDir, config.domain);
    const active = publishedKsks(config.dataDir, config.domain)[0]!;
    const lines = [
        created.length > 0 ? `created: ${created.join(', ')}` : publicOnly.length > 0 ? 'no key created' : 'all keys already exist; nothing changed',
        ...publicOnly.map((role) => `${role}: public only (held elsewhere); not replaced — to replace it, move both its private and public files aside where it is held, then run \`iks init\` there`),
        `keys: ${domainDir(config)} (private/ 0600, public/ may be published)`,
        `KSK name: ${active.keyName}`
    ];

    if (publicOnly.includes('zsk')) {
        lines.push(`zone not signed here: the zone key is held elsewhere; run \`iks init\` (or \`iks zone sign\`) where private/zsk.pem is for the records and DS to publish`);
        return lines;
    }

    return [...lines, ...publicationLines(config)];
}

/** Step 1: a new KSK whose commitment is published next to the active one. */
export function startKskRollover(config: IksConfig, options: { overlap: number; now?: number }): string[] {

    assertPublishableZone(config);
    const now = options.now ?? Date.now();
    let incoming;
    try {
        incoming = createIncomingKsk(config.dataDir, config.domain, { now });
    }
    catch (error) {
        // Run again after a run that stopped between creating the key and signing the zone: the
        // zone may lack the commitment, and the wait before --activate would count from a
        // publication that never happened. Signing the zone tells (its content changed).
        if (error instanceof RolloverRefused && rolloverPhase(config.dataDir, config.domain).phase === 'published' && ['content changed', 'no usable signed zone'].includes(ensureSignedZone(config, { now }).reason)) {
            restartPublishedOverlap(config.dataDir, config.domain, now);
            throw new RolloverRefused(`${error.message}; but the signed zone lacked its commitment (an earlier run stopped before signing it) and carries it now, so wait until ${new Date(now + options.overlap * 1000).toISOString()}`);
        }

        throw error;
    }

    return [
        `new KSK ${incoming.keyName} created; its commitment is published next to the active KSK's`,
        ...publicationLines(config),
        `next: \`iks keys rotate ksk --activate\` after ${new Date(now + options.overlap * 1000).toISOString()}, once every DNS server of ${config.domain} serves the new commitment`
    ];
}

/** Step 2: the new KSK signs; every name and the domain documents are re-signed now. */
export async function activateKsk(config: IksConfig, store: Store, options: { overlap: number; now?: number }): Promise<string[]> {

    assertPublishableZone(config);
    const now = options.now ?? Date.now();
    // The store first: switching the KSK and then failing to queue the re-signing would leave
    // every name signed by the retired KSK.
    await store.ping();
    const phase = rolloverPhase(config.dataDir, config.domain).phase;
    let first: string;
    if (phase === 'active') {
        // An earlier --activate switched the KSK but may have stopped before re-queueing: completing it is idempotent.
        const [active, retired] = publishedKsks(config.dataDir, config.domain);
        first = `KSK ${active!.keyName} was already active (${retired!.keyName} retired): completing the earlier activation by re-signing every name`;
    }
    else {
        const { active, retired } = activateIncomingKsk(config.dataDir, config.domain, { overlap: options.overlap * 1000, now });
        first = `KSK ${active.keyName} is active; ${retired.keyName} is retired (public half still published, private key deleted)`;
    }

    ensureSignedZone(config);
    const queued = await queueEveryName(store, config.domain);
    const totals = await createUpdater(config, store).drain();
    return [
        first,
        `re-signed ${totals.processed} of ${queued} name(s)${totals.failed > 0 ? `, ${totals.failed} failed (the updater retries them)` : ''}`,
        'running signers that see the new public/ksk.pem load the new KSK from private/ksk.pem; one that still sees the old key there (a single-file mount) signs nothing more (KSK_RETIRED; `iks updater` exits 2 for its supervisor to restart it): give it the new key or restart it, and restart any updater on another host',
        `next: \`iks keys rotate ksk --finish\` after ${new Date(now + options.overlap * 1000).toISOString()}`
    ];
}

/** Names whose stored documents are still signed by `keyName` (the domain's own included). */
async function namesSignedBy(store: Store, domain: string, keyName: string): Promise<string[]> {

    const names = [domain];
    for await (const name of store.scanNames()) {
        names.push(name);
    }

    const stale: string[] = [];
    for (const name of names) {
        const slots = name === domain ? ['rsk', 'enc'] : ['list', ...(await store.getRegistrations(name)).map((registration) => `key:${registration.keyId}`)];
        for (const slot of slots) {
            const document = await store.getDocument(name, slot);
            if (document && claimedSigner(document.body) === keyName) {
                stale.push(name);
                break;
            }
        }
    }

    return stale;
}

/** Step 3: withdraws the old commitment, once nothing stored is signed by the old KSK. */
export async function finishKskRollover(config: IksConfig, store: Store, options: { overlap: number; now?: number }): Promise<string[]> {

    assertPublishableZone(config);
    const retired = publishedKsks(config.dataDir, config.domain).find((ksk) => ksk.state === 'retired');
    if (retired) {
        const stale = await namesSignedBy(store, config.domain, retired.keyName);
        if (stale.length > 0) {
            await store.enqueue(stale);
            throw new RolloverRefused(`${stale.length} name(s) are still signed by the retired KSK ${retired.keyName} (a signer that still holds it?); they are queued again — restart every updater, let it run, then retry`);
        }
    }

    const withdrawn = withdrawRetiredKsk(config.dataDir, config.domain, { overlap: options.overlap * 1000, ...(options.now !== undefined ? { now: options.now } : {}) });
    ensureSignedZone(config);
    return [
        `KSK ${withdrawn.keyName} withdrawn: its commitment is gone from the signed zone`,
        `where other DNS servers publish ${config.domain}'s records, remove: sha256.${withdrawn.keyName}.${config.domain}. TXT and sha1.${withdrawn.keyName}.${config.domain}. TXT`,
        ...publicationLines(config)
    ];
}

/** Adds `iks keys rotate <role>` under the existing `keys` command. */
export function addKeyCommands(keys: Command, context: KeyCommandContext): void {

    keys.command('rotate')
        .description('KSK rollover with overlapping commitments: start, then --activate, then --finish (run where the KSK lives)')
        .argument('<role>', 'the key to rotate: ksk')
        .option('--activate', 'step 2: sign with the new KSK and re-sign every name')
        // One step per run: two steps given at once is a mistake, not a plan.
        .addOption(new Option('--finish', 'step 3: withdraw the old KSK\'s commitment').conflicts('activate'))
        .option('--overlap <seconds>', 'minimum wait between steps (default: the larger of zone.ttl and maxCacheAge)', (value) => /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN)
        .action(async (role: string, options: { activate?: boolean; finish?: boolean; overlap?: number }) => {

            if (role !== 'ksk') {
                throw new RolloverRefused(`only the KSK rotates with this command, not "${role.slice(0, 20)}"; see docs/operations.md for the RSK and the zone key`);
            }

            if (options.overlap !== undefined && !(Number.isInteger(options.overlap) && options.overlap >= 0)) {
                throw new RolloverRefused('--overlap must be a whole number of seconds');
            }

            const config = context.config();
            const overlap = options.overlap ?? defaultOverlap(config);
            const lines = options.finish ? await context.withStore(config, (store) => finishKskRollover(config, store, { overlap })) :
                options.activate ? await context.withStore(config, (store) => activateKsk(config, store, { overlap })) :
                    startKskRollover(config, { overlap });
            for (const line of lines) {
                context.io.out(line);
            }
        });
}
