/**
 * The two measurements of bench/register: a closed-loop registration load, and the
 * delay from an acknowledgement to what a lookup serves (not a test).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as Fs from 'node:fs';
import * as Http from 'node:http';
import * as Os from 'node:os';
import * as Path from 'node:path';
import { performance } from 'node:perf_hooks';

import { lookupUrl, percentile, registerRequest, revokeRequest, send, type Entity, type PreparedRequest } from './harness';

export interface LoadResult {
    /** What generated the load: this process, or wrk. */
    readonly generator: 'node' | 'wrk';
    readonly accepted: number;
    readonly refused: number;
    readonly errors: number;
    readonly elapsedMs: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    /** CPU time the generator used, ms. */
    readonly generatorCpuMs: number;
    readonly firstError?: string;
}

export function hasWrk(): boolean {

    return spawnSync('wrk', ['--version']).error === undefined;
}

/**
 * The same closed-loop load from wrk (one thread, `concurrency` connections), which sends
 * each prepared request once (bench/register/wrk-register.lua). A generator in C takes
 * about a tenth of the CPU this process takes per request, and on a 2-core machine the
 * generator's CPU is taken from the server.
 */
export async function wrkLoad(base: string, prepared: PreparedRequest[], concurrency: number, durationMs: number): Promise<LoadResult> {

    const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-bench-wrk-'));
    try {
        const file = Path.join(work, 'requests');
        Fs.writeFileSync(file, prepared.map((request) => request.body).join('\0'));
        const script = Path.join(__dirname, 'wrk-register.lua');
        // `times` prints the shell's and then its children's CPU time: wrk's.
        const child = spawn('bash', ['-c', 'wrk "$@" && times', 'wrk', '-t1', `-c${concurrency}`, `-d${Math.round(durationMs / 1000)}s`, '--timeout', '30s', '-s', script, base], { env: { ...process.env, IKS_BENCH_REQUESTS: file }, stdio: ['ignore', 'pipe', 'inherit'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => output += chunk.toString());
        const code = await new Promise((resolve) => child.once('exit', resolve));
        const summary = /^IKS-WRK (\{.*\})$/m.exec(output);
        const cpu = /\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(output);
        if (code !== 0 || summary === null || cpu === null) {
            throw new Error(`wrk failed (${code}):\n${output}`);
        }

        const counts = JSON.parse(summary[1]!) as { accepted: number; refused: number; exhausted: number; errors: number; durationUs: number; p50Us: number; p99Us: number };
        if (counts.exhausted > 0) {
            throw new Error(`wrk ran out of prepared requests (${counts.exhausted} more asked): prepare more`);
        }

        return {
            generator: 'wrk',
            accepted: counts.accepted,
            refused: counts.refused,
            errors: counts.errors,
            elapsedMs: counts.durationUs / 1000,
            p50Ms: counts.p50Us / 1000,
            p99Ms: counts.p99Us / 1000,
            generatorCpuMs: (Number(cpu[1]) * 60 + Number(cpu[2]) + Number(cpu[3]) * 60 + Number(cpu[4])) * 1000,
            ...(counts.refused + counts.errors > 0 ? { firstError: `${counts.refused} answers were not "accepted", ${counts.errors} socket errors or timeouts` } : {})
        };
    }
    finally {
        Fs.rmSync(work, { recursive: true, force: true });
    }
}

/** `concurrency` senders in this process take prepared requests until they run out or `durationMs` passes. */
export async function gatewayLoad(base: string, prepared: PreparedRequest[], concurrency: number, durationMs: number): Promise<LoadResult> {

    let next = 0;
    let accepted = 0;
    let refused = 0;
    let errors = 0;
    let firstError: string | undefined;
    const latencies: number[] = [];
    const cpuBefore = process.cpuUsage();
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
    const cpu = process.cpuUsage(cpuBefore);
    latencies.sort((a, b) => a - b);
    return {
        generator: 'node',
        accepted,
        refused,
        errors,
        elapsedMs,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        generatorCpuMs: (cpu.user + cpu.system) / 1000,
        ...(firstError !== undefined ? { firstError } : {})
    };
}

const internals = {
    // Polls over kept-alive node:http connections: fetch (undici) costs this process a few ms
    // per request on a busy 2-core host, which the delays would include.
    pollAgent: new Http.Agent({ keepAlive: true })
};

function getText(url: string): Promise<string> {

    return new Promise((resolve, reject) => {

        Http.get(url, { agent: internals.pollAgent }, (response) => {

            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', reject);
            response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        }).on('error', reject);
    });
}

/** Polls `url` every 2 ms until `seen(body)`; the time from `since` (ms), or throws after 10 s. */
async function until(url: string, seen: (body: string) => boolean, since: number): Promise<number> {

    for (;;) {
        const body = await getText(url);
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
