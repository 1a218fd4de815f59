import { generateKeyPairSync } from 'node:crypto';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { importFile, registrationFromLine } from '../../lib/cli/import';
import { InvalidInput } from '../../lib/errors';
import { makeDomain, tempFile, type TestDomain } from '../helpers/domain';

export const lab = Lab.script();
const { describe, it, beforeEach, afterEach } = lab;

const pem = () => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;

describe('iks import', () => {

    let domain: TestDomain;

    beforeEach(async () => {

        domain = await makeDomain();
    });

    afterEach(async () => {

        await domain.cleanup();
    });

    it('writes every line as a registration and enqueues the names', async () => {

        const lines = [
            JSON.stringify({ name: 'carol@example.test', key: pem(), usage: ['sign'] }),
            '',
            JSON.stringify({ name: 'Dave@EXAMPLE.test', key: pem(), usage: ['sign', 'encrypt'], expires: '2099-01-01T00:00:00Z' }),
            JSON.stringify({ name: 'carol@example.test', key: pem() })
        ];

        const outcome = await importFile(tempFile('keys.jsonl', lines.join('\n')), domain.store, { domain: 'example.test', batchSize: 2 });
        expect(outcome).to.equal({ imported: 3, revoked: 0, invalid: [] });
        expect(await domain.store.getRegistrations('carol@example.test')).to.have.length(2);
        const [dave] = await domain.store.getRegistrations('Dave@example.test');
        expect(dave!.expiresAt).to.equal(Date.UTC(2099, 0, 1));
        expect(dave!.usage).to.equal(['sign', 'encrypt']);
        expect((await domain.store.getRegistrations('carol@example.test')).map((registration) => registration.usage).sort()).to.equal([['any'], ['sign']]);
        expect(await domain.store.queueDepth()).to.equal(2);
    });

    it('writes nothing when a line is invalid, and reports each bad line', async () => {

        const lines = [
            JSON.stringify({ name: 'carol@example.test', key: pem() }),
            'not json',
            JSON.stringify({ name: 'eve@other.test', key: pem() }),
            JSON.stringify({ name: 'eve@example.test', key: 'garbage' }),
            JSON.stringify({ name: 'eve@example.test', key: pem(), usage: ['Bad Usage'] }),
            JSON.stringify({ name: 'eve@example.test', key: pem(), expires: '2001-01-01T00:00:00Z' })
        ];

        const file = tempFile('keys.jsonl', lines.join('\n'));
        const outcome = await importFile(file, domain.store, { domain: 'example.test' });
        expect(outcome.imported).to.equal(0);
        expect(outcome.invalid.map((entry) => entry.line)).to.equal([2, 3, 4, 5, 6]);
        expect(outcome.invalid[1]!.reason).to.contain('not in the domain example.test');
        expect(outcome.invalid[4]!.reason).to.contain('in the past');
        expect(await domain.store.getRegistrations('carol@example.test')).to.equal([]);

        const skipped = await importFile(file, domain.store, { domain: 'example.test', skipInvalid: true });
        expect(skipped.imported).to.equal(1);
        expect(await domain.store.getRegistrations('carol@example.test')).to.have.length(1);
    });

    it('leaves a key revoked in the store as it is, and counts it', async () => {

        const key = pem();
        const file = tempFile('keys.jsonl', JSON.stringify({ name: 'fay@example.test', key }));
        expect(await importFile(file, domain.store, { domain: 'example.test' })).to.equal({ imported: 1, revoked: 0, invalid: [] });
        const [stored] = await domain.store.getRegistrations('fay@example.test');
        await domain.store.putRegistrations([{ ...stored!, revokedAt: Date.now() }]);

        expect(await importFile(file, domain.store, { domain: 'example.test' })).to.equal({ imported: 0, revoked: 1, invalid: [] });
        expect((await domain.store.getRegistrations('fay@example.test'))[0]!.revokedAt).to.be.a.number();
    });

    it('explains why a line is rejected', () => {

        expect(() => registrationFromLine('{"name": "a@example.test"}', 'example.test', Date.now())).to.throw(InvalidInput, /"key" is required/);
        expect(() => registrationFromLine('x'.repeat(70_000), 'example.test', Date.now())).to.throw(InvalidInput, /longer than/);
        const key = pem();
        expect(() => registrationFromLine(JSON.stringify({ name: 'a@example.test', key, expires: '+010000-01-01T00:00:00Z' }), 'example.test', Date.now())).to.throw(InvalidInput, /after 9999-12-31T23:59:59Z/);
        expect(registrationFromLine(JSON.stringify({ name: 'a@example.test', key, expires: '9999-12-31T23:59:59Z' }), 'example.test', Date.now()).expiresAt).to.equal(Date.UTC(9999, 11, 31, 23, 59, 59));
    });
});
