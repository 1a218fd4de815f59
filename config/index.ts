/**
 * One schema for every IKS setting. Sources, later ones winning: built-in defaults,
 * a JSON file (`IKS_CONFIG` or `--config`), `IKS_*` environment variables, explicit
 * overrides (CLI flags). Every component and every `iks` command loads the same way,
 * so a shell set up like the server needs no flags.
 */
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import Joi from 'joi';

import { InvalidConfig } from '../lib/errors';
import { canonicalDomain } from '../lib/names';
import { REGISTRATIONS_PER_ACTIVE_KEY } from '../lib/registration/limits';

export type SigningStrategy = 'offline' | 'ondemand' | 'online';

export type AuthenticationMethodName = 'password' | 'user-key' | 'assertion';

/** The registration service (iks-register, paper §5.2–§5.3). */
export interface RegisterConfig {
    /** Authentication methods this domain accepts (paper §5.2). */
    readonly methods: readonly AuthenticationMethodName[];
    /** Largest accepted request body, bytes. */
    readonly maxRequestBytes: number;
    /** Most keys a name may have listed at once (active, not expired). */
    readonly maxKeysPerName: number;
    /**
     * Most registrations a name may have stored (active, expired and revoked: the latter stay
     * stored for `retention`); default 4 × maxKeysPerName, at least maxKeysPerName.
     */
    readonly maxRegistrationsPerName: number;
    /** Largest accepted key size in bits (the RSA modulus; EC/EdDSA sizes are fixed and small). */
    readonly maxKeySize: number;
    /** Seconds a request timestamp may differ from the server clock; nonces are kept a minute longer. */
    readonly replayWindow: number;
    /** Longest accepted lifetime of a third-party assertion, seconds. */
    readonly assertionMaxLifetime: number;
    /** Seconds an RSK-signed registration answer stays valid. */
    readonly answerValidity: number;
    /** Brute-force protection of the password method. */
    readonly passwordFailures: {
        readonly perEntity: number;
        readonly perAddress: number;
        /** Seconds over which failures are counted. */
        readonly window: number;
        /** Seconds of lockout once a limit is passed. */
        readonly lockout: number;
    };
}

export interface IksConfig {
    readonly domain: string;
    readonly dataDir: string;
    readonly redisUrl?: string;
    /** `redisUrl` names one node of a Redis Cluster (the others are discovered). */
    readonly redisCluster: boolean;
    readonly signing: SigningStrategy;
    /** `workers`: gateway processes of `iks serve` (node:cluster; more than one needs Redis). */
    readonly http: { readonly host: string; readonly port: number; readonly workers: number };
    readonly dns: { readonly enabled: boolean; readonly host: string; readonly port: number };
    /** Seconds a KSK signature on a key document stays valid. */
    readonly signatureValidity: number;
    /** Re-sign this many seconds before a signature expires. */
    readonly refreshBefore: number;
    /** Seconds revoked and expired keys are kept (revocations stay published) before they are purged. */
    readonly retention: number;
    /** Seconds an RSK-signed negative answer stays valid. */
    readonly negativeValidity: number;
    /** Upper bound of Cache-Control max-age on lookups, seconds. */
    readonly maxCacheAge: number;
    readonly updater: {
        readonly inProcess: boolean;
        readonly pollInterval: number;
        readonly batchSize: number;
        readonly lease: number;
        /** Deliveries of a job before it is given up and listed by `iks updater --failed`. */
        readonly maxAttempts: number;
        /** Where `iks updater` serves its own Prometheus `/metrics`; no port, no endpoint. */
        readonly metricsHost: string;
        readonly metricsPort?: number;
    };
    readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    readonly zone: ZoneConfig;
    readonly register: RegisterConfig;
}

export interface ZoneConfig {
    readonly ttl: number;
    /** RRSIG validity in seconds, and how long before expiry the zone is re-signed. */
    readonly signatureValidity: number;
    readonly refreshBefore: number;
    /** Absolute names; default `ns1.<domain>`. */
    readonly nameservers: readonly string[];
    /**
     * The address clients reach the service at (behind NAT, a load balancer, a container
     * network), published for ns1 and iks when `addresses` is not given.
     */
    readonly publicAddress?: string;
    /** Addresses of in-zone hosts; default ns1 and iks at publicAddress, else the HTTP/DNS addresses. */
    readonly addresses: ReadonlyArray<{ readonly name: string; readonly a?: readonly string[]; readonly aaaa?: readonly string[] }>;
    /** SRV delegations (paper §5.4); default `_ikqs._tcp` and `_ikrs._tcp` → `iks.<domain>`:HTTP port. */
    readonly srv: ReadonlyArray<{ readonly service: '_ikqs._tcp' | '_ikrs._tcp'; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }>;
}

