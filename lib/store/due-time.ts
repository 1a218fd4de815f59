/**
 * A queue time (enqueue's and ack's due time, fail's retry time) must be a finite number of
 * ms. NaN or ±Infinity never reaches a store: Redis refuses NaN halfway through a script (the
 * lease gone, the name not queued again: it silently leaves the queue), SQLite stores NaN as
 * NULL, and Infinity would park a name for ever.
 */
export function assertDueTime(operation: string, dueAt: number): void {

    if (typeof dueAt !== 'number' || !Number.isFinite(dueAt)) {
        throw new RangeError(`store ${operation}: the due time must be a finite number of ms, not ${String(dueAt)}`);
    }
}
