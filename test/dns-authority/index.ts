import * as Fs from 'node:fs';
import * as Net from 'node:net';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import * as Hapi from '@hapi/hapi';
import Dns2 from 'dns2';

import { Rcode, RrType } from '../../lib/dns/types';
import { serializeSignedZone, signZone, trustAnchorFile, type SignedZone } from '../../lib/dnssec';
import { buildZone } from '../../lib/zone/spec';
import { IksMetrics } from '../../lib/observability';
import { plugin, type DnsAuthorityApi, type DnsAuthorityOptions } from '../../plugins/dns-authority';
import { dns2Query } from '../dns/helpers';
import { eventually } from '../helpers/eventually';
import { demoSpec, p256, signedDemoZone, window as signingWindow } from '../zone/fixture';
import { framed, tcpExchange, tool, udpExchange } from './helpers';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

async function start(options: DnsAuthorityOptions): Promise<{ server: Hapi.Server; api: DnsAuthorityApi; port: number }> {

    const server = Hapi.server();
    await server.register({ plugin, options: { port: 0, ...options } });
    await server.start();
    const api = (server.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!;
    return { server, api, port: api.address()!.port };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dns-authority', () => {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-dns-'));
    const anchor = Path.join(dir, 'trust-anchor.conf');
    const dsAnchor = Path.join(dir, 'trust-anchor-ds.conf');
    let zone: SignedZone;
    let server: Hapi.Server;
    let port: number;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);

    before(async () => {

        process.on('unhandledRejection', onUnhandled);
        zone = signedDemoZone({ zsk: p256() }, 10);              // 12 SRV targets: > 512 octets with DO
        Fs.writeFileSync(anchor, trustAnchorFile(zone));
        Fs.writeFileSync(dsAnchor, trustAnchorFile(zone, 'static-ds'));
        ({ server, port } = await start({ zone }));
    });

    after(async () => {

        await server.stop();
        process.off('unhandledRejection', onUnhandled);
        Fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('with dig and delv', () => {

        it('answers SRV with its RRSIG, authoritatively, when DO is set', async () => {

            const output = await tool('dig', port, ['_ikqs._tcp.example.test', 'SRV', '+dnssec', '+norec']);
            expect(output).to.contain('status: NOERROR');
            expect(output).to.match(/flags: qr aa;/);
            expect(output).to.match(/EDNS: version: 0, flags: do; udp: 1232/);
            expect(output.match(/\tIN\tSRV\t/g)!.length).to.equal(12);
            expect(output).to.match(/\tIN\tRRSIG\tSRV 13 4 3600 \d{14} \d{14} \d+ example\.test\. /);
        });

        it('sends no RRSIG without DO, and no OPT without EDNS', async () => {

            const plain = await tool('dig', port, ['iks1.example.test', 'A', '+norec']);
            expect(plain).to.contain('127.0.0.1');
            expect(plain).to.not.contain('RRSIG');
            const noEdns = await tool('dig', port, ['iks1.example.test', 'A', '+noedns']);
            expect(noEdns).to.not.contain('OPT PSEUDOSECTION');
        });

        it('echoes the question in its case and matches it case-insensitively', async () => {

            const output = await tool('dig', port, ['IKS1.Example.TEST', 'AAAA']);
            expect(output).to.contain(';IKS1.Example.TEST.\t\tIN\tAAAA');
            expect(output).to.contain('2001:db8::1');
        });

        it('fully validates SRV, the sha256 commitment TXT and the DNSKEY with delv (DNSKEY and DS anchors)', async () => {

            for (const file of [anchor, dsAnchor]) {
                for (const [name, type] of [['_ikqs._tcp.example.test', 'SRV'], ['_ikrs._tcp.example.test', 'SRV'], ['sha256.k1.example.test', 'TXT'], ['example.test', 'DNSKEY']]) {
                    const output = await tool('delv', port, ['-a', file, '+root=example.test', name!, type!]);
                    expect(output, `${name} ${type}`).to.contain('; fully validated');
                }
            }
        });

        it('fully validates NXDOMAIN, NODATA and an empty non-terminal with delv', async () => {

            const cases: [string, string, string][] = [
                ['nope.example.test', 'A', 'NXDOMAIN'],
                ['a.b.sha256.k1.example.test', 'TXT', 'NXDOMAIN'],
                ['zzz.example.test', 'A', 'NXDOMAIN'],
                ['iks1.example.test', 'TXT', 'NXRRSET'],
                ['_tcp.example.test', 'SRV', 'NXRRSET'],
                ['k1.example.test', 'TXT', 'NXRRSET']
            ];
            for (const [name, type, result] of cases) {
                const output = await tool('delv', port, ['-a', anchor, '+root=example.test', name, type]);
                expect(output, name).to.contain('; negative response, fully validated');
                expect(output, name).to.contain(result);
            }
        });

        it('fails validation with the wrong trust anchor', async () => {

            const wrong = Path.join(dir, 'wrong.conf');
            Fs.writeFileSync(wrong, trustAnchorFile(signedDemoZone()));
            const output = await tool('delv', port, ['-a', wrong, '+root=example.test', '_ikqs._tcp.example.test', 'SRV']);
            expect(output).to.not.contain('fully validated');
        });

        it('answers over TCP', async () => {

            const output = await tool('dig', port, ['_ikqs._tcp.example.test', 'SRV', '+dnssec', '+tcp']);
            expect(output).to.contain('status: NOERROR');
            expect(output).to.contain('(TCP)');
            expect(output.match(/\tIN\tSRV\t/g)!.length).to.equal(12);
        });

        it('sets TC on a UDP answer larger than the advertised size, and only then', async () => {

            const truncated = await tool('dig', port, ['_ikqs._tcp.example.test', 'SRV', '+dnssec', '+bufsize=512', '+ignore']);
            expect(truncated).to.match(/flags: qr aa tc rd;.* ANSWER: 0,/);
            expect(truncated).to.contain('EDNS: version: 0, flags: do; udp: 1232');
            const fits = await tool('dig', port, ['_ikqs._tcp.example.test', 'SRV', '+dnssec', '+bufsize=4096', '+ignore']);
            expect(fits).to.not.match(/flags: [^;]*tc/);
            const retried = await tool('dig', port, ['_ikqs._tcp.example.test', 'SRV', '+dnssec', '+bufsize=512']);
            expect(retried).to.contain('(TCP)');
        });

        it('answers NOTIMP to MAILB and FORMERR to an OPT question, echoing question and EDNS', async () => {

            const mailb = await tool('dig', port, ['example.test', 'MAILB', '+norec']);
            expect(mailb).to.contain('status: NOTIMP');
            expect(mailb).to.contain('EDNS: version: 0');
            expect(mailb).to.contain(';example.test.\t\t\tIN\tMAILB');
            const opt = await tool('dig', port, ['example.test', 'TYPE41', '+norec']);
            expect(opt).to.contain('status: FORMERR');
            expect(opt).to.contain('EDNS: version: 0');
        });

        it('refuses names outside the zone', async () => {

            const output = await tool('dig', port, ['example.com', 'A']);
            expect(output).to.contain('status: REFUSED');
            expect(output).to.not.match(/flags: [^;]* aa/);
        });
    });

    describe('with raw packets', () => {

        it('answers FORMERR to a malformed query and stays silent to a response', async () => {

            const header = Buffer.from('abcd0000ffffffff00000000', 'hex');
            const reply = await udpExchange(port, header);
            expect(reply!.readUInt16BE(0)).to.equal(0xabcd);
            expect(reply![3]! & 0x0f).to.equal(Rcode.FORMERR);
            const response = dns2Query('example.test', RrType.SOA);
            response[2] = response[2]! | 0x80;
            expect(await udpExchange(port, response, 200)).to.be.null();
        });

        it('answers pipelined TCP queries and closes on a message it will not answer', async () => {

            const one = dns2Query('iks1.example.test', RrType.A, null);
            const two = dns2Query('iks2.example.test', RrType.A, null);
            const { data } = await tcpExchange(port, framed(one, two));
            const first = Dns2.Packet.parse(data.subarray(2, 2 + data.readUInt16BE(0)));
            const rest = data.subarray(2 + data.readUInt16BE(0));
            const second = Dns2.Packet.parse(rest.subarray(2));
            expect(first.answers[0]).to.include({ address: '127.0.0.1' });
            expect(second.answers[0]).to.include({ address: '127.0.0.2' });
            const dropped = await tcpExchange(port, framed(Buffer.alloc(3)));
            expect(dropped).to.equal({ data: Buffer.alloc(0), closed: true });
        });

        it('survives thousands of random and mutated packets and still answers', async () => {

            // Deterministic generator (mulberry32) so a failure can be replayed.
            let seed = 0x1c5;
            const random = () => {
                seed = (seed + 0x6d2b79f5) | 0;
                let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
                t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
                return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
            };

            const integer = (limit: number) => Math.floor(random() * limit);
            const valid = [
                dns2Query('_ikqs._tcp.example.test', RrType.SRV),
                dns2Query('nope.example.test', RrType.A, { doFlag: true, udpPayloadSize: 512 }),
                dns2Query('example.test', RrType.DNSKEY, null)
            ];
            const loop = Buffer.from('000100000001000000000000c00c00010001', 'hex');           // qname points at itself
            const chain = Buffer.concat([dns2Query('example.test', RrType.A, null), Buffer.from('c02ac028', 'hex')]);
            chain.writeUInt16BE(2, 10);
            const generators = [
                () => Buffer.from(Array.from({ length: integer(600) }, () => integer(256))),
                () => valid[integer(valid.length)]!.subarray(0, integer(60)),
                () => {
                    const mutated = Buffer.from(valid[integer(valid.length)]!);
                    for (let flips = 1 + integer(4); flips > 0; --flips) {
                        mutated[integer(mutated.length)] = integer(256);
                    }

                    return mutated;
                },
                () => {
                    const counts = Buffer.from(valid[integer(valid.length)]!);
                    counts.writeUInt16BE(integer(65536), 4 + 2 * integer(4));
                    return counts;
                },
                () => loop,
                () => chain
            ];

            const socket = (await import('node:dgram')).createSocket('udp4');
            let replies = 0;
            socket.on('message', () => ++replies);
            await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
            for (let batch = 0; batch < 60; ++batch) {
                for (let i = 0; i < 50; ++i) {
                    socket.send(generators[integer(generators.length)]!(), port, '127.0.0.1');
                }

                await delay(2);
            }

            await delay(100);
            socket.close();
            expect(replies).to.be.above(100);

            const answer = await udpExchange(port, dns2Query('_ikqs._tcp.example.test', RrType.SRV));
            expect(Dns2.Packet.parse(answer!).answers.length).to.equal(13);
            const output = await tool('dig', port, ['+tcp', 'example.test', 'SOA']);
            expect(output).to.contain('status: NOERROR');
            expect(unhandled).to.equal([]);
        });
    });
});

