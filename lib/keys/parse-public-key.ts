/**
 * Parsing of public keys that users register (paper §5.2). The container is sniffed,
 * the key is reduced to its DER SubjectPublicKeyInfo, and every property of the
 * key (algorithm, size, curve, fingerprint) is derived from that material — never
 * taken from what the client says about it.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';

import forge from 'node-forge';
import Sshpk from 'sshpk';

import { InvalidKey } from '../errors';
import { FORBIDDEN_CHARACTER } from '../xml/characters';
import { sha256Hex, spkiDer } from './digest';
import { edwardsKeyProblem } from './edwards';
import { montgomeryKeyProblem } from './montgomery';
import type { KeyAlgorithm, KeyFormat, PublicKeyInfo } from './types';

const internals = {
    maxInputBytes: 16 * 1024,
    minRsaBits: 2048,
    // Public-key operations grow with the modulus: a cap keeps verification cheap for everyone.
    maxRsaBits: 16384,
    // NIST SP 800-56B: 2^16 < e < 2^256 is recommended; 3 is still seen in the wild and safe for verification.
    // OpenSSL refuses to verify with an exponent of more than 64 bits once the modulus is over
    // 3072 bits: such a key would register and then never verify anything.
    maxRsaExponent: 1n << 64n,
    rawKeyBytes: { ed25519: 32, ed448: 57, x25519: 32, x448: 56 },
    curves: new Map<string, { readonly curve: string; readonly size: number }>([
        ['prime256v1', { curve: 'P-256', size: 256 }],
        ['secp384r1', { curve: 'P-384', size: 384 }],
        ['secp521r1', { curve: 'P-521', size: 521 }]
    ]),
    sshTypes: new Set(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']),
    supported: 'a PEM "PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE" block, or one OpenSSH public key line (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521)',
    privateKeyMarkers: [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, /^PuTTY-User-Key-File-/m],
    pemBlock: /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n\t ]*)\r?\n-----END ([A-Z0-9 ]+)-----$/,
    pemEnd: /-----END [A-Z0-9 ]+-----/,
    // RFC 8410 §4: an Ed25519/X25519 SPKI is one fixed 12-byte header (no parameters) and the
    // 32-byte key. OpenSSL exports exactly these bytes and checks nothing more on import, so
    // such input is already canonical; skipping OpenSSL's decoder saves ~150 µs per key.
    rfc8410: [
        { algorithm: 'ed25519' as const, header: Buffer.from('302a300506032b6570032100', 'hex') },
        { algorithm: 'x25519' as const, header: Buffer.from('302a300506032b656e032100', 'hex') }
    ],
    rfc8410Length: 44,
    base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
};


/**
 * Parses a public key registration's key text and derives everything the service stores
 * and signs about it. Accepts one PEM SPKI (`PUBLIC KEY`), PKCS#1 (`RSA PUBLIC KEY`) or
 * X.509 (`CERTIFICATE`) block, or one OpenSSH public key line.
 *
 * Security: refuses private keys (a user must never hand one to the service), RSA below
 * 2048 bits or with a malformed modulus/exponent, curves and algorithms outside the
 * supported set, oversize input and anything around the one block, so that what is
 * signed is exactly one well-formed public key. Throws `InvalidKey` with a reason the
 * user can act on.
 */
