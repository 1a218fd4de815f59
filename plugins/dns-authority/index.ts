/**
 * dns-authority: serves the domain's signed IKS zone over UDP and TCP (ARCHITECTURE §3 "DNS").
 *
 * It holds no key (ARCHITECTURE §2): the zone arrives signed, either as a SignedZone value
 * or as the file the signer writes (`<dataDir>/<domain>/public/zone.signed`), which is re-read
 * when it changes. The sockets follow the hapi server's lifecycle.
 */
import * as Fs from 'node:fs';
import { isIP } from 'node:net';

import type * as Hapi from '@hapi/hapi';
import Joi from 'joi';
import { Gauge } from 'prom-client';

import { responseRcode } from '../../lib/dns/message';
import { parseQuery, type QueryParse } from '../../lib/dns/query';
import { rcodeName, typeName } from '../../lib/dns/types';
import { parseSignedZone, type SignedZone } from '../../lib/dnssec/signed-zone';
import { IksMetrics } from '../../lib/observability';
import { ZoneResponder } from './responder';
import { defaultTcpLimits, TcpTransport, UdpTransport } from './transport';

export interface DnsAuthorityOptions {
    /** Listen address (default 127.0.0.1). */
    readonly host?: string;
    /** UDP and TCP port (default 5300); 0 picks a free one, shared by both. */
    readonly port?: number;
    /** The signed zone itself… */
    readonly zone?: SignedZone;
    /** …or the signed zone file, watched and reloaded when it changes (write it by rename). */
    readonly zoneFile?: string;
    /** How often the zone file is polled, milliseconds (default 2000). */
    readonly watchIntervalMs?: number;
    /** Largest UDP answer whatever the client advertises (default 1232). */
    readonly maxUdpPayload?: number;
    /** Encoded answers kept in memory (default 10000). */
    readonly cacheSize?: number;
    /** TCP: close a connection idle this long, milliseconds (default 10000, RFC 7766 §6.2.3). */
    readonly tcpIdleTimeoutMs?: number;
    /** TCP: a message must arrive whole this long after its first octet, milliseconds (default 5000). */
    readonly tcpMessageTimeoutMs?: number;
    /** TCP: open connections; at the limit a new one closes the one answered least recently (default 1024). */
    readonly tcpMaxConnections?: number;
    /** TCP: open connections from one source address (default 32). */
    readonly tcpMaxConnectionsPerAddress?: number;
    /** Metrics shared with the other plugins of this gateway; default: a registry of this registration's own. */
    readonly metrics?: IksMetrics;
    /** readiness() fails when the zone's first RRSIG expires within this many seconds (default 86400). */
    readonly expiryMarginSeconds?: number;
}

export interface DnsAuthorityReadiness {
    readonly ready: boolean;
    /** What a load balancer or an operator reads: the zone and when its signatures expire, or why not ready. */
    readonly reason: string;
}

/** What the plugin exposes as `server.plugins['dns-authority']`. */
export interface DnsAuthorityApi {
    /** The bound address; port is the one actually in use. */
    address(): { host: string; port: number } | null;
    /** Re-reads zoneFile (or installs `zone`) and drops cached answers. */
    reload(zone?: SignedZone): Promise<void>;
    /** The zone currently served. */
    zone(): SignedZone | null;
    /**
     * Ready when a zone is loaded and its first RRSIG expires later than expiryMarginSeconds
     * from now: nothing but the updater re-signs it, so a stopped updater shows here before
     * validating resolvers start to see BOGUS answers. For the host's readiness endpoint.
     */
    readiness(now?: number): DnsAuthorityReadiness;
}

