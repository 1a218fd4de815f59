import * as Lab from '@hapi/lab';

import { redisClusterBackend } from '../../helpers/redis-cluster';
import { registrationSuite } from './suite';

export const lab = Lab.script();

// The same tests against a 3-master Redis Cluster started for this file.
registrationSuite(lab, 'redis cluster', redisClusterBackend);
