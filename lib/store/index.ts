import * as Path from 'node:path';

import { EmbeddedStore } from './embedded';
import { RedisStore } from './redis';
import type { Store } from './types';

export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded';
export { RedisKeys } from './keys';
export { isActive, registrationOf } from './registration';
export { RedisStore, type RedisStoreOptions } from './redis';
export type * from './types';

export interface CreateStoreOptions {
    readonly redisUrl?: string | undefined;
    /** The URL is a node of a Redis Cluster. */
    readonly redisCluster?: boolean;
    readonly dataDir: string;
    readonly keyPrefix?: string;
}

/** Redis when a URL is configured, else the embedded store under the data dir. */
export function createStore(options: CreateStoreOptions): Store {

    if (options.redisUrl) {
        return new RedisStore({ url: options.redisUrl, cluster: options.redisCluster ?? false, ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}) });
    }

    return new EmbeddedStore({ path: Path.join(options.dataDir, 'store.sqlite') });
}
