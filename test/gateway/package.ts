import * as Fs from 'node:fs';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import * as face from '../../lib';

export const lab = Lab.script();
const { describe, it } = lab;

const root = Path.join(__dirname, '..', '..');
const packageJson = JSON.parse(Fs.readFileSync(Path.join(root, 'package.json'), 'utf8')) as { main: string; types: string; exports: Record<string, string | { types: string; default: string }> };
const buildConfig = JSON.parse(Fs.readFileSync(Path.join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string; declaration: boolean; rootDir: string } };

describe('package exports', () => {

    it('points every entry at compiled JavaScript with its declarations, built from an existing source', () => {

        expect(buildConfig.compilerOptions).to.include({ outDir: 'dist', declaration: true, rootDir: '.' });
        const entries = Object.entries(packageJson.exports).filter(([subpath]) => subpath !== './package.json');
        expect(entries.map(([subpath]) => subpath)).to.include(['.', './plugins/iks-query', './plugins/iks-register', './plugins/dns-authority', './lib/store', './lib/observability']);
        for (const [subpath, target] of entries) {
            expect(target, subpath).to.be.an.object();
            const { types, default: main } = target as { types: string; default: string };
            expect(main, subpath).to.match(/^\.\/dist\/.+\.js$/);
            expect(types, subpath).to.equal(main.replace(/\.js$/, '.d.ts'));
            const source = Path.join(root, main.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
            expect(Fs.existsSync(source), `${subpath}: ${source}`).to.be.true();
        }

        expect(`./${packageJson.main}`).to.equal((packageJson.exports['.'] as { default: string }).default);
        expect(`./${packageJson.types}`).to.equal((packageJson.exports['.'] as { types: string }).types);
    });

    it('exposes the three plugins from the package face', () => {

        expect([face.iksQuery.name, face.iksRegister.name, face.dnsAuthority.name]).to.equal(['iks-query', 'iks-register', 'dns-authority']);
        expect(face.IksMetrics).to.be.a.function();
    });
});
