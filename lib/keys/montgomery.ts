/**
 * X25519 and X448 public keys that no one should be able to register: encodings that are
 * not canonical and points of small order.
 *
 * These are key-agreement keys: a client that finds one in IKS encrypts to it. With a
 * public key of small order, the X25519/X448 shared secret takes one of a handful of values
 * (all zeros for most), whatever the sender's private key, so anyone can read what was
 * encrypted to it. RFC 7748 §6.1 leaves the check to the sender ("MAY check"); libsodium's
 * crypto_scalarmult refuses these keys. A registry refuses them once, for every sender.
 *
 * The points of small order are few. On Curve25519 (cofactor 8, its twist cofactor 4) their
 * u-coordinates are 0, 1, p − 1 and the two of the order-8 points, which are the images
 * u = (1 + y) / (1 − y) of Ed25519's order-8 points (the curves are birationally equivalent).
 * On Curve448 (cofactor 4, its twist cofactor 4) they are 0, 1 and p − 1.
 */
import { smallOrderYs } from './edwards';
import { fromLittleEndian, power, toLittleEndian } from './field';

const internals = {
    x25519: {
        bytes: 32,
        p: (1n << 255n) - 19n,
        small: null as Set<bigint> | null
    },
    x448: {
        bytes: 56,
        p: (1n << 448n) - (1n << 224n) - 1n,
        small: null as Set<bigint> | null
    }
};

function smallOrder25519(): Set<bigint> {

    const p = internals.x25519.p;
    const small = new Set([p - 1n]);
    for (const y of smallOrderYs('ed25519')) {
        // y = 1 is the identity, which has no u-coordinate.
        if (y !== 1n) {
            small.add((1n + y) * power((1n - y + p) % p, p - 2n, p) % p);
        }
    }

    return small;
}

/** The u-coordinates of the curve's points of small order (computed once). */
export function smallOrderUs(algorithm: 'x25519' | 'x448'): ReadonlySet<bigint> {

    const curve = internals[algorithm];
    curve.small ??= algorithm === 'x25519' ? smallOrder25519() : new Set([0n, 1n, curve.p - 1n]);
    return curve.small;
}

/** The canonical encodings of the points of small order (for tests and audits). */
export function smallOrderMontgomeryEncodings(algorithm: 'x25519' | 'x448'): Buffer[] {

    const { bytes } = internals[algorithm];
    return [...smallOrderUs(algorithm)].map((u) => toLittleEndian(u, bytes));
}

/**
 * Why an X25519 or X448 public key (its raw RFC 7748 encoding) must not be used, or null
 * when it may: the length, a canonical encoding (u below p; for X25519 also the top bit
 * clear, which receivers mask and key generators never set) and not of small order.
 */
export function montgomeryKeyProblem(algorithm: 'x25519' | 'x448', raw: Buffer): string | null {

    const curve = internals[algorithm];
    const name = algorithm === 'x25519' ? 'X25519' : 'X448';
    if (raw.length !== curve.bytes) {
        return `an ${name} public key is ${curve.bytes} octets, not ${raw.length}`;
    }

    const u = fromLittleEndian(raw);
    if (u >= curve.p) {
        return `the ${name} public key is not canonically encoded (its u-coordinate is not below p${algorithm === 'x25519' ? ' or its top bit is set' : ''}, RFC 7748 §5)`;
    }

    if (smallOrderUs(algorithm).has(u)) {
        return `the ${name} public key is a point of small order, with which every shared secret is predictable; it cannot be a key made by a key generator`;
    }

    return null;
}
