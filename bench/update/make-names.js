'use strict';
// bench/update — writes N JSON lines for `iks import`: names u0@D … u<N-1>@D, each with
// an Ed25519 key drawn from a pool (key parsing, not key generation, is what import costs).
//   node bench/update/make-names.js N [domain] > names.jsonl
const { generateKeyPairSync } = require('node:crypto');

const count = Number(process.argv[2] ?? 100000);
const domain = process.argv[3] ?? 'example.test';
const pool = Array.from({ length: 1000 }, () => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
const out = process.stdout;
let i = 0;
const write = () => {

    let ok = true;
    while (i < count && ok) {
        ok = out.write(`${JSON.stringify({ name: `u${i}@${domain}`, key: pool[i % pool.length], usage: ['sign'] })}\n`);
        i++;
    }

    if (i < count) {
        out.once('drain', write);
    }
};

write();
