// Shared test fixture (no lab script): a demo IKS zone and a fresh P-256 signing key.
import * as ChildProcess from 'node:child_process';
import * as Crypto from 'node:crypto';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import { signZone, type KeyPair, type SignedZone, type ZoneKeys } from '../../lib/dnssec';
import { buildZone, type ZoneSpec } from '../../lib/zone/spec';

export const ORIGIN = 'example.test';

export function p256(): KeyPair {

    return Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export function demoSpec(ksk: KeyPair = p256(), extraSrvTargets = 0): ZoneSpec {

    const targets = Array.from({ length: 2 + extraSrvTargets }, (_, index) => `iks${index + 1}.${ORIGIN}`);
    return {
        origin: ORIGIN,
        ttl: 3600,
        soa: { mname: `ns1.${ORIGIN}`, rname: `hostmaster.${ORIGIN}`, serial: 2024010101, refresh: 3600, retry: 600, expire: 1209600, minimum: 300 },
        nameservers: [`ns1.${ORIGIN}`],
        addresses: [
            { name: `ns1.${ORIGIN}`, a: ['127.0.0.1'] },
            ...targets.map((name, index) => ({ name, a: [`127.0.0.${index + 1}`], aaaa: [`2001:db8::${index + 1}`] }))
        ],
        srv: targets.flatMap((target, index) => [
            { service: '_ikqs._tcp' as const, priority: 10 + index, weight: 60 - index, port: 8080, target },
            { service: '_ikrs._tcp' as const, priority: 10 + index, weight: 60 - index, port: 8443, target }
        ]),
        kskCommitments: [{ label: 'k1', spki: ksk.publicKey.export({ type: 'spki', format: 'der' }) }]
    };
}

export const window = (now = Date.now()) => ({ inception: new Date(now - 3_600_000), expiration: new Date(now + 14 * 86_400_000) });

export function signedDemoZone(keys: ZoneKeys = { zsk: p256() }, extraSrvTargets = 0): SignedZone {

    return signZone(buildZone(demoSpec(p256(), extraSrvTargets)), keys, window());
}

/** Runs an external validator on zone text in a temp file; returns exit status and output. */
export function runOnZoneText(text: string, command: string, args: (file: string) => string[]): { status: number | null; output: string } {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-zone-'));
    try {
        const file = Path.join(dir, 'zone.txt');
        Fs.writeFileSync(file, text);
        const result = ChildProcess.spawnSync(command, args(file), { encoding: 'utf8', timeout: 20_000 });
        return { status: result.status, output: `${result.stdout}${result.stderr}` };
    }
    finally {
        Fs.rmSync(dir, { recursive: true, force: true });
    }
}

export const ldnsVerifyZone = (text: string) => runOnZoneText(text, 'ldns-verify-zone', (file) => [file]);
export const namedCheckZone = (origin: string, text: string) => runOnZoneText(text, 'named-checkzone', (file) => ['-i', 'local', origin, file]);
