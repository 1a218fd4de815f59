import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { main } from '../../lib/cli';
import type { Output } from '../../lib/cli/output';
import { storeLabel } from '../../lib/cli/store';
import { freePort } from '../helpers/process';

export const lab = Lab.script();
const { describe, it } = lab;

describe('the store of the CLI', () => {

    it('names the store with any password redacted', () => {

        expect(storeLabel({ redisUrl: 'redis://admin:s3cret@10.0.0.5:6380/2', redisCluster: false, dataDir: '/d' })).to.equal('Redis at redis://admin:***@10.0.0.5:6380/2');
        expect(storeLabel({ redisUrl: 'rediss://:s3cret@cache.example:6380', redisCluster: true, dataDir: '/d' })).to.equal('Redis Cluster at rediss://:***@cache.example:6380');
        expect(storeLabel({ redisUrl: 'redis://cache.example?password=s3cret', redisCluster: false, dataDir: '/d' })).to.equal('Redis at redis://cache.example?password=***');
        expect(storeLabel({ redisUrl: 'redis://cache.example:6379', redisCluster: false, dataDir: '/d' })).to.equal('Redis at redis://cache.example:6379');
        expect(storeLabel({ redisUrl: 'not a url s3cret', redisCluster: false, dataDir: '/d' })).to.not.contain('s3cret');
        expect(storeLabel({ redisCluster: false, dataDir: '/var/lib/iks' })).to.equal('the embedded store in /var/lib/iks');
    });

    it('says which Redis it could not reach, without its password', { timeout: 60_000 }, async () => {

        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-cli-store-'));
        try {
            // Nothing listens on a port that was free a moment ago.
            const url = `redis://admin:s3cret@127.0.0.1:${await freePort()}/0`;
            const stdout: string[] = [];
            const stderr: string[] = [];
            const io: Output = { out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
            expect(await main(['node', 'iks', '--data-dir', dataDir, '--redis-url', url, 'user', 'disable', 'nobody@example.test'], io)).to.equal(2);
            expect(stderr).to.have.length(1);
            expect(stderr[0]!).to.startWith('iks: STORE_UNAVAILABLE: ');
            expect(stderr[0]!).to.endWith(` (store: Redis at ${url.replace('s3cret', '***')})`);
            expect(stderr.join('\n') + stdout.join('\n')).to.not.contain('s3cret');
        }
        finally {
            Fs.rmSync(dataDir, { recursive: true, force: true });
        }
    });
});
