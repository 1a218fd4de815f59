/**
 * SRV target selection (RFC 2782, "Usage rules"): the lowest priority first; within a
 * priority, a weighted random order in which weight-0 records are rarely first.
 */
import type { SrvData } from '../dns/rdata';

/** A uniform random number in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * Picks the target to contact next among `candidates` (RFC 2782): among the lowest
 * priority, weight-0 records first, then a uniform number in [0, sum of weights]
 * selects the first record whose running weight sum reaches it.
 */
export function selectSrvTarget<T extends SrvData>(candidates: readonly T[], random: Random = Math.random): T {

    if (candidates.length === 0) {
        throw new RangeError('selectSrvTarget needs at least one SRV record');
    }

    const priority = Math.min(...candidates.map((record) => record.priority));
    const group = candidates.filter((record) => record.priority === priority);
    const ordered = [...group.filter((record) => record.weight === 0), ...group.filter((record) => record.weight > 0)];
    const sum = ordered.reduce((total, record) => total + record.weight, 0);
    const pick = Math.min(Math.floor(random() * (sum + 1)), sum);
    let running = 0;
    for (const record of ordered.slice(0, -1)) {
        running += record.weight;
        if (running >= pick) {
            return record;
        }
    }

    // The last running sum is the whole sum, which every pick reaches.
    return ordered[ordered.length - 1]!;
}

/** Every target in the order to try them: selectSrvTarget applied until none is left. */
export function orderSrvTargets<T extends SrvData>(records: readonly T[], random: Random = Math.random): T[] {

    const remaining = [...records];
    const ordered: T[] = [];
    while (remaining.length > 0) {
        const next = selectSrvTarget(remaining, random);
        remaining.splice(remaining.indexOf(next), 1);
        ordered.push(next);
    }

    return ordered;
}
