import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, publicEncrypt, verify, type KeyObject } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import forge from 'node-forge';
import Sshpk from 'sshpk';

import { InvalidKey } from '../../lib/errors';
import { parsePublicKey, type KeyAlgorithm } from '../../lib/keys';
import { smallOrderEncodings } from '../../lib/keys/edwards';
import { smallOrderMontgomeryEncodings } from '../../lib/keys/montgomery';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const internals = {
    hasSshKeygen: spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined
};


const spkiPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;

/** What OpenSSL, independently of the code under test, says the SPKI fingerprint is. */
const opensslFingerprint = (pem: string, certificate = false): string => {

    const publicPem = certificate ? execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: pem }).toString() : pem;
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: publicPem });
    return createHash('sha256').update(der).digest('hex');
};

/** Wraps DER in PEM armor with 64-column lines. */
const armor = (label: string, der: Buffer): string => {

    const lines = der.toString('base64').match(/.{1,64}/g)!.join('\n');
    return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
};

/** A PKCS#1 RSAPublicKey with chosen modulus and exponent bytes (for keys no generator makes). */
const rsaPkcs1 = (modulus: Buffer, exponent: Buffer): Buffer => {

    const { asn1 } = forge;
    const integer = (bytes: Buffer) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, Buffer.concat([Buffer.from([0]), bytes]).toString('binary'));
    const sequence = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [integer(modulus), integer(exponent)]);
    return Buffer.from(asn1.toDer(sequence).getBytes(), 'binary');
};

const rejects = (text: string, reason: RegExp) => {

    expect(() => parsePublicKey(text)).to.throw(InvalidKey, reason);
    try {
        parsePublicKey(text);
    }
    catch (err) {
        expect((err as InvalidKey).code).to.equal('INVALID_KEY');
    }
};


