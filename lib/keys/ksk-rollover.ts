/**
 * The KSK set of a domain and its rollover (a pre-publish rollover, as RFC 6781 §4.1.1
 * does for DNSKEYs): a new KSK's commitment is published before anything is signed
 * with it, and the old commitment stays until nothing signed by the old KSK can still
 * be served or cached. On disk, under `<dataDir>/<domain>/`:
 *
 *     private/ksk.pem, public/ksk.pem             the active KSK (signs)
 *     private/ksk.next.pem, public/ksk.next.pem   incoming: committed in DNS, signs nothing yet
 *     public/ksk.retired.pem                      retired: still committed, its private key destroyed
 *     ksk-rollover.json                           when each phase began
 *
 * Every file present in public/ is a published KSK: the zone commits to each, and the
 * query service answers `GET /ikqs/v1/ksk/{K}` for each.
 */
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import { RolloverRefused } from '../errors';
import { domainDir, loadPublicKeyFile, writeExclusive, writeReplacing } from './domain-keys';
import { generateSigningKeyPem, loadSigningKey } from './signing-key';
import type { SignatureAlgorithm } from './types';

export type KskState = 'active' | 'incoming' | 'retired';

export interface PublishedKsk {
    readonly state: KskState;
    readonly keyName: string;
    readonly spki: Buffer;
    readonly pem: string;
}

export interface RolloverState {
    /** ms: when the incoming KSK's commitment was first published. */
    readonly publishedAt?: number;
    /** ms: when the incoming KSK became the active one. */
    readonly activatedAt?: number;
}

export type RolloverPhase = 'none' | 'published' | 'active';

const internals = {
    files: { active: 'ksk.pem', incoming: 'ksk.next.pem', retired: 'ksk.retired.pem' } as Record<KskState, string>,
    privateMode: 0o600,
    publicMode: 0o644
};

function paths(dataDir: string, domain: string) {

    const dir = domainDir(dataDir, domain);
    const file = (visibility: 'private' | 'public', state: KskState) => Path.join(dir, visibility, internals.files[state]);
    return {
        state: Path.join(dir, 'ksk-rollover.json'),
        privateOf: (state: KskState) => file('private', state),
        publicOf: (state: KskState) => file('public', state)
    };
}

/** Every published KSK (public halves only): the active one first, then incoming and retired if a rollover is under way. */
export function publishedKsks(dataDir: string, domain: string): PublishedKsk[] {

    const where = paths(dataDir, domain);
    const published: PublishedKsk[] = [];
    for (const state of ['active', 'incoming', 'retired'] as const) {
        const file = where.publicOf(state);
        if (state === 'active' || Fs.existsSync(file)) {
            const key = loadPublicKeyFile(file, 'ksk');
            // Mid-activation a key is briefly in two files (old: active and retired; new: active and incoming): list it once.
            if (!published.some((known) => known.keyName === key.keyName)) {
                published.push({ state, keyName: key.keyName, spki: key.spki, pem: key.pem });
            }
        }
    }

    return published;
}

/** Where the rollover stands: `published` (incoming KSK committed), `active` (new KSK signs, old still committed) or `none`. */
export function rolloverPhase(dataDir: string, domain: string): { phase: RolloverPhase; state: RolloverState } {

    const where = paths(dataDir, domain);
    const state: { publishedAt?: number; activatedAt?: number } = {};
    let recorded: unknown = null;
    try {
        recorded = JSON.parse(Fs.readFileSync(where.state, 'utf8'));
    }
    catch {
        // No rollover recorded, or a damaged record: a step that needs a missing time restarts its wait (overlapStart()).
    }

    for (const field of ['publishedAt', 'activatedAt'] as const) {
        const value = (recorded as Record<string, unknown> | null)?.[field];
        if (typeof value === 'number' && Number.isFinite(value)) {
            state[field] = value;
        }
    }

    const phase = Fs.existsSync(where.publicOf('incoming')) ? 'published' : Fs.existsSync(where.publicOf('retired')) ? 'active' : 'none';
    return { phase, state };
}

function recordState(dataDir: string, domain: string, state: RolloverState): void {

    writeReplacing(paths(dataDir, domain).state, `${JSON.stringify(state)}\n`, internals.publicMode);
}

