/**
 * Ed25519 and Ed448 public keys that no one should be able to register: encodings that are
 * not canonical (RFC 8032 §5.1.3 and §5.2.3: y must be below p) and points of small order.
 *
 * A small-order public key A is a key whose "signatures" anyone can make: with S = 0 and R
 * of small order, the verification equation [S]B = R + [k]A holds for a share of all
 * messages (for the identity, for every message). OpenSSL 3 verifies such signatures
 * (libsodium refuses the keys), so a registered small-order iks-auth or iks-certify key would
 * let a stranger manage its owner's keys or certify anyone.
 *
 * The points of small order are few and their y-coordinates known: on Ed25519 (cofactor 8)
 * y ∈ {0, 1, −1, ±y8}, where y8 belongs to the points of order 8; on Ed448 (cofactor 4)
 * y ∈ {0, 1, −1}. Comparing y is enough, and costs no curve arithmetic per key.
 */

import { fromLittleEndian, power, toLittleEndian } from './field';

const internals = {
    ed25519: {
        bytes: 32,
        p: (1n << 255n) - 19n,
        small: null as Set<bigint> | null
    },
    ed448: {
        bytes: 57,
        p: (1n << 448n) - (1n << 224n) - 1n,
        small: null as Set<bigint> | null
    }
};

/** A square root modulo the Ed25519 prime (p ≡ 5 mod 8), or null when there is none. */
function sqrt25519(value: bigint): bigint | null {

    const p = internals.ed25519.p;
    const v = (value % p + p) % p;
    let root = power(v, (p + 3n) / 8n, p);
    if (root * root % p !== v) {
        // Multiply by a square root of −1 (2^((p−1)/4)).
        root = root * power(2n, (p - 1n) / 4n, p) % p;
    }

    return root * root % p === v ? root : null;
}

/**
 * The y-coordinates of Ed25519's points of small order. The order-8 points P have a double
 * of order 4, whose y is 0; for a = −1 that means x² = −y², and the curve equation then
 * gives d·y⁴ + 2y² − 1 = 0, so y² = (−1 ± √(1 + d)) / d.
 */
function smallOrder25519(): Set<bigint> {

    const p = internals.ed25519.p;
    const d = (p - 121665n) * power(121666n, p - 2n, p) % p;
    const inverseD = power(d, p - 2n, p);
    const root = sqrt25519(1n + d)!;
    const small = new Set([0n, 1n, p - 1n]);
    for (const candidate of [(p - 1n + root) * inverseD % p, (p - 1n - root + p) * inverseD % p]) {
        const y = sqrt25519(candidate);
        if (y !== null) {
            small.add(y);
            small.add(p - y);
        }
    }

    return small;
}

/** The y-coordinates of the curve's points of small order (computed once). */
export function smallOrderYs(algorithm: 'ed25519' | 'ed448'): ReadonlySet<bigint> {

    const curve = internals[algorithm];
    curve.small ??= algorithm === 'ed25519' ? smallOrder25519() : new Set([0n, 1n, curve.p - 1n]);
    return curve.small;
}

/** The encodings of the points of small order, each y with both signs of x (for tests and audits). */
export function smallOrderEncodings(algorithm: 'ed25519' | 'ed448'): Buffer[] {

    const { bytes } = internals[algorithm];
    return [...smallOrderYs(algorithm)].flatMap((y) => [0, 0x80].map((sign) => {

        const encoded = toLittleEndian(y, bytes);
        encoded[bytes - 1]! |= sign;
        return encoded;
    }));
}

/** y of an encoded point: little-endian, the top bit of the last octet (x's sign) cleared. */
function yOf(raw: Buffer): bigint {

    const bytes = Buffer.from(raw);
    bytes[bytes.length - 1]! &= 0x7f;
    return fromLittleEndian(bytes);
}

/**
 * Why an Ed25519 or Ed448 public key (its raw RFC 8032 encoding) must not be used, or null
 * when it may. Checks the length, that the encoding is canonical and that the point is not
 * of small order; not that the point is on the curve (a verifier refuses such a key anyway).
 */
export function edwardsKeyProblem(algorithm: 'ed25519' | 'ed448', raw: Buffer): string | null {

    const curve = internals[algorithm];
    const name = algorithm === 'ed25519' ? 'Ed25519' : 'Ed448';
    if (raw.length !== curve.bytes) {
        return `an ${name} public key is ${curve.bytes} octets, not ${raw.length}`;
    }

    // Ed448 uses only the top bit of its last octet; the other seven are zero.
    if (algorithm === 'ed448' && (raw[curve.bytes - 1]! & 0x7f) !== 0) {
        return `the ${name} public key is not canonically encoded (RFC 8032 §5.2.2)`;
    }

    const y = yOf(raw);
    if (y >= curve.p) {
        return `the ${name} public key is not canonically encoded (its y-coordinate is not below p, RFC 8032 §5.${algorithm === 'ed25519' ? 1 : 2}.3)`;
    }

    if (smallOrderYs(algorithm).has(y)) {
        return `the ${name} public key is a point of small order, for which anyone can make signatures that verify; it cannot be a key made by a key generator`;
    }

    return null;
}
