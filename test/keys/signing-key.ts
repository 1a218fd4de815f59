import { createPublicKey, createSign, createVerify, generateKeyPairSync, sign, verify } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { InvalidConfig, InvalidKey } from '../../lib/errors';
import {
    UnsafeKeyFile,
    assertDomainKeyRole,
    domainKeyRoles,
    generateSigningKeyPem,
    keyNameFor,
    loadSigningKey,
    loadedKeyFiles,
    sha256Hex,
    signatureAlgorithmOf,
    signingKeyFromPem,
    type DomainKeyRole
} from '../../lib/keys';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const dnsLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;


describe('signing keys', () => {

    let tmp: string;

    before(() => {

        tmp = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-signing-'));
    });

    after(() => {

        Fs.rmSync(tmp, { recursive: true, force: true });
    });

    const writeKey = (name: string, pem: string, mode: number): string => {

        const file = Path.join(tmp, name);
        Fs.writeFileSync(file, pem, { mode });
        Fs.chmodSync(file, mode);
        return file;
    };

    describe('keyNameFor()', () => {

        it('is the role and the first 12 hex digits of sha256(SPKI), a DNS label', () => {

            const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
            for (const role of domainKeyRoles) {
                const name = keyNameFor(role, spki);
                expect(name).to.equal(`${role}-${sha256Hex(spki).slice(0, 12)}`);
                expect(name).to.match(dnsLabel);
                expect(name.length).to.be.at.most(63);
            }
        });

        it('changes with the key', () => {

            const one = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
            const two = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
            expect(keyNameFor('ksk', one)).to.not.equal(keyNameFor('ksk', two));
        });

        it('refuses an unknown role', () => {

            expect(() => keyNameFor('root' as DomainKeyRole, Buffer.alloc(1))).to.throw(InvalidKey, /unknown domain key role "root"/);
            expect(() => assertDomainKeyRole('ksk')).to.not.throw();
        });
    });

    describe('generateSigningKeyPem()', () => {

        it('makes ECDSA P-256 keys by default for ksk, rsk and zsk', () => {

            for (const role of ['ksk', 'rsk', 'zsk'] as const) {
                const { privatePem, publicPem } = generateSigningKeyPem(role);
                expect(privatePem).to.startWith('-----BEGIN PRIVATE KEY-----');
                expect(publicPem).to.startWith('-----BEGIN PUBLIC KEY-----');
                const publicKey = createPublicKey(publicPem);
                expect(publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
                expect(createPublicKey(privatePem).export({ type: 'spki', format: 'der' }).equals(publicKey.export({ type: 'spki', format: 'der' }))).to.be.true();
            }
        });

        it('makes RSA 3072 keys for rsa-sha256', () => {

            const { publicPem } = generateSigningKeyPem('ksk', 'rsa-sha256');
            expect(createPublicKey(publicPem).asymmetricKeyDetails).to.equal({ modulusLength: 3072, publicExponent: 65537n });
        });

        it('always makes an RSA 3072 enc key', () => {

            for (const algorithm of [undefined, 'ecdsa-p256-sha256', 'rsa-oaep'] as const) {
                const { publicPem } = generateSigningKeyPem('enc', algorithm);
                expect(createPublicKey(publicPem).asymmetricKeyDetails?.modulusLength).to.equal(3072);
            }
        });

        it('refuses rsa-oaep for a signing role and unknown algorithms', () => {

            expect(() => generateSigningKeyPem('ksk', 'rsa-oaep')).to.throw(InvalidKey, /algorithm of the enc key only/);
            expect(() => generateSigningKeyPem('ksk', 'ed25519' as 'rsa-sha256')).to.throw(InvalidKey, /unknown signature algorithm "ed25519"/);
            expect(() => generateSigningKeyPem('kek' as DomainKeyRole)).to.throw(InvalidKey, /unknown domain key role/);
        });
    });

    describe('signingKeyFromPem()', () => {

        it('derives the public key, SPKI, algorithm and key name of an ECDSA key', () => {

            const { privatePem, publicPem } = generateSigningKeyPem('ksk');
            const key = signingKeyFromPem('ksk', privatePem);
            const spki = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
            expect(key.role).to.equal('ksk');
            expect(key.algorithm).to.equal('ecdsa-p256-sha256');
            expect(key.spki.equals(spki)).to.be.true();
            expect(key.keyName).to.equal(keyNameFor('ksk', spki));
            expect(key.privateKey.type).to.equal('private');
            expect(key.publicKey.type).to.equal('public');
            expect(Object.isFrozen(key)).to.be.true();
        });

        it('signs what the public key verifies (ECDSA in IEEE P1363 form, RSA PKCS#1 v1.5)', () => {

            const data = Buffer.from('<KeyList/>');
            const ec = signingKeyFromPem('rsk', generateSigningKeyPem('rsk').privatePem);
            const signature = sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
            expect(signature.length).to.equal(64);
            expect(verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).to.be.true();
            expect(verify('sha256', Buffer.from('<KeyList />'), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).to.be.false();

            const rsa = signingKeyFromPem('ksk', generateSigningKeyPem('ksk', 'rsa-sha256').privatePem);
            expect(rsa.algorithm).to.equal('rsa-sha256');
            const rsaSignature = createSign('sha256').update(data).sign(rsa.privateKey);
            expect(createVerify('sha256').update(data).verify(rsa.publicKey, rsaSignature)).to.be.true();
        });

        it('accepts SEC1 and PKCS#1 private keys', () => {

            const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
            expect(signingKeyFromPem('zsk', ec).algorithm).to.equal('ecdsa-p256-sha256');
            const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
            expect(signingKeyFromPem('enc', rsa).algorithm).to.equal('rsa-sha256');
        });

        it('refuses keys that do not fit the role', () => {

            const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
            expect(() => signingKeyFromPem('ksk', p384)).to.throw(InvalidKey, /ksk key must be ECDSA P-256 or RSA of at least 2048 bits; found secp384r1/);
            const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
            expect(() => signingKeyFromPem('rsk', ed)).to.throw(InvalidKey, /found ed25519/);
            const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
            expect(() => signingKeyFromPem('ksk', small)).to.throw(InvalidKey, /found RSA 1024 bits/);
            expect(() => signingKeyFromPem('enc', generateSigningKeyPem('ksk').privatePem)).to.throw(InvalidKey, /enc key must be RSA.*RSA-OAEP/);
        });

        it('refuses public keys, encrypted keys and garbage without echoing them', () => {

            const { publicPem, privatePem } = generateSigningKeyPem('ksk');
            expect(() => signingKeyFromPem('ksk', publicPem)).to.throw(InvalidKey, 'the ksk key is not a PEM private key');
            expect(() => signingKeyFromPem('ksk', 'secret-ish garbage')).to.throw(InvalidKey, 'the ksk key is not a PEM private key');
            expect(() => signingKeyFromPem('ksk', undefined as unknown as string)).to.throw(InvalidKey, /not a PEM private key/);
            const encrypted = createPublicKey(privatePem) && generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
            expect(() => signingKeyFromPem('ksk', encrypted)).to.throw(InvalidKey, /unencrypted PEM private key/);
            expect(() => signingKeyFromPem('ksk', privatePem.replace(/[A-Za-z]{10}/, 'AAAAAAAAAA'))).to.throw(InvalidKey, /cannot be read/);
        });
    });

    describe('signatureAlgorithmOf()', () => {

        it('maps public keys to the algorithm they imply', () => {

            expect(signatureAlgorithmOf('ksk', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).to.equal('ecdsa-p256-sha256');
            expect(signatureAlgorithmOf('enc', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)).to.equal('rsa-sha256');
            expect(() => signatureAlgorithmOf('enc', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).to.throw(InvalidKey, /found prime256v1/);
            expect(() => signatureAlgorithmOf('zsk', generateKeyPairSync('x25519').publicKey)).to.throw(InvalidKey, /found x25519/);
        });
    });

    describe('loadSigningKey()', () => {

        it('loads a 0600 key file and records the load', () => {

            const { privatePem } = generateSigningKeyPem('rsk');
            const file = writeKey('rsk.pem', privatePem, 0o600);
            const before = loadedKeyFiles().length;
            const key = loadSigningKey(file, 'rsk');
            expect(key.keyName).to.equal(signingKeyFromPem('rsk', privatePem).keyName);
            expect(loadedKeyFiles().slice(before)).to.equal([{ role: 'rsk', path: file }]);
        });

        it('records the absolute path of a relative one', () => {

            const file = writeKey('relative.pem', generateSigningKeyPem('zsk').privatePem, 0o400);
            const relative = Path.relative(process.cwd(), file);
            loadSigningKey(relative, 'zsk');
            expect(loadedKeyFiles().at(-1)).to.equal({ role: 'zsk', path: file });
        });

        it('hands out a snapshot that callers cannot change', () => {

            const list = loadedKeyFiles();
            expect(Object.isFrozen(list)).to.be.true();
            expect(() => (list as { role: DomainKeyRole; path: string }[]).push({ role: 'ksk', path: '/x' })).to.throw();
        });

        for (const mode of [0o644, 0o640, 0o604, 0o660, 0o700]) {
            it(`refuses a key file with mode ${mode.toString(8)} and tells to chmod 600, recording nothing`, { skip: process.platform === 'win32' }, () => {

                const file = writeKey(`loose-${mode.toString(8)}.pem`, generateSigningKeyPem('ksk').privatePem, mode);
                const before = loadedKeyFiles().length;
                const error = (() => {

                    try {
                        loadSigningKey(file, 'ksk');
                    }
                    catch (err) {
                        return err as UnsafeKeyFile;
                    }

                    return undefined;
                })();

                if (mode === 0o700) {
                    expect(error).to.be.undefined();
                    return;
                }

                expect(error).to.be.an.instanceof(UnsafeKeyFile);
                expect(error!.code).to.equal('UNSAFE_KEY_FILE');
                expect(error!.message).to.contain(`chmod 600 ${file}`);
                expect(error!.message).to.contain(`mode 0${mode.toString(8)}`);
                expect(loadedKeyFiles().length).to.equal(before);
            });
        }

        it('refuses a missing file, a directory and an oversize file', () => {

            expect(() => loadSigningKey(Path.join(tmp, 'missing.pem'), 'ksk')).to.throw(InvalidConfig, /cannot open the ksk private key file .*missing\.pem \(ENOENT\).*iks init/);
            const dir = Path.join(tmp, 'dir.pem');
            Fs.mkdirSync(dir, { mode: 0o700 });
            expect(() => loadSigningKey(dir, 'ksk')).to.throw(InvalidConfig, /not a regular file/);
            const big = writeKey('big.pem', 'A'.repeat(65 * 1024), 0o600);
            expect(() => loadSigningKey(big, 'ksk')).to.throw(InvalidKey, /too large/);
        });

        it('refuses a file that holds the wrong kind of key', () => {

            const file = writeKey('public.pem', generateSigningKeyPem('ksk').publicPem, 0o600);
            expect(() => loadSigningKey(file, 'ksk')).to.throw(InvalidKey, /not a PEM private key/);
        });
    });
});