export function parsePublicKey(text: string): PublicKeyInfo {

    if (typeof text !== 'string') {
        throw new InvalidKey(`the key must be text: ${internals.supported}`);
    }

    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > internals.maxInputBytes) {
        throw new InvalidKey(`the key text is ${bytes} bytes, more than the 16 KiB allowed; send only one public key`);
    }

    const container = text.trim();
    if (!container) {
        throw new InvalidKey(`the key is empty; send ${internals.supported}`);
    }

    if (internals.privateKeyMarkers.some((marker) => marker.test(container))) {
        throw new InvalidKey('this is a private key; register only the public half (for example `openssl pkey -pubout` or the `.pub` file of ssh-keygen)');
    }

    // The text is published verbatim in signed documents: what they cannot carry (control
    // characters, NEL, LS, PS — e.g. in an OpenSSH comment) would make every document of
    // its name unsignable.
    if (FORBIDDEN_CHARACTER.test(container)) {
        throw new InvalidKey('the key text holds a character IKS documents cannot carry (a control character, NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR); remove it, e.g. from the OpenSSH comment');
    }

    const read = container.includes('-----BEGIN') ? readPem(container) : readOpenSsh(container);
    if ('spki' in read) {
        return describeSpki(read.spki, { algorithm: read.algorithm, size: 256 }, read.format, container);
    }

    return describeSpki(spkiDer(read.key), measure(read.key), read.format, container);
}


/** An Ed25519 or X25519 public key in the one SPKI form RFC 8410 allows. */
export interface Rfc8410Key {
    readonly algorithm: 'ed25519' | 'x25519';
    /** The 32 bytes of the key, after the fixed header. */
    readonly raw: Buffer;
}

/** The key of a canonical RFC 8410 Ed25519/X25519 SPKI, or undefined for anything else. */
export function rfc8410Key(der: Buffer): Rfc8410Key | undefined {

    if (der.length !== internals.rfc8410Length) {
        return undefined;
    }

    const match = internals.rfc8410.find(({ header }) => der.subarray(0, header.length).equals(header));
    return match && { algorithm: match.algorithm, raw: der.subarray(match.header.length) };
}


/** What a container holds: a key OpenSSL imported, or a canonical RFC 8410 SPKI taken as it is. */
type ReadKey = { readonly key: KeyObject; readonly format: KeyFormat } | { readonly spki: Buffer; readonly algorithm: Rfc8410Key['algorithm']; readonly format: KeyFormat };


function readPem(container: string): ReadKey {

    const blocks = container.split('-----BEGIN ').length - 1;
    if (blocks > 1) {
        throw new InvalidKey(`the text holds ${blocks} PEM blocks; send exactly one (for a certificate chain, only the certificate of the key itself)`);
    }

    const match = internals.pemBlock.exec(container);
    if (!match) {
        if (!container.startsWith('-----BEGIN')) {
            throw new InvalidKey('there is text before the PEM block; send the block alone, from "-----BEGIN" to "-----END ...-----"');
        }

        const end = internals.pemEnd.exec(container);
        if (end && end.index + end[0].length < container.length) {
            throw new InvalidKey('there is trailing data after the PEM block; send the block alone, ending with its "-----END ...-----" line');
        }

        throw new InvalidKey('the PEM armor is malformed (expected "-----BEGIN <label>-----", base64 lines without headers, "-----END <label>-----")');
    }

    const [, label, body, endLabel] = match as unknown as [string, string, string, string];
    if (label !== endLabel) {
        throw new InvalidKey(`the PEM block begins as "${label}" but ends as "${endLabel}"`);
    }

    if (!body.trim()) {
        throw new InvalidKey('the PEM block is empty');
    }

    const { der, canonical } = decodePem(body);
    switch (label) {
        case 'PUBLIC KEY':
            return canonical ? { spki: der, algorithm: canonical.algorithm, format: 'spki' } : { key: importDer(der, 'spki'), format: 'spki' };

        case 'RSA PUBLIC KEY':
            return { key: importDer(der, 'pkcs1'), format: 'spki' };

        case 'CERTIFICATE':
            return { key: certificateKey(der), format: 'x509' };

        default:
            throw new InvalidKey(`PEM blocks labelled "${label}" are not supported; send ${internals.supported}`);
    }
}


