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
