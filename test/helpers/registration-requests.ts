/**
 * Registration traffic without the client library: entities holding an iks-auth key
 * (written straight to the store), and user-key-signed SOAP requests rendered ahead of
 * time, so fault tests can read raw HTTP statuses and benches can time the server alone.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import * as Http from 'node:http';

import { parsePublicKey } from '../../lib/keys';
import { registrationOf } from '../../lib/store/registration';
import { renderRequest, requestDigest, type OperationContent } from '../../lib/registration/request';
import { signRequestDigest } from '../../lib/registration/signatures';
import { renderEnvelope, SOAP_MEDIA_TYPE } from '../../lib/registration/soap';
import type { Store } from '../../lib/store/types';

export interface Entity {
    readonly name: string;
    readonly authKey: KeyObject;
    readonly authKeyId: string;
}

/** Entities `<prefix>-<i>@example.test`, each with an iks-auth key written straight to the store. */
export async function makeEntities(store: Store, count: number, prefix = 'bench'): Promise<Entity[]> {

    const entities: Entity[] = [];
    for (let i = 0; i < count; ++i) {
        const pair = generateKeyPairSync('ed25519');
        const key = parsePublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
        entities.push({ name: `${prefix}-${i}@example.test`, authKey: pair.privateKey, authKeyId: key.id });
        await store.putRegistrations([registrationOf(`${prefix}-${i}@example.test`, key, ['iks-auth'], Date.now())]);
    }

    return entities;
}

/** A signed SOAP request ready to POST, and what to wait for after its acknowledgement. */
export interface PreparedRequest {
    readonly name: string;
    readonly keyId: string;
    readonly body: string;
}

function signed(entity: Entity, content: OperationContent): string {

    const digest = requestDigest(content);
    const authentication = { method: 'user-key' as const, signer: entity.name, keyId: entity.authKeyId, signature: signRequestDigest(entity.authKey, digest) };
    return renderEnvelope(renderRequest({ ...content, authentication }));
}

function head(name: string): { name: string; timestamp: number; nonce: string } {

    const now = Date.now();
    return { name, timestamp: now - now % 1000, nonce: randomBytes(18).toString('base64url') };
}

/**
 * A user-key-authenticated registration of a fresh Ed25519 key for `entity`, or of
 * `container` as given (text the client library would refuse to send; keyId is then '').
 */
export function registerRequest(entity: Entity, container?: string): PreparedRequest {

    const pem = container ?? generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    return { name: entity.name, keyId: container === undefined ? parsePublicKey(pem).id : '', body: signed(entity, { operation: 'register', ...head(entity.name), container: pem, usage: ['sign'] }) };
}

export function revokeRequest(entity: Entity, keyId: string): PreparedRequest {

    return { name: entity.name, keyId, body: signed(entity, { operation: 'revoke', ...head(entity.name), keyId, reason: 'superseded' }) };
}

/** POSTs a prepared request; resolves with the answer's outcome (`accepted`, …) or throws. */
export async function send(base: string, request: PreparedRequest): Promise<string> {

    const { status, outcome, text } = await post(base, request);
    if (status !== 200 || outcome === undefined) {
        throw new Error(`POST /ikrs/v1 answered ${status}: ${text.slice(0, 300)}`);
    }

    return outcome;
}

const internals = {
    // node:http with kept-alive connections rather than fetch: a load generator on the same
    // machine should spend its CPU on requests, not on undici (about 1 ms per request here).
    agent: new Http.Agent({ keepAlive: true }),
    // What fetch, and so the IKS client, sends: the server pays for compression if it compresses.
    acceptEncoding: 'gzip, deflate'
};

/** POSTs a prepared request; the HTTP status, the answer's outcome if any, and the body. */
export function post(base: string, request: PreparedRequest, timeoutMs = 30_000): Promise<{ status: number; outcome: string | undefined; text: string }> {

    return new Promise((resolve, reject) => {

        const body = Buffer.from(request.body, 'utf8');
        const outgoing = Http.request(new URL(`${base}/ikrs/v1`), {
            method: 'POST',
            agent: internals.agent,
            headers: { 'content-type': `${SOAP_MEDIA_TYPE}; charset=utf-8`, 'content-length': body.length, 'accept-encoding': internals.acceptEncoding }
        }, (response) => {

            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', reject);
            response.on('end', () => {

                if (response.headers['content-encoding'] !== undefined) {
                    return reject(new Error(`POST /ikrs/v1 answered with content-encoding ${response.headers['content-encoding']}`));
                }

                const text = Buffer.concat(chunks).toString('utf8');
                resolve({ status: response.statusCode!, outcome: /<Outcome>([a-z-]+)<\/Outcome>/.exec(text)?.[1], text });
            });
        });
        outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error(`POST /ikrs/v1 did not answer within ${timeoutMs} ms`)));
        outgoing.on('error', reject);
        outgoing.end(body);
    });
}
