/**
 * The two measurements of bench/register: a closed-loop registration load, and the
 * delay from an acknowledgement to what a lookup serves (not a test).
 */
import { performance } from 'node:perf_hooks';

import { lookupUrl, registerRequest, revokeRequest, send, type Entity, type PreparedRequest } from './harness';

export interface LoadResult {
    readonly accepted: number;
    readonly refused: number;
    readonly errors: number;
    readonly elapsedMs: number;
    readonly latencies: number[];
    readonly firstError?: string;
}

/** `concurrency` senders take prepared requests until they run out or `durationMs` passes. */
export async function gatewayLoad(base: string, prepared: PreparedRequest[], concurrency: number, durationMs: number): Promise<LoadResult> {

    let next = 0;
    let accepted = 0;
    let refused = 0;
    let errors = 0;
    let firstError: string | undefined;
    const latencies: number[] = [];
    const start = performance.now();
    const deadline = start + durationMs;

    const sender = async () => {

        while (next < prepared.length && performance.now() < deadline) {
            const request = prepared[next++]!;
            const sent = performance.now();
            try {
                const outcome = await send(base, request);
                latencies.push(performance.now() - sent);
                outcome === 'accepted' ? ++accepted : ++refused;
                if (outcome !== 'accepted') {
                    firstError ??= `outcome ${outcome}`;
                }
            }
            catch (error) {
                ++errors;
                firstError ??= (error as Error).message;
            }
        }
    };

    await Promise.all(Array.from({ length: concurrency }, sender));
    const elapsedMs = performance.now() - start;
    latencies.sort((a, b) => a - b);
    return { accepted, refused, errors, elapsedMs, latencies, ...(firstError !== undefined ? { firstError } : {}) };
}

/** Polls `url` every 2 ms until `seen(body)`; the time from `since` (ms), or throws after 10 s. */
async function until(url: string, seen: (body: string) => boolean, since: number): Promise<number> {

    for (;;) {
        const body = await (await fetch(url)).text();
        const now = performance.now();
        if (seen(body)) {
            return now - since;
        }

        if (now - since > 10_000) {
            throw new Error(`${url} did not change within 10 s`);
        }

        await new Promise((resolve) => setTimeout(resolve, 2));
    }
}

/**
 * `samples` register-then-revoke rounds, `inFlight` at a time: the delay from the
 * registration's acknowledgement to the key list naming the key, and from the revoke's
 * acknowledgement to the per-key document being the signed revocation.
 */
export async function measureDelays(base: string, entities: readonly Entity[], samples: number, inFlight: number): Promise<{ listed: number[]; revoked: number[] }> {

    const listed: number[] = [];
    const revoked: number[] = [];
    let started = 0;

    const round = async (entity: Entity) => {

        const registration = registerRequest(entity);
        if (await send(base, registration) !== 'accepted') {
            throw new Error(`registration of ${entity.name} refused`);
        }

        const acknowledged = performance.now();
        listed.push(await until(lookupUrl(base, entity.name), (body) => body.includes(`id="${registration.keyId}"`), acknowledged));

        if (await send(base, revokeRequest(entity, registration.keyId)) !== 'accepted') {
            throw new Error(`revocation of ${entity.name} refused`);
        }

        const revokeAcknowledged = performance.now();
        revoked.push(await until(lookupUrl(base, entity.name, registration.keyId), (body) => body.includes('<Status>revoked</Status>'), revokeAcknowledged));
    };

    await Promise.all(Array.from({ length: inFlight }, async () => {

        while (started < samples) {
            await round(entities[started++ % entities.length]!);
        }
    }));

    listed.sort((a, b) => a - b);
    revoked.sort((a, b) => a - b);
    return { listed, revoked };
}
