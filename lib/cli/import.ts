/**
 * `iks import FILE`: bulk registration by an administrator, as JSON lines
 * `{"name", "key", "usage": [...], "expires"?}`. Every line is checked before
 * anything is written, so a file with a bad line changes nothing (unless
 * --skip-invalid); registrations are written in batches that also enqueue their
 * names, so the running updater publishes them within its poll interval.
 */
import * as Fs from 'node:fs';
import * as Readline from 'node:readline';

import { SingleBar, Presets } from 'cli-progress';
import Joi from 'joi';

import { InvalidInput } from '../errors';
import { parsePublicKey } from '../keys';
import { parseName } from '../names';
import { registrationOf } from '../store/registration';
import type { Registration, Store } from '../store/types';

export interface ImportOptions {
    readonly domain: string;
    readonly skipInvalid?: boolean;
    readonly batchSize?: number;
    readonly progress?: boolean;
    readonly now?: () => number;
}

export interface ImportResult {
    readonly imported: number;
    /** Keys left as they were because they are revoked in the store (a revocation is final). */
    readonly revoked: number;
    readonly invalid: ReadonlyArray<{ line: number; reason: string }>;
}

const internals = {
    maxLine: 64 * 1024,
    firstUnwritableTime: Date.UTC(10000, 0, 1),
    maxReported: 20,
    line: Joi.object({
        name: Joi.string().max(600).required(),
        key: Joi.string().max(16 * 1024).required(),
        usage: Joi.array().items(Joi.string().pattern(/^[a-z0-9][a-z0-9-]{0,31}$/)).min(1).max(16).unique().default(['any']),
        expires: Joi.date().iso()
    })
};

/** Parses one JSON line into a registration; throws InvalidInput with the reason. */
export function registrationFromLine(text: string, domain: string, now: number): Registration {

    if (text.length > internals.maxLine) {
        throw new InvalidInput('IMPORT_LINE', `line is longer than ${internals.maxLine} bytes`);
    }

    let json: unknown;
    try {
        json = JSON.parse(text);
    }
    catch {
        throw new InvalidInput('IMPORT_LINE', 'not a JSON object');
    }

    const { error, value } = internals.line.validate(json);
    if (error) {
        throw new InvalidInput('IMPORT_LINE', error.message);
    }

    const name = parseName(value.name);
    if (name.domain !== domain) {
        throw new InvalidInput('IMPORT_LINE', `"${name.name}" is not in the domain ${domain}`);
    }

    const expiresAt = value.expires === undefined ? undefined : (value.expires as Date).getTime();
    if (expiresAt !== undefined && expiresAt <= now) {
        throw new InvalidInput('IMPORT_LINE', `expiry ${(value.expires as Date).toISOString()} is in the past`);
    }

    // Documents state four-digit years (xs:dateTime as IKS renders it).
    if (expiresAt !== undefined && expiresAt >= internals.firstUnwritableTime) {
        throw new InvalidInput('IMPORT_LINE', `expiry ${(value.expires as Date).toISOString()} is after 9999-12-31T23:59:59Z, the last time a document can state`);
    }

    return registrationOf(name.name, parsePublicKey(value.key), value.usage, now, expiresAt);
}

async function* lines(file: string): AsyncGenerator<{ number: number; text: string }> {

    const reader = Readline.createInterface({ input: Fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let number = 0;
    for await (const text of reader) {
        number++;
        if (text.trim() !== '') {
            yield { number, text };
        }
    }
}

/** Imports a JSON-lines file into the store. */
export async function importFile(file: string, store: Store, options: ImportOptions): Promise<ImportResult> {

    const now = options.now ?? Date.now;
    const invalid: Array<{ line: number; reason: string }> = [];
    let total = 0;

    // Pass 1: check every line; nothing is written when one is bad (unless told to skip).
    for await (const { number, text } of lines(file)) {
        total++;
        try {
            registrationFromLine(text, options.domain, now());
        }
        catch (error) {
            if (!(error instanceof InvalidInput)) {
                throw error;
            }

            invalid.push({ line: number, reason: error.message });
        }
    }

    if (invalid.length > 0 && !options.skipInvalid) {
        return { imported: 0, revoked: 0, invalid };
    }

    // Pass 2: write in batches; each batch also enqueues its names atomically.
    const bar = options.progress ? new SingleBar({ format: 'import [{bar}] {percentage}% {value}/{total} keys', etaBuffer: 1000 }, Presets.shades_classic) : null;
    bar?.start(total - invalid.length, 0);
    const batchSize = options.batchSize ?? 500;
    const skip = new Set(invalid.map((entry) => entry.line));
    let batch: Registration[] = [];
    let imported = 0;
    let revoked = 0;
    const write = async () => {

        const unwritten = await store.putRegistrations(batch);
        imported += batch.length - unwritten.length;
        revoked += unwritten.length;
        bar?.update(imported + revoked);
        batch = [];
    };

    for await (const { number, text } of lines(file)) {
        if (skip.has(number)) {
            continue;
        }

        batch.push(registrationFromLine(text, options.domain, now()));
        if (batch.length >= batchSize) {
            await write();
        }
    }

    if (batch.length > 0) {
        await write();
    }

    bar?.stop();
    return { imported, revoked, invalid };
}

export const maxReportedErrors = internals.maxReported;