/** The DER bytes of a PEM block's body (RFC 7468 base64 lines), and its RFC 8410 key when it is one. */
function decodePem(body: string): { der: Buffer; canonical: Rfc8410Key | undefined } {

    // readPem has checked the armor: one block, no headers, base64 characters and white space only.
    // Buffer.from skips what is not base64, so padding is checked here: only at the end.
    const base64 = body.replace(/[\r\n\t ]/g, '');
    if (!internals.base64.test(base64)) {
        throw new InvalidKey('the PEM body is not one well-formed DER structure (corrupted base64 or trailing bytes)');
    }

    try {
        const der = Buffer.from(base64, 'base64');
        const canonical = rfc8410Key(der);
        if (!canonical) {
            // Strict DER with nothing after the outer structure (`true` = strict; forge also refuses unparsed
            // trailing bytes by default): what is fingerprinted is exactly what was sent. An RFC 8410
            // SPKI is fixed bytes of an exact length: strict DER by construction.
            forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')), true);
        }

        return { der, canonical };
    }
    catch (err) {
        throw new InvalidKey('the PEM body is not one well-formed DER structure (corrupted base64 or trailing bytes)', { cause: err });
    }
}


function importDer(der: Buffer, type: 'spki' | 'pkcs1'): KeyObject {

    try {
        return createPublicKey({ key: der, format: 'der', type });
    }
    catch (err) {
        throw new InvalidKey(type === 'spki' ? 'the PEM block is not a valid SubjectPublicKeyInfo public key' : 'the PEM block is not a valid PKCS#1 RSA public key', { cause: err });
    }
}


function certificateKey(der: Buffer): KeyObject {

    try {
        const certificate = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))));
        const spki = forge.asn1.toDer(forge.pki.publicKeyToAsn1(certificate.publicKey)).getBytes();
        return createPublicKey({ key: Buffer.from(spki, 'binary'), format: 'der', type: 'spki' });
    }
    catch {
        // node-forge 1.4.3 reads only RSA subject keys ("OID is not RSA"); node:crypto covers EC and EdDSA certificates.
    }

    try {
        return new X509Certificate(der).publicKey;
    }
    catch (err) {
        throw new InvalidKey('the CERTIFICATE block is not a valid X.509 certificate', { cause: err });
    }
}


function readOpenSsh(container: string): ReadKey {

    if (/[\r\n]/.test(container)) {
        throw new InvalidKey(`the text holds several lines; send ${internals.supported}`);
    }

    const type = container.split(/\s/, 1)[0]!;
    if (!internals.sshTypes.has(type)) {
        if (type === 'ssh-dss') {
            throw new InvalidKey('DSA keys are not supported; use Ed25519, ECDSA (P-256/384/521) or RSA of at least 2048 bits');
        }

        if (/^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]{1,60}$/.test(type)) {
            throw new InvalidKey(`OpenSSH key type "${type}" is not supported; use ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521`);
        }

        throw new InvalidKey(`the key is not recognised; send ${internals.supported}`);
    }

    let parsed: Sshpk.Key;
    try {
        parsed = Sshpk.parseKey(container, 'ssh');
    }
    catch (err) {
        throw new InvalidKey('the OpenSSH public key line is malformed (truncated or corrupted base64)', { cause: err });
    }

    // The line's type is a label; the key is what the base64 blob encodes, and the two must agree.
    const encoded = parsed.type === 'ecdsa' ? `ecdsa-sha2-${parsed.curve}` : `ssh-${parsed.type}`;
    if (encoded !== type) {
        throw new InvalidKey(`the OpenSSH line says "${type}" but encodes a "${encoded}" key`);
    }

    try {
        return { key: createPublicKey(parsed.toString('pkcs8')), format: 'openssh' };
    }
    catch (err) {
        // sshpk does not check key values (an EC point off its curve, for one); OpenSSL does.
        throw new InvalidKey('the OpenSSH line does not encode a valid public key (for example an EC point that is not on the curve)', { cause: err });
    }
}


