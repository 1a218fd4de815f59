// sodium-native (libsodium bindings) ships no type declarations; this covers the one call
// this project makes (lib/keys/ed25519.ts).
declare module 'sodium-native' {
    /** libsodium crypto_sign_verify_detached: a 64-byte signature, a 32-byte public key. */
    export function crypto_sign_verify_detached(signature: Buffer, message: Buffer, publicKey: Buffer): boolean;
}
