/**
 * On-disk layout of a domain's own keys under the data directory:
 *
 *     DIR/D/private/{ksk,rsk,enc,zsk}.pem   PKCS#8 PEM, mode 0600, directory 0700
 *     DIR/D/public/{ksk,rsk,enc,zsk}.pem    SPKI PEM, mode 0644
 *
 * Components that only verify or publish (query, register, zone export) read the
 * public files; private files are read through `loadSigningKey` only.
 */
import * as Fs from 'node:fs';
import * as Path from 'node:path';
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

import { makeDirectory } from '../files';
import { InvalidConfig, InvalidKey } from '../errors';
import { spkiDer } from './digest';
import { assertDomainKeyRole, domainKeyRoles, generateSigningKeyPem, keyNameFor, loadSigningKey, signatureAlgorithmOf } from './signing-key';
import type { DomainKeyRole, SignatureAlgorithm, SigningKey } from './types';

const internals = {
    privateDirMode: 0o700,
    publicDirMode: 0o755,
    privateFileMode: 0o600,
    publicFileMode: 0o644
};


/** Where the key files of `role` for `domain` live (absolute paths). */
export function domainKeyPaths(dataDir: string, domain: string, role: DomainKeyRole): { privatePath: string; publicPath: string } {

    assertDomainKeyRole(role);
    const dir = domainDir(dataDir, domain);
    return {
        privatePath: Path.join(dir, 'private', `${role}.pem`),
        publicPath: Path.join(dir, 'public', `${role}.pem`)
    };
}


/**
 * Creates whichever of the domain's key pairs (ksk, rsk, enc, zsk) are missing: a role is
 * generated only when neither its private nor its public file exists.
 * Security: private files are written 0600 in a 0700 directory, through a temporary
 * file hard-linked into place, so a key file is never seen half-written and an existing
 * key file (private or public) is never overwritten, even by a concurrent run. A missing
 * public file is derived from its private key. A public file without its private key is a
 * key this host does not hold (a gateway holds only rsk and enc, the updater only ksk and
 * zsk): it is left alone and reported in `publicOnly`, never replaced by a new key, which
 * would silently replace a published KSK commitment or DNSKEY/DS. A private and a public
 * file that are not one pair (a partial restore) are refused. `algorithm` applies to ksk,
 * rsk and zsk; the enc key is always RSA 3072.
 */
export function ensureDomainKeys(dataDir: string, domain: string, options: { algorithm?: SignatureAlgorithm } = {}): { created: DomainKeyRole[]; publicOnly: DomainKeyRole[] } {

    const dir = domainDir(dataDir, domain);
    makeDirectory(dir, internals.publicDirMode);
    makeDirectory(Path.join(dir, 'private'), internals.privateDirMode);
    makeDirectory(Path.join(dir, 'public'), internals.publicDirMode);

    const created: DomainKeyRole[] = [];
    const publicOnly: DomainKeyRole[] = [];
    for (const role of domainKeyRoles) {
        const { privatePath, publicPath } = domainKeyPaths(dataDir, domain, role);
        if (!Fs.existsSync(privatePath)) {
            // (A directory in its place is no key: creating the pair below fails on it, and says so.)
            if (Fs.existsSync(publicPath) && !Fs.statSync(publicPath).isDirectory()) {
                publicOnly.push(role);
                continue;
            }

            const pair = generateSigningKeyPem(role, options.algorithm);
            if (writeExclusive(privatePath, pair.privatePem, internals.privateFileMode) &&
                writeExclusive(publicPath, pair.publicPem, internals.publicFileMode)) {

                created.push(role);
                continue;
            }

            // Another process created this key (or its public half) first: keep what it wrote and check the pair below.
        }

        const key = loadSigningKey(privatePath, role);
        if (writeExclusive(publicPath, key.publicKey.export({ type: 'spki', format: 'pem' }) as string, internals.publicFileMode)) {
            continue;
        }

        const published = loadPublicKeyFile(publicPath, role);
        if (published.keyName !== key.keyName) {
            throw new InvalidKey(`the ${role} key files do not match: ${privatePath} holds ${key.keyName} but ${publicPath} holds ${published.keyName} (a partial restore?); ` +
                `restore both halves of the same key${role === 'ksk' ? ' (or complete an interrupted rollover with `iks keys rotate ksk --activate`)' : ''}, or move both aside to create a new ${role}`);
        }
    }

    return { created, publicOnly };
}


