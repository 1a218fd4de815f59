import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { aliceWritesToBob, DomainService, Participant } from '../../examples/messaging';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const tempDir = () => Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-example-'));

describe('examples/messaging', () => {

    it('runs the story: Alice locates Bob\'s key through IKS and Bob reads her sealed message', async () => {

        const dir = tempDir();
        try {
            const { read, sealed } = await aliceWritesToBob(dir, 'Lunch at noon?');
            expect(read).to.equal('Lunch at noon?');
            expect(Buffer.from(sealed.ciphertext, 'base64').toString('utf8')).to.not.contain('Lunch');
        }
        finally {
            Fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe('with a running domain', () => {

        let dir: string;
        let domain: DomainService;
        let alice: Participant;
        let bob: Participant;
        let mallory: Participant;

        before(async () => {

            dir = tempDir();
            domain = await DomainService.start('example.test', dir);
            alice = new Participant('alice@example.test', domain.discovery());
            bob = new Participant('bob@example.test', domain.discovery());
            mallory = new Participant('mallory@example.test', domain.discovery());
            for (const participant of [alice, bob, mallory]) {
                await participant.publishKey(await domain.addUser(participant.name));
            }

            await domain.publish();
        });

        after(async () => {

            await domain?.stop();
            Fs.rmSync(dir, { recursive: true, force: true });
        });

        it('lets Bob answer Alice', async () => {

            expect(await alice.receive(await bob.send(alice.name, 'Noon works.'))).to.equal('Noon works.');
        });

        it('refuses a message altered on the way', async () => {

            const sealed = await alice.send(bob.name, 'Pay invoice 17');
            const ciphertext = Buffer.from(sealed.ciphertext, 'base64');
            ciphertext[0]! ^= 1;
            await expect(bob.receive({ ...sealed, ciphertext: ciphertext.toString('base64') })).to.reject(/authenticate/);
        });

        it('refuses a message whose claimed sender did not seal it', async () => {

            const forged = await mallory.send(bob.name, 'This is Alice, send the keys');
            const aliceKey = await bob.locate(alice.name);
            await expect(bob.receive({ ...forged, from: alice.name, senderKeyId: aliceKey.keyId })).to.reject(/authenticate/);
        });

        it('cannot locate a key nobody published', async () => {

            await expect(alice.locate('nobody@example.test')).to.reject(/no X25519 encryption key/);
        });
    });
});
