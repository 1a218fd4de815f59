/**
 * `GET /ikqs/v1/ksk/{K}`: the public half of every published KSK (paper §5.1 step 4a).
 * During a rollover two are published (lib/keys/ksk-rollover.ts) and the set changes
 * while the gateway runs, so the public files are re-read — on a miss, at most once a
 * second, and at least once a minute so a withdrawn key stops being served.
 */
import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit } from '@hapi/hapi';

import { publishedKsks } from '../../lib/keys';
import { entityTag } from '../../workers/updater/documents';

const internals = {
    keyName: /^ksk-[0-9a-f]{12}$/,
    rescanOnMiss: 1000,
    maxAge: 60_000
};

export class KskDirectory {

    readonly #dataDir: string;
    readonly #domain: string;
    readonly #cacheSeconds: number;
    #pems = new Map<string, string>();
    #scannedAt = 0;

    constructor(settings: { dataDir: string; domain: string; maxCacheAge: number }) {

        this.#dataDir = settings.dataDir;
        this.#domain = settings.domain;
        this.#cacheSeconds = settings.maxCacheAge;
        this.#scan();
    }

    /** The SPKI PEM of published KSK `keyName`, or null. */
    pem(keyName: string): string | null {

        const age = Date.now() - this.#scannedAt;
        if (age > internals.maxAge || (!this.#pems.has(keyName) && internals.keyName.test(keyName) && age > internals.rescanOnMiss)) {
            this.#scan();
        }

        return this.#pems.get(keyName) ?? null;
    }

    readonly handler = (request: Request, h: ResponseToolkit): Lifecycle.ReturnValue => {

        const keyName = request.params.keyName as string;
        const pem = this.pem(keyName);
        if (pem === null) {
            throw Boom.notFound(`no key-signing key named "${keyName.slice(0, 64)}" is published here`);
        }

        // Every lookup answer carries an ETag (ARCHITECTURE.md §3): a client re-checking the KSK gets a 304.
        return h.response(pem).type('application/x-pem-file').etag(entityTag(pem).slice(1, -1)).header('cache-control', `public, max-age=${this.#cacheSeconds}`);
    };

    #scan(): void {

        this.#scannedAt = Date.now();
        try {
            this.#pems = new Map(publishedKsks(this.#dataDir, this.#domain).map((ksk) => [ksk.keyName, ksk.pem]));
        }
        catch (error) {
            // Keep serving the set we have; at registration (empty set) the error must surface.
            if (this.#pems.size === 0) {
                throw error;
            }
        }
    }
}
