/**
 * Budgets of the fuzz suites. CI runs a small, fixed-seed budget so a red run is
 * reproducible; `npm run fuzz` sets IKS_FUZZ_RUNS high and leaves the seed random
 * (fast-check prints the seed and the shrunk counterexample of any failure).
 */
import type * as fc from 'fast-check';

export function fuzzParameters(ciRuns: number): fc.Parameters<unknown> {

    const runs = Number.parseInt(process.env.IKS_FUZZ_RUNS ?? '', 10);
    const seed = Number.parseInt(process.env.IKS_FUZZ_SEED ?? '', 10);
    if (Number.isSafeInteger(runs) && runs > 0) {
        return { numRuns: runs, ...(Number.isSafeInteger(seed) ? { seed } : {}) };
    }

    return { numRuns: ciRuns, seed: Number.isSafeInteger(seed) ? seed : 20261126 };
}