describe('dns-authority options and zone file', () => {

    it('rejects invalid options at registration', async () => {

        for (const options of [{}, { zoneFile: '/x', zone: signedDemoZone() }, { zoneFile: '/x', port: 70000 }, { zoneFile: '/x', tcpMaxConnectionsPerAddress: 0 }]) {
            await expect(Hapi.server().register({ plugin, options })).to.reject(/Invalid "dns-authority" options/);
        }
    });

    it('applies its TCP limits: an incomplete message is closed after tcpMessageTimeoutMs', async () => {

        const { server, port } = await start({ zone: signedDemoZone(), tcpMessageTimeoutMs: 100, tcpIdleTimeoutMs: 60_000 });
        try {
            expect(await tcpExchange(port, Buffer.from([0, 50, 1]), 3000)).to.equal({ data: Buffer.alloc(0), closed: true });
        }
        finally {
            await server.stop();
        }
    });

    it('answers SERVFAIL over TCP for an RRset too large for any message, and keeps serving the connection', async () => {

        // 4200 A records at one name: about 67 kB, more than a TCP length prefix can announce.
        const spec = demoSpec();
        const a = Array.from({ length: 4200 }, (_, i) => `10.0.${i >> 8}.${i & 0xff}`);
        const zone = signZone(buildZone({ ...spec, addresses: [...spec.addresses, { name: 'big.example.test', a }] }), { zsk: p256() }, signingWindow());
        const { server, port } = await start({ zone });
        try {
            const { data, closed } = await tcpExchange(port, framed(dns2Query('big.example.test', RrType.A), dns2Query('iks1.example.test', RrType.A, null)));
            expect(closed).to.be.false();
            const first = data.subarray(2, 2 + data.readUInt16BE(0));
            const rest = data.subarray(2 + first.length);
            expect(Dns2.Packet.parse(first).header.rcode).to.equal(Rcode.SERVFAIL);
            expect(Dns2.Packet.parse(rest.subarray(2)).answers[0]).to.include({ address: '127.0.0.1' });
            const udp = await udpExchange(port, dns2Query('big.example.test', RrType.A));
            expect(Dns2.Packet.parse(udp!).header.rcode).to.equal(Rcode.SERVFAIL);
        }
        finally {
            await server.stop();
        }
    });

    it('stops at once while a client keeps a TCP connection busy', async () => {

        const { server, port } = await start({ zone: signedDemoZone() });
        const client = Net.connect(port, '127.0.0.1');
        client.on('error', () => {});
        let answers = 0;
        client.on('data', () => ++answers);
        const busy = setInterval(() => client.write(framed(dns2Query('example.test', RrType.SOA, null))), 200);
        try {
            await eventually(() => answers > 0, 5000, 'an answer');
            let stopped = false;
            void server.stop().then(() => (stopped = true));
            await eventually(() => stopped, 5000, 'server.stop()');             // immediate; without the fix, never
        }
        finally {
            clearInterval(busy);
            client.destroy();
        }
    });

    it('fails to start when the zone file cannot be read', async () => {

        const server = Hapi.server();
        await server.register({ plugin, options: { zoneFile: '/nonexistent/zone.signed', port: 0 } });
        await expect(server.start()).to.reject(/ENOENT/);
    });

    it('fails to start when the port is taken', async () => {

        const first = await start({ zone: signedDemoZone() });
        const server = Hapi.server();
        await server.register({ plugin, options: { zone: signedDemoZone(), port: first.port } });
        await expect(server.start()).to.reject(/EADDRINUSE/);
        await first.server.stop();
    });

    it('serves the zone file, reloads it when it changes and keeps the old zone when the new one is unusable', async () => {

        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-dns-file-'));
        const file = Path.join(dir, 'zone.signed');
        const writeAtomically = (text: string) => {
            Fs.writeFileSync(`${file}.tmp`, text);
            Fs.renameSync(`${file}.tmp`, file);
        };

        writeAtomically(serializeSignedZone(signedDemoZone()));
        const { server, api, port } = await start({ zoneFile: file, watchIntervalMs: 20 });
        try {
            const srvCount = async () => Dns2.Packet.parse((await udpExchange(port, dns2Query('_ikqs._tcp.example.test', RrType.SRV, null)))!).answers.length;
            expect(await srvCount()).to.equal(2);

            writeAtomically(serializeSignedZone(signedDemoZone(undefined, 3)));
            for (let i = 0; i < 100 && (await srvCount()) !== 5; ++i) {
                await delay(20);
            }

            expect(await srvCount()).to.equal(5);

            const serving = api.zone();
            Fs.writeFileSync(file, '{ not a zone');
            Fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
            await delay(200);
            expect(api.zone()).to.shallow.equal(serving);
            expect(await srvCount()).to.equal(5);

            await api.reload(signedDemoZone(undefined, 1));
            expect(await srvCount()).to.equal(3);
            writeAtomically(serializeSignedZone(signedDemoZone()));
            await api.reload();
            expect(await srvCount()).to.equal(2);
        }
        finally {
            await server.stop();
            Fs.rmSync(dir, { recursive: true, force: true });
        }

        expect(api.address()).to.be.null();
    });

    it('rebuilds its answers from the same zone on reload without a file', async () => {

        const { server, api, port } = await start({ zone: signedDemoZone() });
        await api.reload();
        expect(api.zone()!.origin).to.equal('example.test');
        const reply = await udpExchange(port, dns2Query('example.test', RrType.SOA, null));
        expect(Dns2.Packet.parse(reply!).answers.length).to.equal(1);
        await server.stop();
    });

    it('stays silent, logs and keeps serving when an answer cannot be built', async () => {

        const good = signedDemoZone();
        // A zone without its NSEC chain cannot prove NODATA: that one answer fails, nothing else.
        const broken = { ...good, rrsets: good.rrsets.filter((set) => set.type !== RrType.NSEC) };
        const { server, port } = await start({ zone: broken });
        const logged: string[] = [];
        server.events.on('log', (event) => logged.push(JSON.stringify(event.data)));
        expect(await udpExchange(port, dns2Query('iks1.example.test', RrType.TXT), 300)).to.be.null();
        expect(logged.join()).to.contain('query handling failed');
        const reply = await udpExchange(port, dns2Query('iks1.example.test', RrType.A, null));
        expect(Dns2.Packet.parse(reply!).answers.length).to.equal(1);
        await server.stop();
    });

    it('counts BADVERS by its full 12-bit RCODE in the query metric', async () => {

        const metrics = new IksMetrics();
        const { server, port } = await start({ zone: signedDemoZone(), metrics });
        try {
            const reply = await udpExchange(port, dns2Query('example.test', RrType.SOA, { version: 1 }));
            expect(reply![3]! & 0x0f).to.equal(0);                                  // the header alone would say NOERROR
            const body = (await metrics.render()).body;
            expect(body).to.contain('iks_dns_queries_total{zone="example.test",transport="udp",qtype="REJECTED",rcode="BADVERS"} 1');
            expect(body).to.not.contain('rcode="NOERROR"');
        }
        finally {
            await server.stop();
        }
    });

    it('reports its earliest RRSIG expiration as a gauge and is not ready when it falls within the margin', async () => {

        const good = signedDemoZone();
        const soon = Math.floor(Date.now() / 1000) + 3600;
        // One RRSIG (over the SRV RRset) expiring in an hour: the earliest decides, not the zone's window.
        const early = {
            ...good,
            rrsets: good.rrsets.map((rrset) => rrset.type !== RrType.SRV ? rrset : {
                ...rrset,
                signatures: rrset.signatures.map((rdata) => {
                    const patched = Buffer.from(rdata);
                    patched.writeUInt32BE(soon, 8);
                    return patched;
                })
            })
        };

        const metrics = new IksMetrics();
        const gauge = async () => /iks_dns_zone_signatures_expire_timestamp_seconds\{zone="example.test"\} (\d+)/.exec((await metrics.render()).body)?.[1];
        const { server, api } = await start({ zone: early, metrics });
        try {
            expect(await gauge()).to.equal(String(soon));
            const notReady = api.readiness();
            expect(notReady.ready).to.be.false();
            expect(notReady.reason).to.contain(`example.test expire at ${new Date(soon * 1000).toISOString()}`);
            expect(api.readiness(Date.now() - 86_400_000).ready).to.be.true();      // a day earlier, an hour was 25 hours

            await api.reload(good);
            expect(await gauge()).to.equal(String(good.expiration));
            expect(api.readiness()).to.include({ ready: true });
        }
        finally {
            await server.stop();
        }

        const margin = await start({ zone: early, expiryMarginSeconds: 600 });
        expect(margin.api.readiness().ready).to.be.true();
        await margin.server.stop();

        const unstarted = Hapi.server();
        await unstarted.register({ plugin, options: { zoneFile: '/nonexistent/zone.signed', port: 0 } });
        expect((unstarted.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!.readiness()).to.equal({ ready: false, reason: 'no zone loaded yet' });
    });

    it('listens on IPv6 loopback', async () => {

        const server = Hapi.server();
        await server.register({ plugin, options: { zone: signedDemoZone(), host: '::1', port: 0 } });
        await server.start();
        const { port } = (server.plugins as unknown as Record<string, DnsAuthorityApi>)['dns-authority']!.address()!;
        const output = await tool('dig', port, ['example.test', 'SOA'], '::1');
        expect(output).to.contain('status: NOERROR');
        await server.stop();
    });
});