/** Loads the private key of `role` (for the component allowed to hold it, ARCHITECTURE.md §2). */
export function loadDomainSigningKey(dataDir: string, domain: string, role: DomainKeyRole): SigningKey {

    return loadSigningKey(domainKeyPaths(dataDir, domain, role).privatePath, role);
}


/**
 * Reads the public file of `role` only — what query, register and zone components use
 * for the KSK. Returns the key, its DER SPKI, its key name and a canonical SPKI PEM.
 * Security: refuses a public file that holds a private key (node would silently derive
 * the public half from it, hiding a leaked private key in a world-readable file).
 */
export function loadDomainPublicKey(dataDir: string, domain: string, role: DomainKeyRole): { keyName: string; publicKey: KeyObject; spki: Buffer; pem: string } {

    return loadPublicKeyFile(domainKeyPaths(dataDir, domain, role).publicPath, role);
}


/** Reads one public key file of `role` (see loadDomainPublicKey; also the incoming and retired KSKs of a rollover). */
export function loadPublicKeyFile(publicPath: string, role: DomainKeyRole): { keyName: string; publicKey: KeyObject; spki: Buffer; pem: string } {

    let text: string;
    try {
        text = Fs.readFileSync(publicPath, 'utf8');
    }
    catch (err) {
        throw new InvalidConfig(`cannot read the ${role} public key file ${publicPath} (${String((err as NodeJS.ErrnoException).code)}); create the domain keys with "iks init"`);
    }

    if (/PRIVATE KEY-----/.test(text)) {
        throw new InvalidKey(`the ${role} public key file ${publicPath} holds a private key; move it to the private directory (mode 0600) and write the public half here`);
    }

    let publicKey: KeyObject;
    try {
        publicKey = createPublicKey(text);
    }
    catch (err) {
        throw new InvalidKey(`the ${role} public key file ${publicPath} is not a PEM public key`, { cause: err });
    }

    signatureAlgorithmOf(role, publicKey);
    const spki = spkiDer(publicKey);
    return {
        keyName: keyNameFor(role, spki),
        publicKey,
        spki,
        pem: publicKey.export({ type: 'spki', format: 'pem' }) as string
    };
}


export function domainDir(dataDir: string, domain: string): string {

    // The domain becomes a path component: no separators, no dot segments.
    if (typeof domain !== 'string' || !domain || domain.length > 253 || /[/\\\0]/.test(domain) || domain === '.' || domain === '..') {
        throw new InvalidConfig(`"${String(domain).slice(0, 64)}" cannot be used as a domain directory name`);
    }

    return Path.resolve(dataDir, domain);
}


/** Writes a complete temporary file next to `file`; returns its path. */
function writeTemporary(file: string, content: string, mode: number): string {

    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = Fs.openSync(temp, 'wx', mode);
    try {
        Fs.writeFileSync(fd, content);
        Fs.fchmodSync(fd, mode);
        Fs.fsyncSync(fd);
    }
    finally {
        Fs.closeSync(fd);
    }

    return temp;
}


/** Puts `content` at `file` unless it exists (link(2) fails with EEXIST atomically). Returns whether it wrote. */
export function writeExclusive(file: string, content: string, mode: number): boolean {

    const temp = writeTemporary(file, content, mode);
    try {
        Fs.linkSync(temp, file);
        return true;
    }
    catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
            return false;
        }

        throw err;
    }
    finally {
        Fs.rmSync(temp, { force: true });
    }
}


/** Replaces `file` with `content` atomically (rename of a complete, fsynced temporary file). */
export function writeReplacing(file: string, content: string, mode: number): void {

    const temp = writeTemporary(file, content, mode);
    try {
        Fs.renameSync(temp, file);
    }
    catch (err) {
        Fs.rmSync(temp, { force: true });
        throw err;
    }
}