/**
 * When the overlap before the next step began: `field` of the record. If it is missing (ksk-rollover.json lost or
 * damaged) the wait starts now and that is recorded, rather than taken from a key file's mtime: a copy or restore
 * that keeps times, or a key written before the zone carried its commitment, makes an mtime older than the real
 * publication, and an overlap cut short breaks lookups, while one too long only delays the rollover.
 */
function overlapStart(dataDir: string, domain: string, state: RolloverState, field: keyof RolloverState, now: number): { at: number; restarted: boolean } {

    const at = state[field];
    if (at !== undefined) {
        return { at, restarted: false };
    }

    recordState(dataDir, domain, { ...state, [field]: now });
    return { at: now, restarted: true };
}

function restartedOverlap(dataDir: string, domain: string, what: string, ready: number, retry: string): RolloverRefused {

    return new RolloverRefused(`no time is recorded for when ${what} (${paths(dataDir, domain).state} is missing or damaged), so the wait counts from now: run \`${retry}\` again after ${new Date(ready).toISOString()}`);
}

function asPublished(state: KskState, key: { keyName: string; spki: Buffer; pem: string }): PublishedKsk {

    return { state, keyName: key.keyName, spki: key.spki, pem: key.pem };
}

/**
 * Step 1: creates the incoming KSK (private 0600, never overwriting one) so its
 * commitment gets published next to the active one. Nothing is signed with it yet.
 */
export function createIncomingKsk(dataDir: string, domain: string, options: { now?: number; algorithm?: SignatureAlgorithm } = {}): PublishedKsk {

    const { phase } = rolloverPhase(dataDir, domain);
    if (phase !== 'none') {
        throw new RolloverRefused(phase === 'published' ?
            'a new KSK is already published; activate it with `iks keys rotate ksk --activate`' :
            'the previous rollover is not finished; withdraw the old KSK with `iks keys rotate ksk --finish`');
    }

    // The active KSK first: on a data directory without keys this says to run `iks init`.
    publishedKsks(dataDir, domain);
    const where = paths(dataDir, domain);
    const pair = generateSigningKeyPem('ksk', options.algorithm);
    if (!writeExclusive(where.privateOf('incoming'), pair.privatePem, internals.privateMode)) {
        throw new RolloverRefused(`${where.privateOf('incoming')} already exists; remove it if it is left from an abandoned rollover`);
    }

    // The time first: a crash in between must not leave a published key whose overlap cannot be measured.
    recordState(dataDir, domain, { publishedAt: options.now ?? Date.now() });
    writeReplacing(where.publicOf('incoming'), pair.publicPem, internals.publicMode);
    return publishedKsks(dataDir, domain).find((ksk) => ksk.state === 'incoming')!;
}

/**
 * Restarts the wait before step 2 from `now`: for when the incoming KSK's commitment reached
 * the signed zone only now (a step 1 that stopped after creating the key, before the zone
 * was signed). Only while an incoming KSK is published.
 */
export function restartPublishedOverlap(dataDir: string, domain: string, now: number): void {

    const { phase, state } = rolloverPhase(dataDir, domain);
    if (phase === 'published') {
        recordState(dataDir, domain, { ...state, publishedAt: now });
    }
}

/**
 * Step 2: the incoming KSK becomes the active one; the old one is retired: its public half
 * stays published (documents it signed remain verifiable) and its private key file is
 * overwritten by the new key's, so it can never sign again. Refused before `overlap` ms have passed since step 1.
 * Resumable: run again after a crash, it completes what the interrupted run left.
 */