const internals = {
    schema: Joi.object({
        host: Joi.string().ip({ cidr: 'forbidden' }).default('127.0.0.1'),
        port: Joi.number().integer().min(0).max(65535).default(5300),
        zone: Joi.object({
            origin: Joi.string().required(),
            inception: Joi.number().required(),
            expiration: Joi.number().required(),
            rrsets: Joi.array().required()
        }).unknown(),
        zoneFile: Joi.string(),
        watchIntervalMs: Joi.number().integer().min(10).default(2000),
        maxUdpPayload: Joi.number().integer().min(512).max(65535).default(1232),
        cacheSize: Joi.number().integer().min(1).default(10_000),
        tcpIdleTimeoutMs: Joi.number().integer().min(1).default(defaultTcpLimits.idleTimeoutMs),
        tcpMessageTimeoutMs: Joi.number().integer().min(1).default(defaultTcpLimits.messageTimeoutMs),
        tcpMaxConnections: Joi.number().integer().min(1).default(defaultTcpLimits.maxConnections),
        tcpMaxConnectionsPerAddress: Joi.number().integer().min(1).default(defaultTcpLimits.maxConnectionsPerAddress),
        metrics: Joi.object().instance(IksMetrics),
        expiryMarginSeconds: Joi.number().integer().min(0).default(86_400)
    }).xor('zone', 'zoneFile'),
    bindAttempts: 10,
    expiryMetric: 'iks_dns_zone_signatures_expire_timestamp_seconds',

    /** The expiry gauge of a shared registry: made by the first registration, found by the next. */
    expiryGauge(metrics: IksMetrics): Gauge<'zone'> {

        const existing = metrics.registry.getSingleMetric(internals.expiryMetric);
        return existing as Gauge<'zone'> | undefined ?? new Gauge({
            name: internals.expiryMetric,
            help: 'When the first RRSIG of the zone dns-authority serves expires, Unix seconds: only the updater re-signs it',
            labelNames: ['zone'] as const,
            registers: [metrics.registry],
            // Workers of one cluster serve the same file; the earliest reading is the one that matters.
            aggregator: 'min'
        });
    },

    /** A metric label for the query type: named types only, so a scan of all 65536 types cannot blow up the series count. */
    qtypeLabel(query: QueryParse): string {

        if (query.kind !== 'query') {
            return query.kind === 'reject' ? 'REJECTED' : 'DROPPED';
        }

        const name = typeName(query.qtype);
        return name.startsWith('TYPE') ? 'OTHER' : name;
    }
};

type Settings = Required<Pick<DnsAuthorityOptions, 'host' | 'port' | 'watchIntervalMs' | 'maxUdpPayload' | 'cacheSize' | 'expiryMarginSeconds' | 'tcpIdleTimeoutMs' | 'tcpMessageTimeoutMs' | 'tcpMaxConnections' | 'tcpMaxConnectionsPerAddress'>> & Pick<DnsAuthorityOptions, 'zone' | 'zoneFile' | 'metrics'>;

declare module '@hapi/hapi' {
    interface PluginProperties {
        'dns-authority': DnsAuthorityApi;
    }
}

/**
 * Serves one zone on its own UDP+TCP port. It needs no hapi route, so the host's
 * vhost, prefix and auth settings do not apply; another domain gets another server
 * (or its records go into the organisation's own DNS, docs/operations.md).
 */
