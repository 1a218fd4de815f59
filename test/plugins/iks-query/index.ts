import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import { plugin as iksQuery, type IksQueryOptions } from '../../../plugins/iks-query';
import { lookupSuite } from './suite';

export const lab = Lab.script();
const { describe, it } = lab;

lookupSuite(lab, 'embedded');

describe('iks-query options', () => {

    it('rejects invalid options at registration with a message', async () => {

        const server = Hapi.server();
        await expect(server.register({ plugin: iksQuery, options: { domain: 'example.test' } as IksQueryOptions })).to.reject(/Invalid "iks-query" options.*dataDir/);
    });
});
