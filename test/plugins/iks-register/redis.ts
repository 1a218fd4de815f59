import * as Lab from '@hapi/lab';

import { redisBackend } from '../../helpers/redis-server';
import { registrationSuite } from './suite';

export const lab = Lab.script();

// The same tests against a real redis-server started for this file.
registrationSuite(lab, 'redis', redisBackend);
