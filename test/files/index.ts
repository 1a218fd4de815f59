import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { makeDirectory } from '../../lib/files';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

describe('makeDirectory()', () => {

    let root: string;

    before(() => {

        root = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-files-'));
    });

    after(() => {

        Fs.rmSync(root, { recursive: true, force: true });
    });

    it('creates missing parents and gives the leaf exactly the mode asked for', () => {

        const dir = Path.join(root, 'a', 'b', 'c');
        const umask = process.umask(0o077);
        try {
            makeDirectory(dir, 0o750);
        }
        finally {
            process.umask(umask);
        }

        expect(Fs.statSync(dir).mode & 0o777).to.equal(0o750);
        expect(Fs.statSync(Path.join(root, 'a')).isDirectory()).to.be.true();
    });

    it('leaves an existing directory and its mode alone', () => {

        const dir = Path.join(root, 'existing');
        Fs.mkdirSync(dir, { mode: 0o755 });
        Fs.chmodSync(dir, 0o755);
        makeDirectory(dir, 0o700);
        expect(Fs.statSync(dir).mode & 0o777).to.equal(0o755);
    });

    it('refuses a path taken by a file', () => {

        const file = Path.join(root, 'file');
        Fs.writeFileSync(file, '');
        expect(() => makeDirectory(file)).to.throw(/exists and is not a directory/);
        expect(() => makeDirectory(Path.join(file, 'below'))).to.throw(/ENOTDIR/);
    });

    it('fails instead of spinning where the file system refuses the name', () => {

        // Node 20's recursive mkdirSync loops forever on this path.
        expect(() => makeDirectory('/proc/iks-test/store', 0o700)).to.throw(/ENOENT/);
    });
});
