/**
 * Failure counting with lockout on top of rate-limiter-flexible, whatever backend holds
 * the counters (RateLimiterRedis on Redis, RateLimiterSQLite in the embedded store).
 * An attempt consumes a point before it is checked and a success gives it back; going
 * over `maxFailures` within the window blocks the subject for `lockoutSeconds`.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

import { StoreUnavailable } from '../errors';
import type { FailureLimiter, FailureLimiterOptions } from './types';

export class RateLimiterFailures implements FailureLimiter {

    readonly #limiter: RateLimiterAbstract;
    readonly #options: FailureLimiterOptions;
    readonly #subjectKey: (subject: string) => string;

    constructor(limiter: RateLimiterAbstract, options: FailureLimiterOptions, subjectKey: (subject: string) => string = (subject) => subject) {

        this.#limiter = limiter;
        this.#options = options;
        this.#subjectKey = subjectKey;
    }

    /** rate-limiter-flexible's options for a FailureLimiter. */
    static settings(options: FailureLimiterOptions): { points: number; duration: number; blockDuration: number } {

        return { points: options.maxFailures, duration: options.windowSeconds, blockDuration: options.lockoutSeconds };
    }

    async #call<T>(action: () => Promise<T>): Promise<T> {

        try {
            return await action();
        }
        catch (error) {
            // consume() rejects with a RateLimiterRes when over the limit: that is an answer, not a fault.
            if (error instanceof RateLimiterRes) {
                throw error;
            }

            if (error instanceof StoreUnavailable) {
                throw error;
            }

            throw new StoreUnavailable(`failure limiter "${this.#options.kind}": ${(error as Error).message}`, { cause: error });
        }
    }

    async lockedFor(subject: string): Promise<number> {

        const state = await this.#call(() => this.#limiter.get(this.#subjectKey(subject)));
        return state !== null && state.consumedPoints > this.#options.maxFailures ? Math.max(1, state.msBeforeNext) : 0;
    }

    async attempt(subject: string): Promise<number> {

        try {
            await this.#call(() => this.#limiter.consume(this.#subjectKey(subject)));
            return 0;
        }
        catch (error) {
            if (error instanceof RateLimiterRes) {
                return Math.max(1, error.msBeforeNext);
            }

            throw error;
        }
    }

    async refund(subject: string): Promise<void> {

        await this.#call(() => this.#limiter.reward(this.#subjectKey(subject), 1));
    }

    async reset(subject: string): Promise<void> {

        await this.#call(() => this.#limiter.delete(this.#subjectKey(subject)));
    }
}
