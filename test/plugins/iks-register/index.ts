import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import Hapi from '@hapi/hapi';

import { plugin as iksRegister, type IksRegisterOptions } from '../../../plugins/iks-register';
import { makeDomain } from '../../helpers/domain';
import { makeEntities, registerRequest, revokeRequest, type PreparedRequest } from '../../helpers/registration-requests';
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

    it('bounds the registrations a name stores at 4 × maxKeysPerName unless told, and never below maxKeysPerName', async () => {

        const domain = await makeDomain();
        try {
            const options = { domain: domain.domain, dataDir: domain.dataDir, store: domain.store, maxKeysPerName: 2 };
            await expect(Hapi.server().register({ plugin: iksRegister, options: { ...options, maxRegistrationsPerName: 1 } })).to.reject(/"maxRegistrationsPerName" must be at least "maxKeysPerName" \(1 < 2\)$/);

            const server = Hapi.server();
            await server.register({ plugin: iksRegister, options });
            const post = async (request: PreparedRequest) => (await server.inject({ method: 'POST', url: '/ikrs/v1', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, payload: request.body })).payload;
            const [entity] = await makeEntities(domain.store, 1, 'options');
            const outcomes: string[] = [];
            for (let i = 0; i < 8; ++i) {
                const registration = registerRequest(entity!);
                const answer = await post(registration);
                outcomes.push(/<Outcome>([a-z-]+)<\/Outcome>/.exec(answer)![1]!);
                if (answer.includes('<Outcome>accepted</Outcome>')) {
                    expect(await post(revokeRequest(entity!, registration.keyId))).to.contain('<Outcome>accepted</Outcome>');
                }
                else {
                    expect(answer).to.contain('8 stored keys (active, expired and revoked)');
                }
            }

            // Its iks-auth key and 7 revoked keys: 8 = 4 × 2.
            expect(outcomes).to.equal([...Array(7).fill('accepted'), 'refused']);
        }
        finally {
            await domain.cleanup();
        }
    });
});
