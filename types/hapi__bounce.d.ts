// @hapi/bounce ships no type declarations; these cover the calls this project makes.
declare module '@hapi/bounce' {
    type ErrorType = 'system' | 'boom' | Function | object;

    interface Options {
        decorate?: object;
        override?: Error;
        return?: boolean;
    }

    /** Throws `err` again if it matches `types` (e.g. 'system': TypeError, RangeError…). */
    export function rethrow(err: unknown, types: ErrorType | ErrorType[], options?: Options): void;
    /** Throws `err` unless it matches `types`. */
    export function ignore(err: unknown, types: ErrorType | ErrorType[], options?: Options): void;
    export function isSystem(err: unknown): boolean;
    export function isBoom(err: unknown): boolean;
}
