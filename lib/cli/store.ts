/**
 * The store every `iks` command opens: the one the configuration names (Redis, Redis
 * Cluster or the embedded file), so a command sees exactly what the server sees.
 */
import type { IksConfig } from '../../config';
import { createStore } from '../store';
import type { Store } from '../store/types';

export function storeFor(config: IksConfig): Store {

    return createStore({ redisUrl: config.redisUrl, redisCluster: config.redisCluster, dataDir: config.dataDir });
}

/** Runs `action` with the configured store and closes it afterwards, whatever happens. */
export async function withStore<T>(config: IksConfig, action: (store: Store) => Promise<T>): Promise<T> {

    const store = storeFor(config);
    try {
        return await action(store);
    }
    finally {
        await store.close();
    }
}

/** The configured store for messages: the Redis URL with its password replaced by `***`, or the embedded store's directory. */
export function storeLabel(config: Pick<IksConfig, 'redisUrl' | 'redisCluster' | 'dataDir'>): string {

    if (!config.redisUrl) {
        return `the embedded store in ${config.dataDir}`;
    }

    let url: URL;
    try {
        url = new URL(config.redisUrl);
    }
    catch {
        return 'Redis at a URL that does not parse (IKS_REDIS_URL, --redis-url)';
    }

    if (url.password) {
        url.password = '***';
    }

    if (url.searchParams.has('password')) {
        url.searchParams.set('password', '***');
    }

    return `${config.redisCluster ? 'Redis Cluster' : 'Redis'} at ${url.toString()}`;
}
