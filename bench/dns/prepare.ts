// Writes the bench inputs into the directory given as argv[2]: zone.signed (for the plugin),
// example.test.zone (for Knot) and queries.txt (for dnsperf). A fresh P-256 CSK each run.
import * as Crypto from 'node:crypto';
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import { serializeSignedZone, signZone } from '../../lib/dnssec';
import { exportZoneText } from '../../lib/zone/export';
import { buildZone } from '../../lib/zone/spec';

const dir = process.argv[2]!;
const origin = 'example.test';
const ksk = Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const targets = ['iks1', 'iks2', 'iks3'].map((label) => `${label}.${origin}`);
const rrsets = buildZone({
    origin,
    ttl: 3600,
    soa: { mname: `ns1.${origin}`, rname: `hostmaster.${origin}`, serial: 1, refresh: 3600, retry: 600, expire: 1209600, minimum: 300 },
    nameservers: [`ns1.${origin}`],
    addresses: [{ name: `ns1.${origin}`, a: ['127.0.0.1'] }, ...targets.map((name, index) => ({ name, a: [`127.0.0.${index + 1}`], aaaa: [`::${index + 1}`] }))],
    srv: targets.flatMap((target, index) => [
        { service: '_ikqs._tcp' as const, priority: 10, weight: 10 + index, port: 8080, target },
        { service: '_ikrs._tcp' as const, priority: 10, weight: 10 + index, port: 8080, target }
    ]),
    kskCommitments: [{ label: 'k1', spki: ksk.publicKey.export({ type: 'spki', format: 'der' }) }]
});
const now = Date.now();
const zone = signZone(rrsets, { zsk: Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }) }, { inception: new Date(now - 3_600_000), expiration: new Date(now + 7 * 86_400_000) });

Fs.writeFileSync(Path.join(dir, 'zone.signed'), serializeSignedZone(zone));
Fs.writeFileSync(Path.join(dir, `${origin}.zone`), exportZoneText(zone));
Fs.writeFileSync(Path.join(dir, 'queries.txt'), [
    `_ikqs._tcp.${origin} SRV`,
    `_ikrs._tcp.${origin} SRV`,
    `sha256.k1.${origin} TXT`,
    `sha1.k1.${origin} TXT`,
    `iks1.${origin} A`,
    `iks2.${origin} AAAA`,
    `${origin} DNSKEY`,
    `nope.${origin} A`,
    `iks1.${origin} TXT`
].join('\n') + '\n');