const internals = {
    // Environment variable → setting path.
    env: {
        IKS_DOMAIN: 'domain',
        IKS_DATA_DIR: 'dataDir',
        IKS_REDIS_URL: 'redisUrl',
        IKS_REDIS_CLUSTER: 'redisCluster',
        IKS_SIGNING: 'signing',
        IKS_HTTP_HOST: 'http.host',
        IKS_HTTP_PORT: 'http.port',
        IKS_HTTP_WORKERS: 'http.workers',
        IKS_DNS_ENABLED: 'dns.enabled',
        IKS_DNS_HOST: 'dns.host',
        IKS_DNS_PORT: 'dns.port',
        IKS_SIGNATURE_VALIDITY: 'signatureValidity',
        IKS_REFRESH_BEFORE: 'refreshBefore',
        IKS_RETENTION: 'retention',
        IKS_NEGATIVE_VALIDITY: 'negativeValidity',
        IKS_MAX_CACHE_AGE: 'maxCacheAge',
        IKS_UPDATER_IN_PROCESS: 'updater.inProcess',
        IKS_UPDATER_POLL_INTERVAL: 'updater.pollInterval',
        IKS_UPDATER_BATCH_SIZE: 'updater.batchSize',
        IKS_UPDATER_LEASE: 'updater.lease',
        IKS_UPDATER_MAX_ATTEMPTS: 'updater.maxAttempts',
        IKS_UPDATER_METRICS_HOST: 'updater.metricsHost',
        IKS_UPDATER_METRICS_PORT: 'updater.metricsPort',
        IKS_LOG_LEVEL: 'logLevel',
        IKS_ZONE_PUBLIC_ADDRESS: 'zone.publicAddress',
        IKS_REGISTER_METHODS: 'register.methods',
        IKS_REGISTER_MAX_REQUEST_BYTES: 'register.maxRequestBytes',
        IKS_REGISTER_MAX_KEYS_PER_NAME: 'register.maxKeysPerName',
        IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME: 'register.maxRegistrationsPerName',
        IKS_REGISTER_MAX_KEY_SIZE: 'register.maxKeySize',
        IKS_REGISTER_REPLAY_WINDOW: 'register.replayWindow',
        IKS_REGISTER_ASSERTION_MAX_LIFETIME: 'register.assertionMaxLifetime',
        IKS_REGISTER_ANSWER_VALIDITY: 'register.answerValidity',
        IKS_REGISTER_PASSWORD_FAILURES_PER_ENTITY: 'register.passwordFailures.perEntity',
        IKS_REGISTER_PASSWORD_FAILURES_PER_ADDRESS: 'register.passwordFailures.perAddress',
        IKS_REGISTER_PASSWORD_FAILURES_WINDOW: 'register.passwordFailures.window',
        IKS_REGISTER_PASSWORD_LOCKOUT: 'register.passwordFailures.lockout'
    } as Record<string, string>,

    reservedKeys: new Set(['__proto__', 'constructor', 'prototype']),

    // Environment variables holding comma-separated lists.
    lists: new Set(['IKS_REGISTER_METHODS']),

    port: Joi.number().integer().min(0).max(65535),
    seconds: Joi.number().integer().min(1).max(10 * 365 * 86400),

    // [earlier, later]: a signature re-signed no earlier than its expiry would be served expired
    // (a zone whose margin reaches its validity would be re-signed at every check).
    smallerThan: [
        ['refreshBefore', 'signatureValidity'],
        ['zone.refreshBefore', 'zone.signatureValidity']
    ] as const,

    // [larger, smaller]: the stored registrations a name may have include its active keys.
    notSmallerThan: [
        ['register.maxRegistrationsPerName', 'register.maxKeysPerName']
    ] as const
};

