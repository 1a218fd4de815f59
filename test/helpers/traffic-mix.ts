/**
 * Mixed traffic for soaks (bench/soak and its CI-sized test): lookups of a name with
 * keys and of one without, user-key registrations, and DNS queries, each from its own
 * closed-loop lanes for a fixed time. Every answer other than the expected one counts as
 * an error, with the first few kept to show.
 */
import { performance } from 'node:perf_hooks';

import { DnsStub } from '../../lib/dns/stub';
import { RrType } from '../../lib/dns/types';
import { nameToUrlForm } from '../../lib/names';
import { post, registerRequest, type Entity } from './registration-requests';

export interface MixOptions {
    readonly base: string;
    readonly dnsPort: number;
    readonly entities: readonly Entity[];
    readonly durationMs: number;
    /** Concurrent lanes per kind of traffic. */
    readonly lanes: { readonly lookup: number; readonly register: number; readonly dns: number };
    /** Pause between two requests of a lane, ms (0: as fast as answers come). */
    readonly pauseMs?: number;
}

export interface KindResult {
    readonly count: number;
    readonly errors: number;
    /** Sorted latencies, ms. */
    readonly latencies: number[];
}

export interface MixResult {
    readonly lookup: KindResult;
    readonly register: KindResult;
    readonly dns: KindResult;
    readonly firstErrors: string[];
}

const internals = {
    dnsQuestions: [['_ikqs._tcp.example.test', RrType.SRV], ['_ikrs._tcp.example.test', RrType.SRV], ['example.test', RrType.DNSKEY], ['missing.example.test', RrType.A]] as const
};

export async function runTrafficMix(options: MixOptions): Promise<MixResult> {

    const firstErrors: string[] = [];
    const deadline = performance.now() + options.durationMs;
    const stub = new DnsStub({ server: { host: '127.0.0.1', port: options.dnsPort }, timeoutMs: 5000 });
    const names = ['alice@example.test', 'nobody@example.test'].map(nameToUrlForm);

    const lane = async (step: (i: number) => Promise<string | null>, into: { count: number; errors: number; latencies: number[] }, offset: number) => {

        for (let i = offset; performance.now() < deadline; ++i) {
            const start = performance.now();
            const problem = await step(i).catch((error: unknown) => String(error));
            into.latencies.push(performance.now() - start);
            ++into.count;
            if (problem !== null) {
                ++into.errors;
                if (firstErrors.length < 5) {
                    firstErrors.push(problem);
                }
            }

            if (options.pauseMs) {
                await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
            }
        }
    };

    const lookup = async (i: number) => {

        const response = await fetch(`${options.base}/ikqs/v1/n/${names[i % 2]}`);
        await response.text();
        return response.status === (i % 2 === 0 ? 200 : 404) ? null : `lookup answered ${response.status}`;
    };

    const register = async (i: number) => {

        const answer = await post(options.base, registerRequest(options.entities[i % options.entities.length]!));
        return answer.status === 200 && answer.outcome === 'accepted' ? null : `registration answered ${answer.status} ${answer.outcome ?? answer.text.slice(0, 200)}`;
    };

    const dns = async (i: number) => {

        const [name, type] = internals.dnsQuestions[i % internals.dnsQuestions.length]!;
        const reply = await stub.query(name, type);
        const expected = name.startsWith('missing') ? 3 : 0;
        return reply.rcode === expected ? null : `DNS ${name} answered rcode ${reply.rcode}`;
    };

    const results = { lookup: { count: 0, errors: 0, latencies: [] as number[] }, register: { count: 0, errors: 0, latencies: [] as number[] }, dns: { count: 0, errors: 0, latencies: [] as number[] } };
    await Promise.all([
        ...Array.from({ length: options.lanes.lookup }, (_, i) => lane(lookup, results.lookup, i)),
        ...Array.from({ length: options.lanes.register }, (_, i) => lane(register, results.register, i)),
        ...Array.from({ length: options.lanes.dns }, (_, i) => lane(dns, results.dns, i))
    ]);

    for (const kind of Object.values(results)) {
        kind.latencies.sort((a, b) => a - b);
    }

    return { ...results, firstErrors };
}

export function percentile(sorted: readonly number[], p: number): number {

    return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]!;
}
