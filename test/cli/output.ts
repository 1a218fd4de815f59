import { spawn } from 'node:child_process';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { iksBin } from '../helpers/process';

export const lab = Lab.script();
const { describe, it } = lab;

describe('CLI output', () => {

    it('finishes quietly when its reader closes standard output (iks init | head -2)', { timeout: 60_000 }, async () => {

        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-output-'));
        try {
            const child = spawn(process.execPath, [iksBin, 'init'], { env: { ...process.env, IKS_FROM_SOURCE: '1', IKS_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
            // The reader is gone before the first line is written: every write meets EPIPE.
            child.stdout.destroy();
            let stderr = '';
            child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
            expect(stderr).to.equal('');
            expect(status).to.equal(0);
            // The command still did its work.
            expect(Fs.existsSync(Path.join(dataDir, 'example.test', 'public', 'trust-anchor.conf'))).to.be.true();
        }
        finally {
            Fs.rmSync(dataDir, { recursive: true, force: true });
        }
    });
});