const schema = Joi.object({
    domain: Joi.string().default('example.test'),
    dataDir: Joi.string().default('.iks'),
    redisUrl: Joi.string().uri({ scheme: ['redis', 'rediss'] }),
    redisCluster: Joi.boolean().default(false),
    signing: Joi.string().valid('offline', 'ondemand', 'online').default('offline'),
    http: Joi.object({
        host: Joi.string().hostname().default('127.0.0.1'),
        port: internals.port.default(8080),
        workers: Joi.number().integer().min(1).max(64).default(1)
    }).default(),
    dns: Joi.object({
        enabled: Joi.boolean().default(true),
        host: Joi.string().ip().default('127.0.0.1'),
        port: internals.port.default(5300)
    }).default(),
    signatureValidity: internals.seconds.min(10).default(7 * 86400),
    refreshBefore: internals.seconds.default(86400),
    retention: internals.seconds.default(30 * 86400),
    // The bound iks-query applies (plugins/iks-query): a longer one passed here would only fail at `iks serve`, unnamed.
    negativeValidity: internals.seconds.max(86400).default(300),
    maxCacheAge: Joi.number().integer().min(0).max(86400).default(3600),
    updater: Joi.object({
        inProcess: Joi.boolean().default(false),
        pollInterval: Joi.number().integer().min(10).max(60000).default(100),
        batchSize: Joi.number().integer().min(1).max(10000).default(200),
        lease: Joi.number().integer().min(1000).max(3600000).default(60000),
        maxAttempts: Joi.number().integer().min(1).max(1000).default(10),
        metricsHost: Joi.string().ip({ cidr: 'forbidden' }).default('127.0.0.1'),
        metricsPort: internals.port
    }).default(),
    logLevel: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
    zone: Joi.object({
        ttl: Joi.number().integer().min(0).max(86400 * 7).default(3600),
        signatureValidity: internals.seconds.min(3600).default(14 * 86400),
        refreshBefore: internals.seconds.default(3 * 86400),
        nameservers: Joi.array().items(Joi.string().hostname()).min(1),
        publicAddress: Joi.string().ip({ cidr: 'forbidden' }),
        addresses: Joi.array().items(Joi.object({
            name: Joi.string().hostname().required(),
            a: Joi.array().items(Joi.string().ip({ version: 'ipv4', cidr: 'forbidden' })),
            aaaa: Joi.array().items(Joi.string().ip({ version: 'ipv6', cidr: 'forbidden' }))
        })),
        srv: Joi.array().items(Joi.object({
            service: Joi.string().valid('_ikqs._tcp', '_ikrs._tcp').required(),
            priority: Joi.number().integer().min(0).max(65535).default(10),
            weight: Joi.number().integer().min(0).max(65535).default(100),
            port: internals.port.min(1).required(),
            target: Joi.string().hostname().required()
        })).min(1)
    }).default(),
    register: Joi.object({
        methods: Joi.array().items(Joi.string().valid('password', 'user-key', 'assertion')).min(1).unique().default(['password', 'user-key', 'assertion']),
        maxRequestBytes: Joi.number().integer().min(1024).max(1024 * 1024).default(32 * 1024),
        maxKeysPerName: Joi.number().integer().min(1).max(1000).default(16),
        // After maxKeysPerName, so the default sees its final value; checked against it below.
        maxRegistrationsPerName: Joi.number().integer().min(1).max(10_000).default((parent: { maxKeysPerName: number }) => REGISTRATIONS_PER_ACTIVE_KEY * parent.maxKeysPerName),
        maxKeySize: Joi.number().integer().min(256).max(16384).default(8192),
        replayWindow: Joi.number().integer().min(10).max(3600).default(300),
        assertionMaxLifetime: internals.seconds.max(30 * 86400).default(3600),
        answerValidity: internals.seconds.default(3600),
        passwordFailures: Joi.object({
            perEntity: Joi.number().integer().min(1).max(1000).default(5),
            perAddress: Joi.number().integer().min(1).max(100000).default(50),
            window: internals.seconds.max(86400).default(900),
            lockout: internals.seconds.max(86400).default(900)
        }).default()
    }).default()
});

/** Fills the zone settings that derive from the domain and the listening addresses. */
function zoneDefaults(value: { http: { host: string; port: number }; dns: { host: string }; zone: Partial<ZoneConfig> & Pick<ZoneConfig, 'ttl' | 'signatureValidity' | 'refreshBefore'> }, domain: string): ZoneConfig {

    const isIp = (address: string) => Joi.string().ip({ cidr: 'forbidden' }).validate(address).error === undefined;
    // A wildcard listen address says nothing about where clients reach us: loopback, unless told.
    const address = (host: string) => value.zone.publicAddress ?? (isIp(host) && host !== '0.0.0.0' && host !== '::' ? host : '127.0.0.1');
    const family = (ip: string) => (ip.includes(':') ? { aaaa: [ip] } : { a: [ip] });
    const target = `iks.${domain}`;
    return {
        ...value.zone,
        nameservers: value.zone.nameservers ?? [`ns1.${domain}`],
        addresses: value.zone.addresses ?? [
            { name: `ns1.${domain}`, ...family(address(value.dns.host)) },
            { name: target, ...family(address(value.http.host)) }
        ],
        srv: value.zone.srv ?? [
            { service: '_ikqs._tcp', priority: 10, weight: 100, port: value.http.port, target },
            { service: '_ikrs._tcp', priority: 10, weight: 100, port: value.http.port, target }
        ]
    };
}

