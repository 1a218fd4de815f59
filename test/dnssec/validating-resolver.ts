import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as Hapi from '@hapi/hapi';

import { DnsStub } from '../../lib/dns/stub';
import { RrType, typeName } from '../../lib/dns/types';
import { parseTrustAnchors, signZone, trustAnchorFile, ValidatingResolver, type SignedZone } from '../../lib/dnssec';
import { DnssecBogus } from '../../lib/errors';
import { plugin, type DnsAuthorityApi } from '../../plugins/dns-authority';
import { tool } from '../dns-authority/helpers';
import { changeRRset, signedByOtherZone, tamperSignatures } from '../helpers/signed-zone';
import { buildZone } from '../../lib/zone/spec';
import { demoSpec, p256, signedDemoZone } from '../zone/fixture';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

type Verdict = 'answer' | 'nxdomain' | 'nodata' | 'bogus';

/** Serves a zone with the dns-authority plugin on a free port. */
async function serve(zone: SignedZone): Promise<{ server: Hapi.Server; port: number }> {

    const server = Hapi.server();
    await server.register({ plugin, options: { port: 0, zone } });
    await server.start();
    return { server, port: (server.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!.address()!.port };
}

async function ours(port: number, anchorText: string, name: string, type: number): Promise<Verdict> {

    const stub = new DnsStub({ server: { host: '127.0.0.1', port } });
    const resolver = new ValidatingResolver({ zone: 'example.test', anchors: parseTrustAnchors(anchorText), exchange: (qname, qtype) => stub.query(qname, qtype) });
    try {
        return (await resolver.resolve(name, type)).kind;
    }
    catch (err) {
        if (err instanceof DnssecBogus) {
            return 'bogus';
        }

        throw err;
    }
}

/** delv's verdict (BIND's validator, someone else's code) on the same question. */
async function delvs(port: number, anchorFile: string, name: string, type: number): Promise<Verdict> {

    const output = await tool('delv', port, ['-a', anchorFile, '+root=example.test', name, typeName(type)]);
    if (!output.includes('fully validated')) {
        return 'bogus';
    }

    return output.includes('negative response') ? (output.includes('NXDOMAIN') ? 'nxdomain' : 'nodata') : 'answer';
}

describe('ValidatingResolver over the wire, cross-checked with delv', () => {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-validate-'));
    const zone = signedDemoZone({ zsk: p256() });
    const servers: Hapi.Server[] = [];
    const ports = new Map<string, number>();
    const variants: Record<string, SignedZone> = {
        good: zone,
        'tampered SRV RRSIG': tamperSignatures(zone, '_ikqs._tcp.example.test', RrType.SRV),
        'tampered DNSKEY RRSIG': tamperSignatures(zone, 'example.test', RrType.DNSKEY),
        'SRV signed by another zone': signedByOtherZone(zone, '_ikqs._tcp.example.test', RrType.SRV, 'evil.test'),
        'unsigned commitment': changeRRset(zone, 'sha256.k1.example.test', RrType.TXT, (rrset) => ({ ...rrset, signatures: [] })),
        // Signed with a window that ended yesterday.
        expired: signZone(buildZone(demoSpec()), { zsk: p256() }, { inception: new Date(Date.now() - 20 * 86_400_000), expiration: new Date(Date.now() - 86_400_000) })
    };

    const anchorFile = (name: string, text: string) => {

        const file = Path.join(dir, `${name}.conf`);
        Fs.writeFileSync(file, text);
        return file;
    };

    before(async () => {

        for (const [name, variant] of Object.entries(variants)) {
            const { server, port } = await serve(variant);
            servers.push(server);
            ports.set(name, port);
        }
    });

    after(async () => {

        await Promise.all(servers.map((server) => server.stop()));
        Fs.rmSync(dir, { recursive: true, force: true });
    });

    it('agrees with delv on answers, denials and every kind of bogus', async () => {

        const cases: [variant: string, anchor: 'own' | 'wrong' | 'ds', name: string, type: number, expected: Verdict][] = [
            ['good', 'own', '_ikqs._tcp.example.test', RrType.SRV, 'answer'],
            ['good', 'ds', 'sha256.k1.example.test', RrType.TXT, 'answer'],
            ['good', 'own', 'iks1.example.test', RrType.AAAA, 'answer'],
            ['good', 'own', 'nothing.example.test', RrType.SRV, 'nxdomain'],
            ['good', 'own', 'iks1.example.test', RrType.TXT, 'nodata'],
            ['good', 'own', '_tcp.example.test', RrType.SRV, 'nodata'],
            ['good', 'wrong', '_ikqs._tcp.example.test', RrType.SRV, 'bogus'],
            ['tampered SRV RRSIG', 'own', '_ikqs._tcp.example.test', RrType.SRV, 'bogus'],
            ['tampered SRV RRSIG', 'own', 'iks1.example.test', RrType.A, 'answer'],
            ['tampered DNSKEY RRSIG', 'own', 'iks1.example.test', RrType.A, 'bogus'],
            ['SRV signed by another zone', 'own', '_ikqs._tcp.example.test', RrType.SRV, 'bogus'],
            ['unsigned commitment', 'own', 'sha256.k1.example.test', RrType.TXT, 'bogus'],
            ['expired', 'own', '_ikqs._tcp.example.test', RrType.SRV, 'bogus']
        ];

        for (const [variant, anchor, name, type, expected] of cases) {
            const served = variants[variant]!;
            const text = anchor === 'wrong' ? trustAnchorFile(signedDemoZone()) : trustAnchorFile(served, anchor === 'ds' ? 'static-ds' : 'static-key');
            const port = ports.get(variant)!;
            const label = `${variant}: ${name} ${typeName(type)}`;
            expect(await ours(port, text, name, type), label).to.equal(expected);
            expect(await delvs(port, anchorFile(`${variant}-${anchor}`, text), name, type), `delv, ${label}`).to.equal(expected);
        }
    });
});
