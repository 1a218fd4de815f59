/**
 * Why the gateway could not start listening, said as the setting to change: a bare
 * `listen EADDRINUSE` names neither the listener (HTTP or DNS) nor how to move it.
 */
import type { IksConfig } from '../../config';
import { IksError } from '../errors';

const internals = {
    reasons: {
        EADDRINUSE: 'the port is in use (EADDRINUSE)',
        EACCES: 'permission denied (EACCES; ports below 1024 need privileges)',
        EADDRNOTAVAIL: 'the address is not one of this host\'s (EADDRNOTAVAIL)'
    } as Record<string, string>
};

/** `error` as a LISTEN_FAILED naming the address and the setting, when it is a socket that could not listen; else `error`. */
export function listenFailure(error: unknown, config: IksConfig): unknown {

    const { code, syscall, address, port } = (error ?? {}) as NodeJS.ErrnoException & { address?: string; port?: number };
    const reason = code === undefined ? undefined : internals.reasons[code];
    if (reason === undefined || (syscall !== 'listen' && syscall !== 'bind')) {
        return error;
    }

    // UDP binds only for DNS; a TCP listen on the DNS port (when it differs from HTTP's) is DNS's too.
    const dns = config.dns.enabled && (syscall === 'bind' || (port === config.dns.port && port !== config.http.port));
    const where = `${address ?? (dns ? config.dns.host : config.http.host)}:${port ?? (dns ? config.dns.port : config.http.port)}`;
    const change = dns ?
        (code === 'EADDRNOTAVAIL' ? 'IKS_DNS_HOST (dns.host)' : 'IKS_DNS_PORT (dns.port), or IKS_DNS_ENABLED=false when other servers serve the zone') :
        (code === 'EADDRNOTAVAIL' ? 'IKS_HTTP_HOST (http.host)' : 'IKS_HTTP_PORT (http.port)');
    return new IksError('LISTEN_FAILED', `cannot listen for ${dns ? 'DNS' : 'HTTP'} on ${where}: ${reason}; set ${change} in the environment or the configuration file`, { cause: error });
}
