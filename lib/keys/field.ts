/**
 * Arithmetic and encodings shared by the Edwards and Montgomery key checks (edwards.ts,
 * montgomery.ts): modular powers, and the little-endian integers RFC 7748 and RFC 8032 encode.
 */

export function power(base: bigint, exponent: bigint, modulus: bigint): bigint {

    let result = 1n;
    let b = base % modulus;
    let e = exponent;
    while (e > 0n) {
        if (e & 1n) {
            result = result * b % modulus;
        }

        b = b * b % modulus;
        e >>= 1n;
    }

    return result;
}

/** `value` as `bytes` little-endian octets. */
export function toLittleEndian(value: bigint, bytes: number): Buffer {

    return Buffer.from(value.toString(16).padStart(bytes * 2, '0'), 'hex').reverse();
}

/** The integer little-endian `octets` encode (they are not changed). */
export function fromLittleEndian(octets: Buffer): bigint {

    return BigInt(`0x${Buffer.from(octets).reverse().toString('hex')}`);
}
