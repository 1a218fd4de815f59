import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import { plugin as iksRegister, type IksRegisterOptions } from '../../../plugins/iks-register';
import { registrationSuite } from './suite';

export const lab = Lab.script();
const { describe, it } = lab;

registrationSuite(lab, 'embedded');

describe('iks-register options', () => {

    it('rejects invalid options at registration with a message', async () => {

        const server = Hapi.server();
        await expect(server.register({ plugin: iksRegister, options: { domain: 'example.test', dataDir: '/tmp' } as IksRegisterOptions })).to.reject(/Invalid "iks-register" options.*store/);
        await expect(Hapi.server().register({ plugin: iksRegister, options: { domain: 'example.test', dataDir: '/tmp', store: {} } as unknown as IksRegisterOptions })).to.reject(/"store" must implement/);
    });
});