function describeSpki(spki: Buffer, measured: { algorithm: KeyAlgorithm; size: number; curve?: string }, format: KeyFormat, container: string): PublicKeyInfo {

    const { algorithm, size, curve } = measured;
    // These SPKIs end with the raw key (RFC 8410 §4).
    const problem = algorithm === 'ed25519' || algorithm === 'ed448' ? edwardsKeyProblem(algorithm, spki.subarray(spki.length - internals.rawKeyBytes[algorithm])) :
        algorithm === 'x25519' || algorithm === 'x448' ? montgomeryKeyProblem(algorithm, spki.subarray(spki.length - internals.rawKeyBytes[algorithm])) :
        null;
    if (problem !== null) {
        throw new InvalidKey(problem);
    }

    const fingerprint = sha256Hex(spki);
    return {
        id: fingerprint.slice(0, 16),
        algorithm,
        size,
        ...(curve ? { curve } : {}),
        format,
        spki,
        fingerprint,
        container
    };
}


function measure(key: KeyObject): { algorithm: KeyAlgorithm; size: number; curve?: string } {

    switch (key.asymmetricKeyType) {
        case 'rsa':
            return { algorithm: 'rsa', size: checkRsa(key) };

        case 'ec': {
            const namedCurve = String(key.asymmetricKeyDetails?.namedCurve);
            const known = internals.curves.get(namedCurve);
            if (!known) {
                throw new InvalidKey(`elliptic curve "${namedCurve}" is not supported; use P-256, P-384 or P-521`);
            }

            // OpenSSL names a curve given by explicit parameters yet exports them again, so the same key
            // would have two fingerprints; RFC 5480 §2.1.1 requires the named form in certificates anyway.
            const named = createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' });
            if (!spkiDer(named).equals(spkiDer(key))) {
                throw new InvalidKey(`the ${known.curve} key carries explicit curve parameters; export it with the named curve (openssl pkey -pubin -pubout -ec_param_enc named_curve)`);
            }

            return { algorithm: 'ec', size: known.size, curve: known.curve };
        }

        case 'ed25519':
            return { algorithm: 'ed25519', size: 256 };
        case 'x25519':
            return { algorithm: 'x25519', size: 256 };
        case 'ed448':
            return { algorithm: 'ed448', size: 456 };
        case 'x448':
            return { algorithm: 'x448', size: 448 };

        case 'rsa-pss':
            throw new InvalidKey('RSA-PSS-restricted keys are not supported; export the key as a plain RSA (rsaEncryption) public key');

        case 'dsa':
            throw new InvalidKey('DSA keys are not supported; use Ed25519, ECDSA (P-256/384/521) or RSA of at least 2048 bits');

        default:
            throw new InvalidKey(`${String(key.asymmetricKeyType)} keys are not supported; use Ed25519, X25519, ECDSA (P-256/384/521) or RSA of at least 2048 bits`);
    }
}


/** Returns the modulus size in bits, or throws when the RSA key is weak or malformed. */
function checkRsa(key: KeyObject): number {

    // OpenSSL imports even moduli and even exponents without complaint; such keys are not RSA keys.
    // node always reports these for RSA keys.
    const modulus = Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url');
    const bits = key.asymmetricKeyDetails!.modulusLength!;
    const exponent = key.asymmetricKeyDetails!.publicExponent!;

    if ((modulus[modulus.length - 1]! & 1) === 0) {
        throw new InvalidKey('the RSA modulus is malformed (it must be a positive odd number); regenerate the key');
    }

    if (exponent < 3n || (exponent & 1n) === 0n || exponent >= internals.maxRsaExponent) {
        throw new InvalidKey('the RSA public exponent is malformed (it must be odd, at least 3 and below 2^64; 65537 is usual); regenerate the key');
    }

    if (bits < internals.minRsaBits) {
        throw new InvalidKey(`RSA keys must have at least ${internals.minRsaBits} bits; this one has ${bits}. Generate a new key (3072 bits recommended)`);
    }

    if (bits > internals.maxRsaBits) {
        throw new InvalidKey(`RSA keys of more than ${internals.maxRsaBits} bits are not accepted; this one has ${bits}`);
    }

    return bits;
}
