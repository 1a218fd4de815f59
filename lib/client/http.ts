/**
 * Reading HTTP answers, shared by the lookup and registration clients: an answer is
 * refused as soon as it is known to exceed the limit, never buffered whole first, and a
 * body that breaks off (reset, timeout) is a typed error like a connection that failed.
 */
import { TransportError } from '../errors';
import { markLink } from './links';

/** No usable HTTP answer (refused, reset, timeout, body cut short): the next SRV target may do better (RFC 2782). */
export class EndpointUnreachable extends TransportError {}

/**
 * The body of `response` (from `url`) as text, at most `maxBytes` bytes of it. Throws
 * TransportError when it is larger, EndpointUnreachable when it cannot be read to its
 * end; either marked with `link`.
 */
export async function readBody(response: Response, url: URL, maxBytes: number, link: string): Promise<string> {

    const tooLarge = () => markLink(new TransportError(`answer from ${url.pathname} is larger than ${maxBytes} bytes`), link);

    // The sender says how much is coming: no need to read any of it.
    if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
        response.body?.cancel().catch(() => undefined);
        throw tooLarge();
    }

    if (response.body === null) {
        return '';
    }

    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
            chunk = await reader.read();
        }
        catch (error) {
            throw markLink(new EndpointUnreachable(`the answer from ${url.origin}${url.pathname} broke off: ${(error as Error).message}`, { cause: error }), link);
        }

        if (chunk.done) {
            break;
        }

        size += chunk.value.byteLength;
        if (size > maxBytes) {
            // Stops the transfer; not awaited, as a sender that ignores it must not hold us here.
            reader.cancel().catch(() => undefined);
            throw tooLarge();
        }

        chunks.push(chunk.value);
    }

    // As Response.text() decodes: UTF-8, a leading BOM dropped, malformed bytes replaced.
    return new TextDecoder().decode(Buffer.concat(chunks, size));
}
