/**
 * A `fetch` that answers through `server.inject()` instead of a socket, so client tests
 * can choose the client address (per-address rate limits) and rewrite what is sent.
 */
import type Hapi from '@hapi/hapi';

export interface InjectFetchOptions {
    readonly remoteAddress?: string;
    /** Rewrites a request body before it reaches the server (an attacker on the path). */
    readonly rewrite?: (body: string) => string;
    /** Sees every exchange (request body, status, answer body). */
    readonly observe?: (exchange: { path: string; request: string | undefined; status: number; response: string }) => void;
}

export function injectFetch(server: Hapi.Server, options: InjectFetchOptions = {}): typeof fetch {

    return async (input, init) => {

        const url = new URL(String(input));
        const original = typeof init?.body === 'string' ? init.body : undefined;
        const payload = original !== undefined && options.rewrite ? options.rewrite(original) : original;
        const res = await server.inject({
            method: (init?.method ?? 'GET') as 'GET',
            url: url.pathname + url.search,
            ...(payload !== undefined ? { payload } : {}),
            headers: (init?.headers ?? {}) as Record<string, string>,
            remoteAddress: options.remoteAddress ?? '127.0.0.1'
        });
        options.observe?.({ path: url.pathname, request: payload, status: res.statusCode, response: res.payload });
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) {
                headers.set(name, String(value));
            }
        }

        return new Response(res.statusCode === 304 ? null : res.payload, { status: res.statusCode, headers });
    };
}
