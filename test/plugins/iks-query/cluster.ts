import * as Lab from '@hapi/lab';

import { redisClusterBackend } from '../../helpers/redis-cluster';
import { lookupSuite } from './suite';

export const lab = Lab.script();

// The same tests against a 3-master Redis Cluster started for this file.
lookupSuite(lab, 'redis cluster', redisClusterBackend);