function getPath(source: unknown, path: string): unknown {

    let node = source;
    for (const part of path.split('.')) {
        node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
    }

    return node;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown, source: string): void {

    const parts = path.split('.');
    let node = target;
    for (const [index, part] of parts.slice(0, -1).entries()) {
        node[part] ??= {};
        const next = node[part];
        if (typeof next !== 'object' || next === null || Array.isArray(next)) {
            const setting = parts.slice(0, index + 1).join('.');
            throw new InvalidConfig(`invalid setting "${setting}": it must be an object, to hold "${path}" (from ${source}); it is ${JSON.stringify(next)?.slice(0, 40) ?? String(next)}`);
        }

        node = next as Record<string, unknown>;
    }

    node[parts[parts.length - 1]!] = value;
}

/**
 * Keys that JavaScript gives a meaning (`__proto__` replaces an object's prototype on
 * assignment, so its settings would become inherited defaults that no unknown-key check
 * sees): refused anywhere in a configuration file.
 */
function refuseReservedKeys(value: unknown, file: string, path: string[] = []): void {

    if (typeof value !== 'object' || value === null) {
        return;
    }

    for (const key of Object.keys(value)) {
        if (internals.reservedKeys.has(key)) {
            throw new InvalidConfig(`invalid setting "${[...path, key].join('.')}" (from ${file}): "${key}" is not allowed as a key`);
        }

        refuseReservedKeys((value as Record<string, unknown>)[key], file, [...path, key]);
    }
}

export interface LoadOptions {
    /** Environment to read `IKS_*` from (default process.env). */
    readonly env?: NodeJS.ProcessEnv;
    /** JSON file; default `IKS_CONFIG` from the environment. */
    readonly file?: string;
    /** Settings that win over every other source (CLI flags). */
    readonly overrides?: Record<string, unknown>;
}

/** Loads and validates the configuration; throws InvalidConfig naming the bad setting and its source. */
export function loadConfig(options: LoadOptions = {}): IksConfig {

    const env = options.env ?? process.env;
    const raw: Record<string, unknown> = {};
    const sources = new Map<string, string>();

    const file = options.file ?? env.IKS_CONFIG;
    let fromFile: unknown;
    if (file) {
        let parsed: unknown;
        try {
            parsed = JSON.parse(Fs.readFileSync(file, 'utf8'));
        }
        catch (err) {
            throw new InvalidConfig(`cannot read config file ${file}: ${(err as Error).message}`);
        }

        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            throw new InvalidConfig(`config file ${file} must hold a JSON object`);
        }

        refuseReservedKeys(parsed, file);
        fromFile = parsed;
        Object.assign(raw, parsed);
        for (const pair of [...internals.smallerThan, ...internals.notSmallerThan]) {
            for (const path of pair) {
                if (getPath(parsed, path) !== undefined) {
                    sources.set(path, file);
                }
            }
        }
    }

    for (const [variable, path] of Object.entries(internals.env)) {
        const value = env[variable];
        if (value !== undefined && value !== '') {
            setPath(raw, path, internals.lists.has(variable) ? value.split(',').map((item) => item.trim()).filter(Boolean) : value, variable);
            sources.set(path, variable);
        }
    }

    for (const [path, value] of Object.entries(options.overrides ?? {})) {
        if (value !== undefined) {
            setPath(raw, path, value, `option ${path}`);
            sources.set(path, `option ${path}`);
        }
    }

    const { error, value } = schema.validate(raw, { abortEarly: true, convert: true });
    if (error) {
        const detail = error.details[0]!;
        const path = detail.path.join('.');
        // An item of a list reports its index in the path; the source is the list's.
        const source = sources.get(path) ?? sources.get(path.replace(/\.\d+$/, '')) ?? (file ? `${file}` : 'defaults');
        throw new InvalidConfig(`invalid setting ${path ? `"${path}" ` : ''}(from ${source}): ${detail.message}`);
    }

    // Rules between two settings name both and where each came from: either may be the one to change.
    const origin = (setting: string) => `"${setting}" (from ${sources.get(setting) ?? 'defaults'})`;
    for (const [earlier, later] of internals.smallerThan) {
        const [first, second] = [getPath(value, earlier) as number, getPath(value, later) as number];
        if (first >= second) {
            throw new InvalidConfig(`invalid settings ${origin(earlier)} and ${origin(later)}: "${earlier}" must be smaller than "${later}" (${first} ≥ ${second} seconds)`);
        }
    }

    for (const [larger, smaller] of internals.notSmallerThan) {
        const [first, second] = [getPath(value, larger) as number, getPath(value, smaller) as number];
        if (first < second) {
            throw new InvalidConfig(`invalid settings ${origin(larger)} and ${origin(smaller)}: "${larger}" must be at least "${smaller}" (${first} < ${second})`);
        }
    }

    let domain: string;
    try {
        domain = canonicalDomain(value.domain);
    }
    catch (err) {
        throw new InvalidConfig(`invalid setting "domain" (from ${sources.get('domain') ?? 'defaults'}): ${(err as Error).message}`);
    }

    const zone = zoneDefaults(value, domain);
    checkZoneReachable(zone, domain, (setting) => sources.get(setting) ?? (file && getPath(fromFile, setting) !== undefined ? file : 'defaults'));
    return { ...value, domain, dataDir: Path.resolve(value.dataDir), zone } as IksConfig;
}

