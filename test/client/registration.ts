import * as Crypto from 'node:crypto';
import * as Http from 'node:http';
import type { AddressInfo } from 'node:net';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { DnsDiscovery } from '../../lib/client';
import { RegistrationClient } from '../../lib/client/registration';
import { InvalidKey } from '../../lib/errors';
import { freePort } from '../helpers/process';
import { anchorsOf, signedIksZone } from '../helpers/signed-zone';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

describe('RegistrationClient.register', () => {

    let server: Http.Server;
    let baseUrl: string;
    let client: RegistrationClient;
    const requests: string[] = [];
    const credentials = { authKey: Crypto.generateKeyPairSync('ed25519').privateKey };

    before(async () => {

        // Records every request that reaches it: what the client sent, whatever the answer.
        server = Http.createServer((request, response) => {

            requests.push(`${request.method} ${request.url}`);
            response.writeHead(503).end();
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        // A DNS server nobody answers on: these tests must never get as far as DNS.
        const discovery = new DnsDiscovery({ server: { host: '127.0.0.1', port: await freePort() }, anchors: anchorsOf(signedIksZone()), timeoutMs: 200 });
        client = new RegistrationClient({ discovery, baseUrl, timeout: 2000 });
    });

    after(async () => {

        await new Promise((resolve) => server.close(resolve));
    });

    it('sends a public key (the control: the service is reached)', async () => {

        requests.length = 0;
        const publicPem = Crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
        await expect(client.register('alice@example.test', { container: publicPem, usage: ['sign'] }, credentials)).to.reject();
        expect(requests).to.equal(['POST /ikrs/v1']);
    });

    it('refuses a private key before anything is sent', async () => {

        requests.length = 0;
        for (const privatePem of [
            Crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
            Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string
        ]) {
            const error = await expect(client.register('alice@example.test', { container: privatePem, usage: ['sign'] }, { password: 'a password of alice' })).to.reject(InvalidKey);
            expect(error.message).to.contain('this is a private key; register only the public half');
        }

        expect(requests).to.equal([]);
    });

    it('refuses text that is no public key before anything is sent', async () => {

        requests.length = 0;
        await expect(client.register('alice@example.test', { container: 'not a key', usage: ['sign'] }, credentials)).to.reject(InvalidKey);
        expect(requests).to.equal([]);
    });
});
