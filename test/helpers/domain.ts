/**
 * A throw-away IKS domain for tests: a temp data dir with the domain's keys, a
 * store (embedded by default, or a given one), and helpers to register keys.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import { loadConfig, type IksConfig } from '../../config';
import { ensureDomainKeys, parsePublicKey } from '../../lib/keys';
import { ensureSignedZone } from '../../workers/updater/zone';
import { EmbeddedStore, registrationOf } from '../../lib/store';
import type { Registration, Store } from '../../lib/store/types';

export interface TestDomain {
    readonly config: IksConfig;
    readonly dataDir: string;
    readonly domain: string;
    readonly store: Store;
    cleanup(): Promise<void>;
}

/** Creates keys for `domain` in a temp dir; `store` defaults to an embedded store in that dir. */
export async function makeDomain(options: { domain?: string; store?: Store; env?: NodeJS.ProcessEnv } = {}): Promise<TestDomain> {

    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-test-'));
    const domain = options.domain ?? 'example.test';
    // Request logs at warn: tests that mean to read logs pass their own logger.
    const config = loadConfig({ env: { IKS_DATA_DIR: dataDir, IKS_DOMAIN: domain, IKS_LOG_LEVEL: 'warn', ...options.env } });
    ensureDomainKeys(dataDir, domain);
    ensureSignedZone(config);
    const store = options.store ?? new EmbeddedStore({ path: Path.join(dataDir, 'store.sqlite') });
    return {
        config,
        dataDir,
        domain,
        store,
        async cleanup() {

            if (!options.store) {
                await store.close();
            }

            Fs.rmSync(dataDir, { recursive: true, force: true });
        }
    };
}

export type GeneratedKeyType = 'ed25519' | 'x25519' | 'ec' | 'rsa';

/** A registration of a freshly generated key, as the import or register paths would make it. */
export function makeRegistration(name: string, type: GeneratedKeyType = 'ed25519', extra: Partial<Registration> = {}): Registration {

    const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) :
        type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) :
            generateKeyPairSync(type as 'ed25519');
    const key = parsePublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    return { ...registrationOf(name, key, ['sign'], Date.now()), ...extra };
}

/** Runs `command` and returns its exit status and output (for xmlsec1, xmllint, dig, delv). */
export function runTool(command: string, args: readonly string[], input?: string): { status: number | null; output: string } {

    const result = spawnSync(command, args as string[], { encoding: 'utf8', input, timeout: 30_000 });
    return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Writes `content` to a temp file and returns its path. */
export function tempFile(name: string, content: string): string {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-file-'));
    const file = Path.join(dir, name);
    Fs.writeFileSync(file, content);
    return file;
}

/**
 * The store with some methods replaced, to simulate faults. A Proxy rather than
 * Object.create: the backends keep state in private fields, which need the real receiver.
 */
export function overrideStore(store: Store, overrides: Partial<Record<keyof Store, unknown>>): Store {

    return new Proxy(store, {
        get(target, property) {

            if (Object.prototype.hasOwnProperty.call(overrides, property)) {
                return overrides[property as keyof Store];
            }

            const value = Reflect.get(target, property, target);
            return typeof value === 'function' ? value.bind(target) : value;
        }
    });
}
