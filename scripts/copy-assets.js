'use strict';

// tsc emits only JavaScript; the schemas and Lua scripts the code loads at run
// time must sit next to the compiled files too.
const Fs = require('node:fs');
const Path = require('node:path');

const root = Path.join(__dirname, '..');
const assets = /\.(xsd|lua)$/;

function copy(dir) {

    for (const entry of Fs.readdirSync(Path.join(root, dir), { withFileTypes: true })) {
        const relative = Path.join(dir, entry.name);
        if (entry.isDirectory()) {
            copy(relative);
        }
        else if (assets.test(entry.name)) {
            Fs.mkdirSync(Path.join(root, 'dist', dir), { recursive: true });
            Fs.copyFileSync(Path.join(root, relative), Path.join(root, 'dist', relative));
        }
    }
}

for (const dir of ['lib', 'plugins', 'workers']) {
    copy(dir);
}