export const plugin: Hapi.NamedPlugin<DnsAuthorityOptions> = {
    name: 'dns-authority',
    version: '0.1.0',
    requirements: { hapi: '>=21' },

    register(server, options) {

        const settings: Settings = Joi.attempt(options, internals.schema, 'Invalid "dns-authority" options');
        const metrics = settings.metrics ?? new IksMetrics();
        const expiryGauge = internals.expiryGauge(metrics);
        const responderOptions = { maxUdpPayload: settings.maxUdpPayload, cacheSize: settings.cacheSize };
        let responder: ZoneResponder | null = null;

        const serve = (zone: SignedZone): void => {

            responder = new ZoneResponder(zone, responderOptions);
            if (Number.isFinite(responder.signaturesExpire)) {
                expiryGauge.set({ zone: zone.origin }, responder.signaturesExpire);
            }
        };

        if (settings.zone) {
            serve(settings.zone);
        }

        let udp: UdpTransport | null = null;
        let tcp: TcpTransport | null = null;
        let bound: { host: string; port: number } | null = null;
        let fileVersion = '';

        const answer = (message: Buffer, transport: 'udp' | 'tcp'): Buffer | null => {

            if (!responder) {
                return null;
            }

            try {
                const query = parseQuery(message);
                const reply = responder.respond(query, transport);
                metrics.dnsQueries.inc({ zone: responder.zone.origin, transport, qtype: internals.qtypeLabel(query), rcode: reply ? rcodeName(responseRcode(reply)) : 'NONE' });
                return reply;
            }
            catch (err) {
                // A bug must cost one answer, never the process.
                server.log(['dns-authority', 'error'], { message: 'query handling failed', error: (err as Error).message });
                return null;
            }
        };

        const loadFile = async (): Promise<void> => {

            const file = settings.zoneFile!;
            const text = await Fs.promises.readFile(file, 'utf8');
            serve(parseSignedZone(text));
        };

        const reload = async (zone?: SignedZone): Promise<void> => {

            if (zone) {
                serve(zone);
                return;
            }

            if (settings.zoneFile) {
                await loadFile();
            }
            else if (responder) {
                serve(responder.zone);
            }
        };

        const onZoneFileChange = (current: Fs.Stats): void => {

            // A rename within one coarse timestamp tick keeps mtime: the inode tells it apart.
            const version = statVersion(current);
            if (version === fileVersion || current.mtimeMs === 0) {
                return;
            }

            fileVersion = version;
            loadFile().then(
                () => server.log(['dns-authority', 'info'], `reloaded ${settings.zoneFile}`),
                (err: Error) => server.log(['dns-authority', 'error'], { message: `kept the previous zone: ${settings.zoneFile} is unusable`, error: err.message })
            );
        };

        const readiness = (now = Date.now()): DnsAuthorityReadiness => {

            if (!responder) {
                return { ready: false, reason: 'no zone loaded yet' };
            }

            const { origin } = responder.zone;
            const expires = responder.signaturesExpire;
            const until = Number.isFinite(expires) ? new Date(expires * 1000).toISOString() : 'never';
            if (expires * 1000 - now <= settings.expiryMarginSeconds * 1000) {
                return { ready: false, reason: `the signatures of ${origin} expire at ${until}, within ${settings.expiryMarginSeconds} s; is the updater running?` };
            }

            return { ready: true, reason: `serving ${origin}, signed until ${until}` };
        };

        const api: DnsAuthorityApi = {
            address: () => bound,
            reload,
            zone: () => responder?.zone ?? null,
            readiness
        };

        server.expose(api);

        server.ext('onPreStart', async () => {

            if (settings.zoneFile) {
                fileVersion = statVersion(Fs.statSync(settings.zoneFile));      // before reading: a later change is still seen
                await loadFile();
                Fs.watchFile(settings.zoneFile, { interval: settings.watchIntervalMs, persistent: false }, onZoneFileChange);
            }

            const sockets = await listen(settings, answer);
            udp = sockets.udp;
            tcp = sockets.tcp;
            bound = { host: settings.host, port: sockets.port };
            for (const socket of [sockets.udp, sockets.tcp]) {
                socket.on('error', (err: Error) => server.log(['dns-authority', 'error'], { message: 'socket error', error: err.message }));
            }
        });

        server.ext('onPostStop', async () => {

            if (settings.zoneFile) {
                Fs.unwatchFile(settings.zoneFile, onZoneFileChange);
            }

            const closing: Promise<void>[] = [];
            if (udp) {
                const socket = udp;
                closing.push(new Promise((resolve) => socket.close(() => resolve())));
            }

            if (tcp) {
                closing.push(tcp.shutdown());                 // also closes open connections, or stop() waits on them
            }

            udp = null;
            tcp = null;
            bound = null;
            await Promise.all(closing);
        });
    }
};

function statVersion(stats: Fs.Stats): string {

    return `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
}

/** Binds UDP, then TCP on the same port (retrying when port 0 drew a port taken for TCP). */
async function listen(settings: Settings, answer: (message: Buffer, transport: 'udp' | 'tcp') => Buffer | null): Promise<{ udp: UdpTransport; tcp: TcpTransport; port: number }> {

    const type = isIP(settings.host) === 6 ? 'udp6' : 'udp4';
    for (let attempt = 1; ; ++attempt) {
        const udp = new UdpTransport(type, answer);
        await new Promise<void>((resolve, reject) => {
            udp.once('error', reject);
            udp.bind(settings.port, settings.host, () => {
                udp.off('error', reject);
                resolve();
            });
        });

        const port = udp.address().port;
        const tcp = new TcpTransport(answer, {
            idleTimeoutMs: settings.tcpIdleTimeoutMs,
            messageTimeoutMs: settings.tcpMessageTimeoutMs,
            maxConnections: settings.tcpMaxConnections,
            maxConnectionsPerAddress: settings.tcpMaxConnectionsPerAddress
        });
        try {
            await new Promise<void>((resolve, reject) => {
                tcp.once('error', reject);
                tcp.listen(port, settings.host, () => {
                    tcp.off('error', reject);
                    resolve();
                });
            });
            return { udp, tcp, port };
        }
        catch (err) {
            await new Promise<void>((resolve) => udp.close(() => resolve()));
            if (settings.port !== 0 || attempt >= internals.bindAttempts) {
                throw err;
            }
        }
    }
}