/**
 * Refuses a zone that would publish what no client can reach: an unspecified address
 * (0.0.0.0, ::) as A/AAAA, or an in-zone SRV target or nameserver without an address
 * (a lookup would find the service and then no host). Out-of-zone targets are the
 * operator's to publish elsewhere.
 */
function checkZoneReachable(zone: ZoneConfig, domain: string, sourceOf: (setting: string) => string): void {

    const unspecified = (ip: string) => /^0+(\.0+){3}$/.test(ip) || /^[0:]+$/.test(ip);
    if (zone.publicAddress !== undefined && unspecified(zone.publicAddress)) {
        throw new InvalidConfig(`invalid setting "zone.publicAddress" (from ${sourceOf('zone.publicAddress')}): ${zone.publicAddress} is the unspecified address, which clients cannot reach; set the address clients reach the service at`);
    }

    for (const [index, entry] of zone.addresses.entries()) {
        const bad = [...entry.a ?? [], ...entry.aaaa ?? []].find(unspecified);
        if (bad !== undefined) {
            throw new InvalidConfig(`invalid setting "zone.addresses.${index}" (from ${sourceOf('zone.addresses')}): ${entry.name} at ${bad}, the unspecified address, which clients cannot reach`);
        }
    }

    const normal = (name: string) => name.toLowerCase().replace(/\.$/, '');
    const inZone = (name: string) => normal(name) === domain || normal(name).endsWith(`.${domain}`);
    const addressed = new Set(zone.addresses.filter((entry) => (entry.a?.length ?? 0) + (entry.aaaa?.length ?? 0) > 0).map((entry) => normal(entry.name)));
    const missing = (name: string) => inZone(name) && !addressed.has(normal(name));
    for (const [index, srv] of zone.srv.entries()) {
        if (missing(srv.target)) {
            throw new InvalidConfig(`invalid setting "zone.srv.${index}.target" (from ${sourceOf('zone.srv')}): ${srv.target} is in ${domain} but "zone.addresses" (from ${sourceOf('zone.addresses')}) gives it no address, so clients would find the service and no host; add it to zone.addresses`);
        }
    }

    for (const [index, nameserver] of zone.nameservers.entries()) {
        if (missing(nameserver)) {
            throw new InvalidConfig(`invalid setting "zone.nameservers.${index}" (from ${sourceOf('zone.nameservers')}): ${nameserver} is in ${domain} but "zone.addresses" (from ${sourceOf('zone.addresses')}) gives it no address (no glue); add it to zone.addresses`);
        }
    }
}

/**
 * Refuses to publish SRV records with port 0: http.port 0 listens on any free port, which
 * a client cannot know. For whatever signs the zone (`iks init`, `iks keys rotate ksk`).
 */
export function assertPublishableZone(config: Pick<IksConfig, 'zone'>): void {

    const index = config.zone.srv.findIndex((srv) => srv.port === 0);
    if (index !== -1) {
        throw new InvalidConfig(`the zone would publish ${config.zone.srv[index]!.service} SRV with port 0: "http.port" (IKS_HTTP_PORT) is 0, which listens on any free port that clients cannot know; set http.port to the port clients reach, or give zone.srv`);
    }
}

/** Where a domain's files live under the data dir. */
export function domainDir(config: Pick<IksConfig, 'dataDir' | 'domain'>): string {

    return Path.join(config.dataDir, config.domain);
}
