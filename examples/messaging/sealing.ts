/**
 * Sealing a message to a recipient's X25519 key (the "what for" of IKS): static-static
 * X25519 ECDH between the sender's and the recipient's published keys, HKDF-SHA256 over
 * the shared secret with a fresh salt, AES-256-GCM. Only the holder of either private key
 * can open it, so a message that opens came from the sender whose key IKS vouched for.
 * The header (names, key ids) is bound to the key and authenticated as AAD.
 */
import { createCipheriv, createDecipheriv, diffieHellman, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

export interface SealedMessage {
    readonly from: string;
    readonly to: string;
    /** Key ids (IKS `id`) of the two keys used, so the recipient knows which to look up. */
    readonly senderKeyId: string;
    readonly recipientKeyId: string;
    /** base64 */
    readonly salt: string;
    readonly iv: string;
    readonly ciphertext: string;
    readonly tag: string;
}

type Header = Pick<SealedMessage, 'from' | 'to' | 'senderKeyId' | 'recipientKeyId'>;

const internals = {
    label: 'iks-example-messaging v1'
};

function context(header: Header): Buffer {

    return Buffer.from(JSON.stringify([internals.label, header.from, header.to, header.senderKeyId, header.recipientKeyId]));
}

function messageKey(ownPrivate: KeyObject, peerPublic: KeyObject, salt: Buffer, header: Header): Buffer {

    const shared = diffieHellman({ privateKey: ownPrivate, publicKey: peerPublic });
    return Buffer.from(hkdfSync('sha256', shared, salt, context(header), 32));
}

export function seal(plaintext: string, header: Header, senderPrivate: KeyObject, recipientPublic: KeyObject): SealedMessage {

    const salt = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', messageKey(senderPrivate, recipientPublic, salt, header), iv);
    cipher.setAAD(context(header));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ...header, salt: salt.toString('base64'), iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

/** Opens a sealed message; throws if it was altered or not sealed between these two keys. */
export function open(message: SealedMessage, recipientPrivate: KeyObject, senderPublic: KeyObject): string {

    const decipher = createDecipheriv('aes-256-gcm', messageKey(recipientPrivate, senderPublic, Buffer.from(message.salt, 'base64'), message), Buffer.from(message.iv, 'base64'));
    decipher.setAAD(context(message));
    decipher.setAuthTag(Buffer.from(message.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(message.ciphertext, 'base64')), decipher.final()]).toString('utf8');
}
