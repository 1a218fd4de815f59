/**
 * The package face (`require('iks-hapi')`): the three hapi plugins, the store a host
 * passes them, the shared metrics, and the verifying client. Deeper entry points are
 * listed in package.json `exports`.
 */
export { plugin as dnsAuthority, type DnsAuthorityApi, type DnsAuthorityOptions } from '../plugins/dns-authority';
export { plugin as iksQuery, type IksQueryOptions } from '../plugins/iks-query';
export { plugin as iksRegister, type IksRegisterOptions } from '../plugins/iks-register';
export { createStore, EmbeddedStore, RedisStore } from './store';
export type { Store } from './store/types';
export { IksMetrics, createLogger, nameHash, redactPath, requestLogging } from './observability';
export { IksClient, DnsDiscovery, type ClientOptions, type LookupResult } from './client';
export { RegistrationClient, type Credentials, type RegistrationClientOptions } from './client/registration';
export { createGateway, type GatewayOptions } from './gateway';