describe('parsePublicKey()', () => {

    let tmp: string;

    before(() => {

        tmp = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-keys-'));
    });

    after(() => {

        Fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe('SPKI PEM', () => {

        const cases: { name: string; pair: () => { publicKey: KeyObject }; algorithm: KeyAlgorithm; size: number; curve?: string }[] = [
            { name: 'RSA 2048', pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), algorithm: 'rsa', size: 2048 },
            { name: 'RSA 3072', pair: () => generateKeyPairSync('rsa', { modulusLength: 3072 }), algorithm: 'rsa', size: 3072 },
            { name: 'EC P-256', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), algorithm: 'ec', size: 256, curve: 'P-256' },
            { name: 'EC P-384', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }), algorithm: 'ec', size: 384, curve: 'P-384' },
            { name: 'EC P-521', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }), algorithm: 'ec', size: 521, curve: 'P-521' },
            { name: 'Ed25519', pair: () => generateKeyPairSync('ed25519'), algorithm: 'ed25519', size: 256 },
            { name: 'X25519', pair: () => generateKeyPairSync('x25519'), algorithm: 'x25519', size: 256 },
            { name: 'Ed448', pair: () => generateKeyPairSync('ed448'), algorithm: 'ed448', size: 456 },
            { name: 'X448', pair: () => generateKeyPairSync('x448'), algorithm: 'x448', size: 448 }
        ];

        for (const { name, pair, algorithm, size, curve } of cases) {
            it(`derives algorithm, size, curve and an OpenSSL-matching fingerprint for ${name}`, () => {

                const pem = spkiPem(pair().publicKey);
                const info = parsePublicKey(pem);
                expect(info.algorithm).to.equal(algorithm);
                expect(info.size).to.equal(size);
                expect(info.curve).to.equal(curve);
                expect('curve' in info).to.equal(curve !== undefined);
                expect(info.format).to.equal('spki');
                expect(info.fingerprint).to.match(/^[0-9a-f]{64}$/);
                expect(info.fingerprint).to.equal(opensslFingerprint(pem));
                expect(info.id).to.equal(info.fingerprint.slice(0, 16));
                expect(info.spki.equals(createPublicKey(pem).export({ type: 'spki', format: 'der' }))).to.be.true();
                expect(info.container).to.equal(pem.trim());
            });
        }

        it('fingerprints Ed25519 and X25519 keys (read without OpenSSL) exactly as OpenSSL re-exports them', () => {

            for (let i = 0; i < 50; ++i) {
                for (const type of ['ed25519', 'x25519'] as const) {
                    const publicKey = generateKeyPairSync(type as 'ed25519').publicKey;
                    const info = parsePublicKey(spkiPem(publicKey));
                    expect(info.algorithm).to.equal(type);
                    expect(info.spki.equals(publicKey.export({ type: 'spki', format: 'der' }))).to.be.true();
                }
            }
        });

        it('leaves Ed25519 SPKIs outside the RFC 8410 form to OpenSSL, which refuses them', () => {

            const der = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
            // The same key with an (RFC 8410-forbidden) NULL parameter in its AlgorithmIdentifier.
            const withParameters = Buffer.concat([Buffer.from('302c300706032b65700500032100', 'hex'), der.subarray(12)]);
            rejects(armor('PUBLIC KEY', withParameters), /not a valid SubjectPublicKeyInfo/);
            // One byte short: the fixed header matches, the length does not.
            const short = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), der.subarray(12, 43)]);
            rejects(armor('PUBLIC KEY', short), /not one well-formed DER structure|not a valid SubjectPublicKeyInfo/);
        });

        it('accepts CRLF line endings and surrounding whitespace', () => {

            const pem = spkiPem(generateKeyPairSync('ed25519').publicKey);
            const info = parsePublicKey(`\r\n  ${pem.replace(/\n/g, '\r\n')}  \n`);
            expect(info.fingerprint).to.equal(parsePublicKey(pem).fingerprint);
            expect(info.container.startsWith('-----BEGIN PUBLIC KEY-----')).to.be.true();
            expect(info.container.endsWith('-----END PUBLIC KEY-----')).to.be.true();
        });
    });

    describe('PKCS#1 PEM', () => {

        it('converts an RSA PUBLIC KEY block to the same SPKI as its SPKI form', () => {

            const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
            const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
            expect(pkcs1).to.startWith('-----BEGIN RSA PUBLIC KEY-----');
            const info = parsePublicKey(pkcs1);
            const spki = parsePublicKey(spkiPem(publicKey));
            expect(info.format).to.equal('spki');
            expect(info.algorithm).to.equal('rsa');
            expect(info.size).to.equal(2048);
            expect(info.spki.equals(spki.spki)).to.be.true();
            expect(info.fingerprint).to.equal(spki.fingerprint);
            expect(info.container).to.equal(pkcs1.trim());
        });
    });

    describe('X.509 certificates', () => {

        it('takes the subject key of an RSA certificate made with node-forge', () => {

            const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
            const certificate = forge.pki.createCertificate();
            certificate.publicKey = forge.pki.publicKeyFromPem(spkiPem(publicKey));
            certificate.serialNumber = '01';
            certificate.validity.notBefore = new Date();
            certificate.validity.notAfter = new Date(Date.now() + 86400_000);
            certificate.setSubject([{ name: 'commonName', value: 'alice@example.test' }]);
            certificate.setIssuer([{ name: 'commonName', value: 'alice@example.test' }]);
            certificate.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create());
            const pem = forge.pki.certificateToPem(certificate);

            const info = parsePublicKey(pem);
            expect(info.format).to.equal('x509');
            expect(info.algorithm).to.equal('rsa');
            expect(info.size).to.equal(2048);
            expect(info.fingerprint).to.equal(parsePublicKey(spkiPem(publicKey)).fingerprint);
            expect(info.fingerprint).to.equal(opensslFingerprint(pem, true));
            expect(info.container).to.equal(pem.trim());
        });

        for (const { curve, args, algorithm, size } of <{ curve: string | undefined; args: string[]; algorithm: KeyAlgorithm; size: number }[]>[
            { curve: 'P-256', args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], algorithm: 'ec', size: 256 },
            { curve: 'P-384', args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], algorithm: 'ec', size: 384 },
            { curve: undefined, args: ['-newkey', 'ed25519'], algorithm: 'ed25519', size: 256 }
        ]) {
            it(`takes the subject key of an ${curve ?? algorithm} certificate made with openssl`, () => {

                const keyFile = Path.join(tmp, `${algorithm}-${size}.key`);
                const certFile = Path.join(tmp, `${algorithm}-${size}.crt`);
                execFileSync('openssl', ['req', '-x509', ...args, '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=alice@example.test', '-days', '1'], { stdio: 'ignore' });
                const pem = Fs.readFileSync(certFile, 'utf8');
                const publicFromKey = execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout']).toString();

                const info = parsePublicKey(pem);
                expect(info.format).to.equal('x509');
                expect(info.algorithm).to.equal(algorithm);
                expect(info.size).to.equal(size);
                expect(info.curve).to.equal(curve);
                expect(info.fingerprint).to.equal(opensslFingerprint(pem, true));
                expect(info.fingerprint).to.equal(parsePublicKey(publicFromKey).fingerprint);
            });
        }
    });

    describe('OpenSSH public key lines', () => {

        for (const { type, args, algorithm, size, curve } of <{ type: string; args: string[]; algorithm: KeyAlgorithm; size: number; curve: string | undefined }[]>[
            { type: 'ssh-ed25519', args: ['-t', 'ed25519'], algorithm: 'ed25519', size: 256, curve: undefined },
            { type: 'ssh-rsa', args: ['-t', 'rsa', '-b', '3072'], algorithm: 'rsa', size: 3072, curve: undefined },
            { type: 'ecdsa-sha2-nistp256', args: ['-t', 'ecdsa', '-b', '256'], algorithm: 'ec', size: 256, curve: 'P-256' },
            { type: 'ecdsa-sha2-nistp384', args: ['-t', 'ecdsa', '-b', '384'], algorithm: 'ec', size: 384, curve: 'P-384' },
            { type: 'ecdsa-sha2-nistp521', args: ['-t', 'ecdsa', '-b', '521'], algorithm: 'ec', size: 521, curve: 'P-521' }
        ]) {
            it(`parses a ${type} line made by ssh-keygen and cross-checks both fingerprints`, { skip: !internals.hasSshKeygen }, () => {

                const file = Path.join(tmp, `id-${type}`);
                execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', 'alice@example.test', '-f', file], { stdio: 'ignore' });
                const line = Fs.readFileSync(`${file}.pub`, 'utf8');

                const info = parsePublicKey(line);
                expect(info.format).to.equal('openssh');
                expect(info.algorithm).to.equal(algorithm);
                expect(info.size).to.equal(size);
                expect(info.curve).to.equal(curve);
                expect(info.container).to.equal(line.trim());
                expect(info.container).to.endWith('alice@example.test');

                // sshpk hashes the SSH wire blob, as ssh-keygen -l does.
                const sshFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`]).toString().split(' ')[1]!;
                expect(sshFingerprint).to.startWith('SHA256:');
                expect(Sshpk.parseKey(line, 'ssh').fingerprint('sha256').toString()).to.equal(sshFingerprint);

                // Our fingerprint hashes the DER SPKI: compare with OpenSSL's DER of ssh-keygen's own export.
                if (algorithm === 'ed25519') {
                    // ssh-keygen cannot export Ed25519 to PKCS8: compare the raw key bytes of the blob instead.
                    const blob = Buffer.from(line.split(' ')[1]!, 'base64');
                    const raw = Buffer.from(createPublicKey({ key: info.spki, format: 'der', type: 'spki' }).export({ format: 'jwk' }).x!, 'base64url');
                    expect(blob.subarray(-32).equals(raw)).to.be.true();
                }
                else {
                    const exported = execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${file}.pub`]).toString();
                    expect(info.fingerprint).to.equal(opensslFingerprint(exported));
                }
            });
        }

        it('gives the same key the same fingerprint as an OpenSSH line and as SPKI PEM', () => {

            for (const pair of [generateKeyPairSync('ed25519'), generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('rsa', { modulusLength: 2048 })]) {
                const pem = spkiPem(pair.publicKey);
                const line = Sshpk.parseKey(pem, 'pem').toString('ssh');
                const fromLine = parsePublicKey(`${line} bob@laptop`);
                const fromPem = parsePublicKey(pem);
                expect(fromLine.format).to.equal('openssh');
                expect(fromLine.fingerprint).to.equal(fromPem.fingerprint);
                expect(fromLine.spki.equals(fromPem.spki)).to.be.true();
                expect(fromLine.fingerprint).to.equal(opensslFingerprint(pem));
            }
        });

        it('accepts a line without a comment', () => {

            const line = Sshpk.parseKey(spkiPem(generateKeyPairSync('ed25519').publicKey), 'pem').toString('ssh');
            expect(parsePublicKey(line).algorithm).to.equal('ed25519');
        });
    });

    describe('rejects', () => {

        const ed25519Pem = () => spkiPem(generateKeyPairSync('ed25519').publicKey);

        it('a non-string', () => {

            rejects(Buffer.from('x') as unknown as string, /must be text/);
            rejects(undefined as unknown as string, /must be text/);
        });

        it('empty input', () => {

            rejects('', /empty/);
            rejects(' \n\t\r\n ', /empty/);
        });

        it('garbage', () => {

            rejects('hello world', /not recognised/);
            rejects('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA', /not recognised/);
            rejects('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}', /not recognised/);
        });

        it('input larger than 16 KiB, even if it is mostly whitespace', () => {

            rejects(`${ed25519Pem()}${' '.repeat(16 * 1024)}`, /16 KiB/);
            rejects('A'.repeat(16 * 1024 + 1), /16 KiB/);
        });

        it('text signed documents cannot carry, such as an OpenSSH comment holding a line separator', () => {

            const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
            const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.from(raw, 'base64url')]).toString('base64');
            expect(parsePublicKey(`ssh-ed25519 ${blob} me@host`).algorithm).to.equal('ed25519');
            for (const bad of ['\u2028', '\u2029', '\u0085', '\u0000', '\u001b']) {
                rejects(`ssh-ed25519 ${blob} me${bad}host`, /a character IKS documents cannot carry/);
            }

            rejects(`${ed25519Pem()}`.replace('\n', '\u2028\n'), /cannot carry/);
        });

        it('Ed25519 and Ed448 keys of small order, for which anyone can make signatures, in every container', () => {

            const spki = { ed25519: Buffer.from('302a300506032b6570032100', 'hex'), ed448: Buffer.from('3043300506032b6571033a00', 'hex') };
            for (const algorithm of ['ed25519', 'ed448'] as const) {
                const encodings = smallOrderEncodings(algorithm);
                expect(encodings).to.have.length(algorithm === 'ed25519' ? 10 : 6);
                for (const raw of encodings) {
                    rejects(armor('PUBLIC KEY', Buffer.concat([spki[algorithm], raw])), /point of small order/);
                }
            }

            // The OpenSSH line of the identity point goes through OpenSSL's import, and is refused too.
            const identity = smallOrderEncodings('ed25519').find((raw) => raw[0] === 1)!;
            const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), identity]).toString('base64');
            rejects(`ssh-ed25519 ${blob} me@host`, /point of small order/);

            // Why: OpenSSL verifies R = a small-order point, S = 0 under each of them, for some messages.
            for (const raw of smallOrderEncodings('ed25519')) {
                const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
                const forgery = Buffer.concat([identity, Buffer.alloc(32)]);
                expect(Array.from({ length: 64 }, (_, i) => verify(null, Buffer.from(`message ${i}`), key, forgery)).some(Boolean)).to.be.true();
            }
        });

        it('X25519 and X448 keys of small order, with which every shared secret is predictable, and non-canonical ones', () => {

            const spki = { x25519: Buffer.from('302a300506032b656e032100', 'hex'), x448: Buffer.from('3042300506032b656f033900', 'hex') };
            for (const algorithm of ['x25519', 'x448'] as const) {
                const encodings = smallOrderMontgomeryEncodings(algorithm);
                expect(encodings).to.have.length(algorithm === 'x25519' ? 5 : 3);
                for (const raw of encodings) {
                    rejects(armor('PUBLIC KEY', Buffer.concat([spki[algorithm], raw])), /X(25519|448) public key is a point of small order/);
                }
            }

            // Generated keys still pass (the container check reads the right octets).
            for (const algorithm of ['x25519', 'x448'] as const) {
                const der = generateKeyPairSync(algorithm as 'x25519').publicKey.export({ type: 'spki', format: 'der' });
                expect(der.subarray(0, 12)).to.equal(spki[algorithm]);
                expect(parsePublicKey(armor('PUBLIC KEY', der)).algorithm).to.equal(algorithm);
                const topBit = Buffer.from(der);
                if (algorithm === 'x25519') {
                    topBit[topBit.length - 1]! |= 0x80;
                    rejects(armor('PUBLIC KEY', topBit), /not canonically encoded/);
                }
            }
        });

        it('Ed25519 and Ed448 keys not canonically encoded', () => {

            // y = p + 1 ≡ 1 (RFC 8032 §5.1.3: y must be below p).
            const p25519 = (1n << 255n) - 19n;
            const aboveP = Buffer.from((p25519 + 1n).toString(16).padStart(64, '0'), 'hex').reverse();
            rejects(armor('PUBLIC KEY', Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), aboveP])), /not canonically encoded/);

            // Ed448's last octet holds only the sign bit.
            const ed448 = generateKeyPairSync('ed448').publicKey.export({ type: 'spki', format: 'der' });
            expect(parsePublicKey(armor('PUBLIC KEY', ed448)).algorithm).to.equal('ed448');
            const lowBits = Buffer.from(ed448);
            lowBits[lowBits.length - 1]! |= 0x01;
            rejects(armor('PUBLIC KEY', lowBits), /not canonically encoded/);
        });

        it('several PEM blocks', () => {

            rejects(`${ed25519Pem()}${ed25519Pem()}`, /2 PEM blocks.*exactly one/);
        });

        describe('private keys, telling to register the public half', () => {

            const message = /this is a private key; register only the public half/;
            const { privateKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 2048 });
            const { privateKey: ec } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

            for (const { label, pem } of [
                { label: 'PRIVATE KEY', pem: () => ec.export({ type: 'pkcs8', format: 'pem' }) as string },
                { label: 'RSA PRIVATE KEY', pem: () => rsa.export({ type: 'pkcs1', format: 'pem' }) as string },
                { label: 'EC PRIVATE KEY', pem: () => ec.export({ type: 'sec1', format: 'pem' }) as string },
                { label: 'ENCRYPTED PRIVATE KEY', pem: () => ec.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string },
                { label: 'OPENSSH PRIVATE KEY', pem: () => Sshpk.parsePrivateKey(ec.export({ type: 'pkcs8', format: 'pem' }) as string, 'pem').toString('openssh') }
            ]) {
                it(`in a ${label} block`, () => {

                    const text = pem();
                    expect(text).to.contain(`-----BEGIN ${label}-----`);
                    rejects(text, message);
                });
            }

            it('next to a public key', () => {

                rejects(`${ed25519Pem()}${ec.export({ type: 'pkcs8', format: 'pem' }) as string}`, message);
            });

            it('in a PuTTY key file', () => {

                rejects('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\nPublic-Lines: 2\nAAAA\nPrivate-Lines: 1\nAAAA\n', message);
            });

            it('made by ssh-keygen', { skip: !internals.hasSshKeygen }, () => {

                const file = Path.join(tmp, 'id-private');
                execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { stdio: 'ignore' });
                rejects(Fs.readFileSync(file, 'utf8'), message);
            });
        });

        it('RSA keys below 2048 bits', () => {

            rejects(spkiPem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), /at least 2048 bits; this one has 1024/);
            const line = Sshpk.parseKey(spkiPem(generateKeyPairSync('rsa', { modulusLength: 1536 }).publicKey), 'pem').toString('ssh');
            rejects(line, /at least 2048 bits; this one has 1536/);
        });

        it('RSA keys above 16384 bits', () => {

            const modulus = Buffer.alloc(2049, 0xff);
            rejects(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.from([1, 0, 1]))), /more than 16384 bits/);
        });

        it('RSA keys with an even, one or huge exponent', () => {

            const { n } = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
            const modulus = Buffer.from(n!, 'base64url');
            expect(parsePublicKey(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.from([1, 0, 1])))).size).to.equal(2048);
            rejects(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.from([1, 0, 0]))), /exponent is malformed/);
            rejects(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.from([1]))), /exponent is malformed/);
            rejects(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.alloc(33, 0xff))), /exponent is malformed/);
            expect(parsePublicKey(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.alloc(8, 0xff)))).size).to.equal(2048);
            rejects(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 1]))), /below 2\^64/);
        });

        it('RSA keys OpenSSL could never verify with: over 3072 bits with an exponent of 2^64 or more', () => {

            const { n } = generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey.export({ format: 'jwk' });
            const pem = armor('RSA PUBLIC KEY', rsaPkcs1(Buffer.from(n!, 'base64url'), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 1])));
            // What the limit is for: OpenSSL refuses every public-key operation with such a key
            // (verification just answers false, so encryption shows the reason).
            const key = createPublicKey({ key: pem, format: 'pem', type: 'pkcs1' });
            expect(() => publicEncrypt(key, Buffer.from('m'))).to.throw(/bad e value/i);
            rejects(pem, /below 2\^64/);
        });

        it('RSA keys with an even modulus', () => {

            const { n } = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
            const modulus = Buffer.from(n!, 'base64url');
            modulus[modulus.length - 1]! &= 0xfe;
            rejects(armor('RSA PUBLIC KEY', rsaPkcs1(modulus, Buffer.from([1, 0, 1]))), /modulus is malformed/);
        });

        it('unsupported curves', () => {

            rejects(spkiPem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey), /"secp256k1" is not supported; use P-256, P-384 or P-521/);
            rejects(spkiPem(generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' }).publicKey), /"brainpoolP256r1" is not supported/);
        });

        it('EC keys with explicit curve parameters', () => {

            const explicit = execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-param_enc', 'explicit']).toString();
            const pem = execFileSync('openssl', ['pkey', '-pubout'], { input: explicit }).toString();
            expect(createPublicKey(pem).asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
            rejects(pem, /explicit curve parameters; export it with the named curve/);
        });

        it('DSA keys', () => {

            const { publicKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
            rejects(spkiPem(publicKey), /DSA keys are not supported/);
            rejects(Sshpk.parseKey(spkiPem(publicKey), 'pem').toString('ssh'), /DSA keys are not supported/);
        });

        it('RSA-PSS-restricted keys', () => {

            rejects(spkiPem(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey), /RSA-PSS-restricted keys are not supported/);
        });

        it('Diffie-Hellman keys', () => {

            // @types/node 20 lacks the 'dh' overload of generateKeyPairSync.
            const generate = generateKeyPairSync as unknown as (type: 'dh', options: { group: string }) => { publicKey: KeyObject };
            const { publicKey } = generate('dh', { group: 'modp14' });
            rejects(spkiPem(publicKey), /dh keys are not supported/);
        });

        it('trailing data after a PEM block', () => {

            rejects(`${ed25519Pem()}trailing`, /trailing data after the PEM block/);
            rejects(`${ed25519Pem()}\nssh-ed25519 AAAA`, /trailing data after the PEM block/);
        });

        it('text before a PEM block', () => {

            rejects(`Subject: alice\n${ed25519Pem()}`, /text before the PEM block/);
        });

        it('malformed PEM armor', () => {

            const pem = ed25519Pem();
            rejects(pem.replace('-----END PUBLIC KEY-----', ''), /armor is malformed/);
            rejects(pem.replace(/\n(?=[A-Za-z0-9])/, '\n!'), /armor is malformed/);
            rejects(pem.replace('-----BEGIN PUBLIC KEY-----\n', '-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n'), /armor is malformed/);
            rejects('-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----', /armor is malformed/);
        });

        it('a PEM block whose labels differ', () => {

            rejects(ed25519Pem().replace('END PUBLIC KEY', 'END CERTIFICATE'), /begins as "PUBLIC KEY" but ends as "CERTIFICATE"/);
        });

        it('an empty PEM block', () => {

            rejects('-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----', /PEM block is empty/);
        });

        it('PEM blocks of another kind', () => {

            rejects(armor('CERTIFICATE REQUEST', Buffer.from([0x30, 0])), /labelled "CERTIFICATE REQUEST" are not supported/);
            rejects(armor('SSH2 PUBLIC KEY', Buffer.from([0x30, 0])), /labelled "SSH2 PUBLIC KEY" are not supported/);
        });

        it('a PEM body that is not one DER structure', () => {

            const der = createPublicKey(ed25519Pem()).export({ type: 'spki', format: 'der' });
            rejects(armor('PUBLIC KEY', Buffer.concat([der, Buffer.from([0])])), /not one well-formed DER structure/);
            rejects(armor('PUBLIC KEY', der.subarray(0, der.length - 1)), /not one well-formed DER structure/);
            rejects(armor('PUBLIC KEY', Buffer.from('not der at all')), /not one well-formed DER structure/);
        });

        it('a PEM body whose base64 is padded before its end, or cut short', () => {

            // Buffer.from(…, 'base64') would read both without a word: padding in the middle of
            // the body, and a body one character short of its padding.
            const base64 = createPublicKey(ed25519Pem()).export({ type: 'spki', format: 'der' }).toString('base64');
            const wrap = (body: string) => `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`;
            rejects(wrap(`${base64.slice(0, 40)}==${base64.slice(40)}`), /not one well-formed DER structure/);
            rejects(wrap(base64.slice(0, -1)), /not one well-formed DER structure/);
            expect(parsePublicKey(wrap(`${base64.slice(0, 30)}\n${base64.slice(30)}`)).algorithm).to.equal('ed25519');
        });

        it('a PUBLIC KEY block that holds no SubjectPublicKeyInfo', () => {

            const { n } = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
            rejects(armor('PUBLIC KEY', rsaPkcs1(Buffer.from(n!, 'base64url'), Buffer.from([1, 0, 1]))), /not a valid SubjectPublicKeyInfo/);
        });

        it('an RSA PUBLIC KEY block that holds no PKCS#1 key', () => {

            rejects(armor('RSA PUBLIC KEY', createPublicKey(ed25519Pem()).export({ type: 'spki', format: 'der' })), /not a valid PKCS#1 RSA public key/);
        });

        it('a CERTIFICATE block that holds no certificate', () => {

            rejects(armor('CERTIFICATE', createPublicKey(ed25519Pem()).export({ type: 'spki', format: 'der' })), /not a valid X.509 certificate/);
        });

        it('a certificate chain', () => {

            const keyFile = Path.join(tmp, 'chain.key');
            const certFile = Path.join(tmp, 'chain.crt');
            execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=x', '-days', '1'], { stdio: 'ignore' });
            const pem = Fs.readFileSync(certFile, 'utf8');
            rejects(`${pem}${pem}`, /2 PEM blocks/);
        });

        describe('OpenSSH lines', () => {

            const edLine = () => Sshpk.parseKey(ed25519Pem(), 'pem').toString('ssh');

            it('that are truncated or corrupted', () => {

                const line = edLine();
                rejects(line.slice(0, 40), /line is malformed/);
                rejects('ssh-ed25519 !!!!', /line is malformed/);
                rejects('ssh-rsa', /line is malformed/);
            });

            it('whose type does not match the encoded key', () => {

                rejects(edLine().replace('ssh-ed25519', 'ssh-rsa'), /line is malformed/);
                const p384 = Sshpk.parseKey(spkiPem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), 'pem').toString('ssh');
                rejects(p384.replace('ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp256'), /says "ecdsa-sha2-nistp256" but encodes a "ecdsa-sha2-nistp384" key/);
            });

            it('whose EC point is not on the curve', () => {

                const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
                const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]);
                const blob = Buffer.concat([field(Buffer.from('ecdsa-sha2-nistp256')), field(Buffer.from('nistp256')), field(point)]);
                rejects(`ecdsa-sha2-nistp256 ${blob.toString('base64')}`, /does not encode a valid public key/);
            });

            it('of unsupported types', () => {

                rejects('sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t', /"sk-ssh-ed25519@openssh.com" is not supported/);
                rejects('ssh-ed25519-cert-v01@openssh.com AAAA', /"ssh-ed25519-cert-v01@openssh.com" is not supported/);
            });

            it('with several lines', () => {

                rejects(`${edLine()}\n${edLine()}`, /several lines/);
            });

            it('with authorized_keys options in front', () => {

                rejects(`from="10.0.0.1" ${edLine()}`, /not recognised/);
            });
        });
    });
});
