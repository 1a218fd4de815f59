// Signing rate of the updater's hot path: renderAndSign (canonical-by-construction XML,
// ECDSA P-256 / RSA-2048 via node:crypto), and for comparison the verification rate
// (xml-crypto). Prints documents/s. Not a test.
//   node -r ts-node/register/transpile-only bench/xmldsig-sign.ts [seconds=3]
import { createHash, generateKeyPairSync } from 'node:crypto';

import type { SigningKey } from '../lib/keys/types';
import type { IksDocument, KeyMaterial } from '../lib/xml/types';
import { renderAndSign, verifyDocument } from '../lib/xmldsig';

const seconds = Number(process.argv[2] ?? 3);

function signingKey(algorithm: SigningKey['algorithm']): SigningKey {

    const pair = algorithm === 'ecdsa-p256-sha256' ?
        generateKeyPairSync('ec', { namedCurve: 'P-256' }) :
        generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { role: 'ksk', keyName: 'ksk-bench', algorithm, ...pair, spki: pair.publicKey.export({ type: 'spki', format: 'der' }) };
}

// A realistic key document: one P-256 key with its SPKI and PEM container (~1.5 KB signed).
const subject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const spki = subject.export({ type: 'spki', format: 'der' });
const fingerprint = createHash('sha256').update(spki).digest('hex');
const key: KeyMaterial = {
    id: fingerprint.slice(0, 16), algorithm: 'ec', size: 256, curve: 'P-256', format: 'spki', fingerprint,
    usage: ['sign'], registeredAt: Date.now() - 86_400_000,
    spki: spki.toString('base64'), container: subject.export({ type: 'spki', format: 'pem' }).toString()
};

function documentFor(i: number): IksDocument {

    const now = Date.now();
    return { type: 'KeyDocument', name: `user${i}@example.test`, issuedAt: now, notAfter: now + 86_400_000, status: 'active', key };
}

function rate(label: string, work: (i: number) => unknown): void {

    for (let i = 0; i < 500; ++i) {
        work(i);                                // warm up
    }

    const deadline = process.hrtime.bigint() + BigInt(seconds * 1e9);
    const start = process.hrtime.bigint();
    let count = 0;
    while (process.hrtime.bigint() < deadline) {
        for (let i = 0; i < 100; ++i) {
            work(count++);
        }
    }

    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`${label.padEnd(44)} ${Math.round(count / elapsed).toString().padStart(7)} documents/s`);
}

const ecdsa = signingKey('ecdsa-p256-sha256');
const rsa = signingKey('rsa-sha256');
console.log(`signed KeyDocument size: ${renderAndSign(documentFor(0), ecdsa).length} bytes (ECDSA)`);

rate('renderAndSign, ECDSA P-256 (default KSK)', (i) => renderAndSign(documentFor(i), ecdsa));
rate('renderAndSign, RSA-2048', (i) => renderAndSign(documentFor(i), rsa));

const signed = renderAndSign(documentFor(0), ecdsa);
rate('verifyDocument (xml-crypto), ECDSA P-256', () => verifyDocument(signed, { publicKey: ecdsa.publicKey, keyName: 'ksk-bench' }));