export function activateIncomingKsk(dataDir: string, domain: string, options: { overlap: number; now?: number }): { active: PublishedKsk; retired: PublishedKsk } {

    const now = options.now ?? Date.now();
    const { phase, state } = rolloverPhase(dataDir, domain);
    if (phase !== 'published') {
        throw new RolloverRefused(phase === 'none' ? 'no new KSK is published; start with `iks keys rotate ksk`' : 'the new KSK is already active; finish with `iks keys rotate ksk --finish`');
    }

    const since = overlapStart(dataDir, domain, state, 'publishedAt', now);
    const ready = since.at + options.overlap;
    if (now < ready) {
        throw since.restarted ?
            restartedOverlap(dataDir, domain, 'the new KSK\'s commitment was published', ready, 'iks keys rotate ksk --activate') :
            new RolloverRefused(`the new KSK's commitment was published at ${new Date(since.at).toISOString()}; wait until ${new Date(ready).toISOString()} for every DNS server and cache to see it (or lower --overlap)`);
    }

    const where = paths(dataDir, domain);
    const incoming = loadPublicKeyFile(where.publicOf('incoming'), 'ksk');
    // The incoming key must load (permissions, role) before anything changes. Without its
    // file, an interrupted run already moved it to ksk.pem.
    const movePrivate = Fs.existsSync(where.privateOf('incoming'));
    if (movePrivate) {
        loadSigningKey(where.privateOf('incoming'), 'ksk');
    }
    else if (loadSigningKey(where.privateOf('active'), 'ksk').keyName !== incoming.keyName) {
        throw new RolloverRefused(`${where.privateOf('incoming')} is missing and ${where.privateOf('active')} is not the new KSK ${incoming.keyName}; restore the new KSK's private key there, or abandon the rollover`);
    }

    // Each step replaces one file atomically, so a gateway or signer reading the set
    // meanwhile always finds a complete one (at worst with a key listed twice).
    const retired = retireActiveKsk(where, incoming.keyName);
    if (movePrivate) {
        writeReplacing(where.privateOf('active'), Fs.readFileSync(where.privateOf('incoming'), 'utf8'), internals.privateMode);
    }

    writeReplacing(where.publicOf('active'), incoming.pem, internals.publicMode);
    recordState(dataDir, domain, { ...state, activatedAt: now });
    // Private half first: while the public one remains, a re-run resumes here instead of leaving a stray private key.
    Fs.rmSync(where.privateOf('incoming'), { force: true });
    Fs.rmSync(where.publicOf('incoming'));
    return { active: asPublished('active', incoming), retired };
}

/**
 * Publishes the outgoing KSK as the retired one and returns it. A run that died after
 * public/ksk.pem became the new key left the old one in ksk.retired.pem already: that file
 * is therefore written only once (exclusively), and never allowed to hold the incoming key.
 */
function retireActiveKsk(where: ReturnType<typeof paths>, incoming: string): PublishedKsk {

    const file = where.publicOf('retired');
    const active = loadPublicKeyFile(where.publicOf('active'), 'ksk');
    if (active.keyName !== incoming) {
        // Not written (false) when an interrupted run left it: checked below like any other.
        writeExclusive(file, active.pem, internals.publicMode);
    }
    else if (!Fs.existsSync(file)) {
        throw new RolloverRefused(`the active KSK already is the new one (${incoming}) but ${file} is missing, so the old KSK would lose its commitment; put the old KSK's public half (from a backup) there and run again`);
    }

    const retired = loadPublicKeyFile(file, 'ksk');
    if (retired.keyName === incoming || (active.keyName !== incoming && retired.keyName !== active.keyName)) {
        throw new RolloverRefused(`${file} holds ${retired.keyName}, not the KSK being retired${active.keyName !== incoming ? ` (${active.keyName})` : ''}; put the old KSK's public half (from a backup) there and run again`);
    }

    return asPublished('retired', retired);
}

/**
 * Step 3: withdraws the retired KSK (its commitment leaves the zone). Refused before
 * `overlap` ms have passed since step 2; the caller also checks that no stored document
 * is still signed by it.
 */
export function withdrawRetiredKsk(dataDir: string, domain: string, options: { overlap: number; now?: number }): PublishedKsk {

    const now = options.now ?? Date.now();
    const { phase, state } = rolloverPhase(dataDir, domain);
    if (phase !== 'active') {
        throw new RolloverRefused(phase === 'none' ? 'no rollover is under way' : 'the new KSK is not active yet; run `iks keys rotate ksk --activate` first');
    }

    const since = overlapStart(dataDir, domain, state, 'activatedAt', now);
    const ready = since.at + options.overlap;
    if (now < ready) {
        throw since.restarted ?
            restartedOverlap(dataDir, domain, 'the new KSK became active', ready, 'iks keys rotate ksk --finish') :
            new RolloverRefused(`the new KSK became active at ${new Date(since.at).toISOString()}; answers signed by the old one may be cached until ${new Date(ready).toISOString()} (or lower --overlap)`);
    }

    const where = paths(dataDir, domain);
    const retired = publishedKsks(dataDir, domain).find((ksk) => ksk.state === 'retired')!;
    Fs.rmSync(where.publicOf('retired'));
    Fs.rmSync(where.state, { force: true });
    return retired;
}
