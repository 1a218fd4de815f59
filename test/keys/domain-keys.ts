import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { InvalidConfig, InvalidKey } from '../../lib/errors';
import {
    UnsafeKeyFile,
    domainKeyPaths,
    domainKeyRoles,
    ensureDomainKeys,
    keyNameFor,
    loadDomainPublicKey,
    loadDomainSigningKey,
    loadedKeyFiles,
    parsePublicKey,
    type DomainKeyRole
} from '../../lib/keys';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

const domain = 'example.test';
const mode = (path: string) => Fs.statSync(path).mode & 0o777;
const snapshot = (dataDir: string) => Object.fromEntries(domainKeyRoles.map((role) => {

    const { privatePath, publicPath } = domainKeyPaths(dataDir, domain, role);
    return [role, { private: Fs.readFileSync(privatePath, 'utf8'), public: Fs.readFileSync(publicPath, 'utf8') }];
}));


describe('domain keys', () => {

    let root: string;
    let counter = 0;
    const freshDir = () => Path.join(root, `data-${++counter}`);

    before(() => {

        root = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-domain-keys-'));
    });

    after(() => {

        Fs.rmSync(root, { recursive: true, force: true });
    });

    describe('domainKeyPaths()', () => {

        it('lays keys out as DIR/D/private/ROLE.pem and DIR/D/public/ROLE.pem, absolute', () => {

            expect(domainKeyPaths('/srv/iks', domain, 'ksk')).to.equal({
                privatePath: '/srv/iks/example.test/private/ksk.pem',
                publicPath: '/srv/iks/example.test/public/ksk.pem'
            });
            expect(domainKeyPaths('rel', domain, 'enc').privatePath).to.equal(Path.resolve('rel', domain, 'private', 'enc.pem'));
        });

        it('refuses domains that are not a single path component', () => {

            for (const bad of ['', '.', '..', '../etc', 'a/b', 'a\\b', 'a\0b', 'x'.repeat(254), undefined as unknown as string]) {
                expect(() => domainKeyPaths('/srv/iks', bad, 'ksk')).to.throw(InvalidConfig, /cannot be used as a domain directory name/);
            }
        });

        it('refuses unknown roles', () => {

            expect(() => domainKeyPaths('/srv/iks', domain, '../ksk' as DomainKeyRole)).to.throw(InvalidKey, /unknown domain key role/);
        });
    });

    describe('ensureDomainKeys()', () => {

        it('creates the four key pairs with safe permissions, even under a restrictive umask', () => {

            const dataDir = Path.join(freshDir(), 'nested', 'data');
            const umask = process.umask(0o077);
            let created: DomainKeyRole[];
            try {
                created = ensureDomainKeys(dataDir, domain).created;
            }
            finally {
                process.umask(umask);
            }

            expect(created).to.equal(['ksk', 'rsk', 'enc', 'zsk']);
            expect(mode(Path.join(dataDir, domain, 'private'))).to.equal(0o700);
            expect(mode(Path.join(dataDir, domain, 'public'))).to.equal(0o755);
            for (const role of domainKeyRoles) {
                const { privatePath, publicPath } = domainKeyPaths(dataDir, domain, role);
                expect(mode(privatePath)).to.equal(0o600);
                expect(mode(publicPath)).to.equal(0o644);
                const publicPem = Fs.readFileSync(publicPath, 'utf8');
                expect(publicPem).to.startWith('-----BEGIN PUBLIC KEY-----');
                expect(createPublicKey(Fs.readFileSync(privatePath)).export({ type: 'spki', format: 'pem' })).to.equal(publicPem);
            }

            expect(Fs.readdirSync(Path.join(dataDir, domain, 'private')).sort()).to.equal(['enc.pem', 'ksk.pem', 'rsk.pem', 'zsk.pem']);
            expect(Fs.readdirSync(Path.join(dataDir, domain, 'public')).sort()).to.equal(['enc.pem', 'ksk.pem', 'rsk.pem', 'zsk.pem']);
        });

        it('uses ECDSA P-256 for ksk, rsk and zsk and RSA 3072 for enc by default', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            for (const role of ['ksk', 'rsk', 'zsk'] as const) {
                const key = loadDomainPublicKey(dataDir, domain, role);
                expect(key.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
                expect(parsePublicKey(key.pem).curve).to.equal('P-256');
            }

            expect(loadDomainPublicKey(dataDir, domain, 'enc').publicKey.asymmetricKeyDetails?.modulusLength).to.equal(3072);
        });

        it('uses RSA 3072 for every role with rsa-sha256', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain, { algorithm: 'rsa-sha256' });
            for (const role of domainKeyRoles) {
                expect(loadDomainSigningKey(dataDir, domain, role).algorithm).to.equal('rsa-sha256');
                expect(loadDomainPublicKey(dataDir, domain, role).publicKey.asymmetricKeyDetails?.modulusLength).to.equal(3072);
            }
        });

        it('is idempotent: a second run creates nothing and changes nothing (it reads each private key only to check its pair)', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            const first = snapshot(dataDir);
            const loads = loadedKeyFiles().length;
            expect(ensureDomainKeys(dataDir, domain)).to.equal({ created: [], publicOnly: [] });
            expect(snapshot(dataDir)).to.equal(first);
            expect(loadedKeyFiles().slice(loads).map((loaded) => loaded.role)).to.equal(['ksk', 'rsk', 'enc', 'zsk']);
        });

        it('re-derives a missing public file from the existing private key', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            const first = snapshot(dataDir);
            const { privatePath, publicPath } = domainKeyPaths(dataDir, domain, 'rsk');
            Fs.rmSync(publicPath);
            const loads = loadedKeyFiles().length;

            expect(ensureDomainKeys(dataDir, domain).created).to.equal([]);
            expect(snapshot(dataDir)).to.equal(first);
            expect(mode(publicPath)).to.equal(0o644);
            expect(loadedKeyFiles().slice(loads)).to.contain({ role: 'rsk', path: privatePath });
        });

        it('never replaces a key held elsewhere: a public file without its private key is reported, not regenerated', () => {

            // A gateway host: private rsk and enc, and every public file (docs/operations.md).
            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            const first = snapshot(dataDir);
            const held = { ksk: first.ksk!.private, zsk: first.zsk!.private };
            Fs.rmSync(domainKeyPaths(dataDir, domain, 'ksk').privatePath);
            Fs.rmSync(domainKeyPaths(dataDir, domain, 'zsk').privatePath);

            expect(ensureDomainKeys(dataDir, domain)).to.equal({ created: [], publicOnly: ['ksk', 'zsk'] });
            expect(Fs.readdirSync(Path.join(dataDir, domain, 'private')).sort()).to.equal(['enc.pem', 'rsk.pem']);
            for (const role of ['ksk', 'zsk'] as const) {
                expect(Fs.readFileSync(domainKeyPaths(dataDir, domain, role).publicPath, 'utf8')).to.equal(first[role]!.public);
                Fs.writeFileSync(domainKeyPaths(dataDir, domain, role).privatePath, held[role], { mode: 0o600 });
            }

            expect(snapshot(dataDir)).to.equal(first);

            // The updater host: the same for rsk and enc.
            Fs.rmSync(domainKeyPaths(dataDir, domain, 'rsk').privatePath);
            Fs.rmSync(domainKeyPaths(dataDir, domain, 'enc').privatePath);
            expect(ensureDomainKeys(dataDir, domain)).to.equal({ created: [], publicOnly: ['rsk', 'enc'] });
            expect(Fs.readFileSync(domainKeyPaths(dataDir, domain, 'rsk').publicPath, 'utf8')).to.equal(first.rsk!.public);
        });

        it('creates a new key when both halves were moved aside (RSK rotation, docs/operations.md)', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            const first = snapshot(dataDir);
            const { privatePath, publicPath } = domainKeyPaths(dataDir, domain, 'rsk');
            Fs.renameSync(privatePath, `${privatePath}.old`);
            Fs.renameSync(publicPath, `${publicPath}.old`);

            expect(ensureDomainKeys(dataDir, domain)).to.equal({ created: ['rsk'], publicOnly: [] });
            const second = snapshot(dataDir);
            expect(second.rsk!.public).to.not.equal(first.rsk!.public);
            expect(createPublicKey(Fs.readFileSync(privatePath)).export({ type: 'spki', format: 'pem' })).to.equal(Fs.readFileSync(publicPath, 'utf8'));
            expect([second.ksk, second.enc, second.zsk]).to.equal([first.ksk, first.enc, first.zsk]);
        });

        it('refuses a private and a public file that are not one pair, naming both keys, and changes nothing', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            const other = freshDir();
            ensureDomainKeys(other, domain);
            // A partial restore: the public zsk from another backup.
            Fs.copyFileSync(domainKeyPaths(other, domain, 'zsk').publicPath, domainKeyPaths(dataDir, domain, 'zsk').publicPath);
            const first = snapshot(dataDir);

            const mine = loadDomainSigningKey(dataDir, domain, 'zsk').keyName;
            const theirs = loadDomainPublicKey(other, domain, 'zsk').keyName;
            expect(() => ensureDomainKeys(dataDir, domain)).to.throw(InvalidKey, new RegExp(`the zsk key files do not match: .*private/zsk\\.pem holds ${mine} but .*public/zsk\\.pem holds ${theirs}`));
            expect(snapshot(dataDir)).to.equal(first);
        });

        it('never overwrites a private key that appears while it generates one', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            const first = snapshot(dataDir);
            const { privatePath } = domainKeyPaths(dataDir, domain, 'ksk');

            // Make the existence check miss the key, as when a concurrent run links it in just after the check.
            const fs = require('node:fs') as typeof Fs;
            const existsSync = fs.existsSync;
            const { publicPath } = domainKeyPaths(dataDir, domain, 'ksk');
            fs.existsSync = (path: Fs.PathLike) => path === privatePath || path === publicPath ? false : existsSync(path);
            try {
                expect(ensureDomainKeys(dataDir, domain).created).to.equal([]);
            }
            finally {
                fs.existsSync = existsSync;
            }

            expect(snapshot(dataDir)).to.equal(first);
            expect(Fs.readdirSync(Path.dirname(privatePath)).sort()).to.equal(['enc.pem', 'ksk.pem', 'rsk.pem', 'zsk.pem']);
        });

        it('refuses to derive a public file from a private key others can read', () => {

            const dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
            const { privatePath, publicPath } = domainKeyPaths(dataDir, domain, 'ksk');
            const before = Fs.readFileSync(privatePath, 'utf8');
            Fs.chmodSync(privatePath, 0o644);
            Fs.rmSync(publicPath);

            expect(() => ensureDomainKeys(dataDir, domain)).to.throw(UnsafeKeyFile, /chmod 600/);
            expect(Fs.readFileSync(privatePath, 'utf8')).to.equal(before);
            expect(Fs.existsSync(publicPath)).to.be.false();
        });

        it('leaves no temporary file behind when a public file cannot be written', () => {

            const dataDir = freshDir();
            const { publicPath } = domainKeyPaths(dataDir, domain, 'ksk');
            Fs.mkdirSync(publicPath, { recursive: true });
            Fs.writeFileSync(Path.join(publicPath, 'occupied'), '');

            expect(() => ensureDomainKeys(dataDir, domain)).to.throw();
            expect(Fs.readdirSync(Path.dirname(publicPath))).to.equal(['ksk.pem']);
            expect(Fs.readdirSync(Path.join(dataDir, domain, 'private'))).to.equal(['ksk.pem']);
        });

        it('reports a data directory that is a file', () => {

            const dataDir = freshDir();
            Fs.writeFileSync(dataDir, '');
            expect(() => ensureDomainKeys(dataDir, domain)).to.throw(/ENOTDIR/);
        });
    });

    describe('loading', () => {

        let dataDir: string;

        before(() => {

            dataDir = freshDir();
            ensureDomainKeys(dataDir, domain);
        });

        it('loads a signing key whose signatures the public file verifies (ECDSA, IEEE P1363)', () => {

            const ksk = loadDomainSigningKey(dataDir, domain, 'ksk');
            const published = loadDomainPublicKey(dataDir, domain, 'ksk');
            expect(ksk.keyName).to.equal(published.keyName);
            expect(ksk.spki.equals(published.spki)).to.be.true();

            const data = Buffer.from('sha256.K.D commitment');
            const signature = sign('sha256', data, { key: ksk.privateKey, dsaEncoding: 'ieee-p1363' });
            expect(signature.length).to.equal(64);
            expect(verify('sha256', data, { key: published.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).to.be.true();
            expect(verify('sha256', Buffer.from('other'), { key: published.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).to.be.false();
        });

        it('names every key with a DNS label derived from its SPKI', () => {

            for (const role of domainKeyRoles) {
                const published = loadDomainPublicKey(dataDir, domain, role);
                expect(published.keyName).to.match(new RegExp(`^${role}-[0-9a-f]{12}$`));
                expect(published.keyName).to.match(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
                expect(published.keyName).to.equal(keyNameFor(role, published.spki));
                expect(published.pem).to.equal(Fs.readFileSync(domainKeyPaths(dataDir, domain, role).publicPath, 'utf8'));
            }

            const names = domainKeyRoles.map((role) => loadDomainPublicKey(dataDir, domain, role).keyName);
            expect(new Set(names).size).to.equal(4);
        });

        it('records which private key files were loaded, and never for public keys', () => {

            const before = loadedKeyFiles().length;
            loadDomainPublicKey(dataDir, domain, 'ksk');
            expect(loadedKeyFiles().length).to.equal(before);
            loadDomainSigningKey(dataDir, domain, 'rsk');
            loadDomainSigningKey(dataDir, domain, 'zsk');
            expect(loadedKeyFiles().slice(before)).to.equal([
                { role: 'rsk', path: domainKeyPaths(dataDir, domain, 'rsk').privatePath },
                { role: 'zsk', path: domainKeyPaths(dataDir, domain, 'zsk').privatePath }
            ]);
        });

        it('loads the public key while the private file is absent', () => {

            const other = freshDir();
            ensureDomainKeys(other, domain);
            const expected = loadDomainPublicKey(other, domain, 'ksk').keyName;
            Fs.rmSync(domainKeyPaths(other, domain, 'ksk').privatePath);
            expect(loadDomainPublicKey(other, domain, 'ksk').keyName).to.equal(expected);
            expect(() => loadDomainSigningKey(other, domain, 'ksk')).to.throw(InvalidConfig, /ENOENT/);
        });

        it('refuses a missing, garbled or misplaced public file', () => {

            const other = freshDir();
            ensureDomainKeys(other, domain);
            const { privatePath, publicPath } = domainKeyPaths(other, domain, 'ksk');
            const original = Fs.readFileSync(publicPath, 'utf8');

            Fs.rmSync(publicPath);
            expect(() => loadDomainPublicKey(other, domain, 'ksk')).to.throw(InvalidConfig, /cannot read the ksk public key file .*\(ENOENT\).*iks init/);

            Fs.writeFileSync(publicPath, 'not a key');
            expect(() => loadDomainPublicKey(other, domain, 'ksk')).to.throw(InvalidKey, /is not a PEM public key/);

            Fs.writeFileSync(publicPath, Fs.readFileSync(privatePath));
            expect(() => loadDomainPublicKey(other, domain, 'ksk')).to.throw(InvalidKey, /holds a private key/);

            Fs.writeFileSync(publicPath, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
            expect(() => loadDomainPublicKey(other, domain, 'ksk')).to.throw(InvalidKey, /ksk key must be ECDSA P-256 or RSA/);

            Fs.writeFileSync(publicPath, original);
            expect(loadDomainPublicKey(other, domain, 'ksk').pem).to.equal(original);
        });

        it('refuses a private key file made group-readable', () => {

            const other = freshDir();
            ensureDomainKeys(other, domain);
            const { privatePath } = domainKeyPaths(other, domain, 'ksk');
            Fs.chmodSync(privatePath, 0o640);
            expect(() => loadDomainSigningKey(other, domain, 'ksk')).to.throw(UnsafeKeyFile, `the ksk private key file ${privatePath} is accessible by group or others (mode 0640); run "chmod 600 ${privatePath}"`);
        });
    });
});
