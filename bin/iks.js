#!/usr/bin/env node
'use strict';

// Runs the compiled CLI (built by `npm ci` through the prepare script). Tests and
// developers may run the TypeScript sources directly with IKS_FROM_SOURCE=1.
const Fs = require('node:fs');
const Path = require('node:path');

const root = Path.join(__dirname, '..');
const compiled = Path.join(root, 'dist', 'lib', 'cli', 'index.js');

let cli;
if (process.env.IKS_FROM_SOURCE === '1' || !Fs.existsSync(compiled)) {
    require('ts-node').register({ transpileOnly: true, project: Path.join(root, 'tsconfig.json') });
    cli = require(Path.join(root, 'lib', 'cli', 'index.ts'));
}
else {
    cli = require(compiled);
}

cli.main(process.argv).then((code) => {

    process.exitCode = code;
});
