/**
 * `iks import FILE`: bulk registration by an administrator, as JSON lines
 * `{"name", "key", "usage": [...], "expires"?}`. The file is read once (a pipe
 * works) and every line is checked before anything is written, so a file with a
 * bad line changes nothing (unless --skip-invalid); registrations are written in
 * batches that also enqueue their names, so the running updater publishes them
 * within its poll interval.
 */
import * as Fs from 'node:fs';
import * as Readline from 'node:readline';
import { Readable } from 'node:stream';

import { SingleBar, Presets } from 'cli-progress';
import Joi from 'joi';

import { IksError, InvalidInput } from '../errors';
import { parsePublicKey } from '../keys';
import { parseName } from '../names';
import { isActive, registrationOf } from '../store/registration';
import type { Registration, Store } from '../store/types';
import { isInvalidUtf8, strictUtf8Decoder } from './arguments';
import { describeError, type Output } from './output';

export interface ImportOptions {
    readonly domain: string;
    readonly skipInvalid?: boolean;
    readonly batchSize?: number;
    readonly progress?: boolean;
    readonly now?: () => number;
    /** Keys of more bits are refused, as at registration (config register.maxKeySize); default no bound. */
    readonly maxKeySize?: number;
    /**
     * Active keys a name may have once imported, stored ones included, as at registration
     * (config register.maxKeysPerName); default no bound. The lines over it, in file order, are invalid.
     */
    readonly maxKeysPerName?: number;
}

export interface ImportResult {
    readonly imported: number;
    /** Keys left as they were because they are revoked in the store (a revocation is final). */
    readonly revoked: number;
    /** Valid lines with the name and key of an earlier line: each replaces it (the store keeps one registration per name and key). */
    readonly duplicates: number;
    readonly invalid: ReadonlyArray<{ line: number; reason: string }>;
}

/** A write failed partway: `result` says what was written (and left revoked) before it. */
export class ImportInterrupted extends IksError {
    constructor(readonly result: ImportResult, readonly total: number, cause: unknown) {
        super('IMPORT_INTERRUPTED', `stopped after writing ${result.imported} of ${total} key(s): ${describeError(cause)}`, { cause });
    }
}

const internals = {
    maxLine: 64 * 1024,
    maxInput: 64 * 1024 * 1024,
    maxLines: 100_000,
    exit: { ok: 0, failed: 2 },
    firstUnwritableTime: Date.UTC(10000, 0, 1),
    maxReported: 20,
    // Names whose stored keys are read at once when per-name counts are checked.
    readBatch: 200,
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

/** How `file` is named in messages. */
function sourceName(file: string): string {

    return file === '-' ? 'standard input' : file;
}

/**
 * The lines of `file` that are not blank, numbered, read once: a pipe or FIFO cannot be read
 * again. Every registration is held until all are checked, so the input is refused past
 * maxInput bytes or maxLines lines (which also bounds the longest line readline may hold).
 */
async function* lines(file: string): AsyncGenerator<{ number: number; text: string }> {

    const tooMuch = (what: string) => new InvalidInput('IMPORT_TOO_LARGE', `${sourceName(file)} ${what}; nothing imported: split it into smaller files (each is imported all or nothing)`);
    // "-" is standard input, whatever it is: /dev/stdin cannot be opened when it is a socket (ENXIO).
    const input: Readable = file === '-' ? process.stdin : Fs.createReadStream(file);
    const text = Readable.from(decodedText(input, file, tooMuch));
    const lineReader = Readline.createInterface({ input: text, crlfDelay: Infinity });
    let number = 0;
    let nonBlank = 0;
    try {
        for await (const line of lineReader) {
            number++;
            if (line.trim() === '') {
                continue;
            }

            if (++nonBlank > internals.maxLines) {
                throw tooMuch(`has more than ${internals.maxLines} lines`);
            }

            yield { number, text: line };
        }
    }
    finally {
        // Stopped early (too many lines, or the caller stopped): the reads still pending fail with
        // "premature close", which nobody waits for any more.
        text.on('error', () => {});
        lineReader.close();
        text.destroy();
        input.destroy();
    }
}

/**
 * The text of `input`, decoded as strict UTF-8: invalid bytes are refused rather than read as
 * U+FFFD (which would make different names one). One leading byte order mark is dropped.
 */
async function* decodedText(input: Readable, file: string, tooMuch: (what: string) => Error): AsyncGenerator<string> {

    const decoder = strictUtf8Decoder();
    const decode = (chunk: Buffer | undefined, offset: number) => {

        try {
            return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
        }
        catch (error) {
            if (isInvalidUtf8(error)) {
                throw new InvalidInput('INVALID_ENCODING', `${sourceName(file)} is not valid UTF-8 (at or after byte ${offset}); nothing imported: convert it to UTF-8 (e.g. iconv -t UTF-8)`);
            }

            throw error;
        }
    };

    let size = 0;
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        const offset = size;
        size += bytes.length;
        if (size > internals.maxInput) {
            throw tooMuch(`is larger than ${internals.maxInput / 1024 / 1024} MiB`);
        }

        const text = decode(bytes, offset);
        if (text) {
            yield text;
        }
    }

    const rest = decode(undefined, size);
    if (rest) {
        yield rest;
    }
}

interface Entry {
    readonly line: number;
    readonly registration: Registration;
}

/**
 * The registration of each valid line, one per name and key (the last line of a name and key
 * counts), in line order, and the invalid lines.
 */
async function check(file: string, domain: string, now: number, maxKeySize: number) {

    const entries = new Map<string, Entry>();
    const invalid: Array<{ line: number; reason: string }> = [];
    let duplicates = 0;
    for await (const { number, text } of lines(file)) {
        try {
            const registration = registrationFromLine(text, domain, now);
            if (registration.size > maxKeySize) {
                throw new InvalidInput('IMPORT_LINE', `keys of ${registration.size} bits are larger than the ${maxKeySize} bits this domain accepts (register.maxKeySize)`);
            }

            // The store keeps one registration per name and key id: a repeat replaces, it adds
            // nothing (and moves to its own line, keeping the entries in line order).
            const key = `${registration.name}\n${registration.keyId}`;
            if (entries.has(key)) {
                duplicates++;
                entries.delete(key);
            }

            entries.set(key, { line: number, registration });
        }
        catch (error) {
            if (!(error instanceof InvalidInput)) {
                throw error;
            }

            invalid.push({ line: number, reason: error.message });
        }
    }

    return { entries: [...entries.values()], invalid, duplicates };
}

/**
 * The lines that would give a name more than `maxKeysPerName` active keys, counting its
 * stored active keys the file does not name; the earlier lines of a name (entries come in
 * line order) fill what room is left.
 */
async function overPerNameLimit(entries: readonly Entry[], store: Store, maxKeysPerName: number, now: number): Promise<Array<{ line: number; reason: string }>> {

    const byName = new Map<string, Entry[]>();
    for (const entry of entries) {
        if (isActive(entry.registration, now)) {
            const list = byName.get(entry.registration.name) ?? [];
            list.push(entry);
            byName.set(entry.registration.name, list);
        }
    }

    const names = [...byName.keys()];
    const refused: Array<{ line: number; reason: string }> = [];
    for (let i = 0; i < names.length; i += internals.readBatch) {
        const batch = names.slice(i, i + internals.readBatch);
        const stored = await Promise.all(batch.map((name) => store.getRegistrations(name)));
        batch.forEach((name, j) => {

            const listed = byName.get(name)!;
            const named = new Set(listed.map((entry) => entry.registration.keyId));
            const others = stored[j]!.filter((registration) => !named.has(registration.keyId) && isActive(registration, now)).length;
            for (const entry of listed.slice(Math.max(0, maxKeysPerName - others))) {
                refused.push({ line: entry.line, reason: `${name} would have more than ${maxKeysPerName} active keys (register.maxKeysPerName; ${others} stored, ${listed.length} in this file)` });
            }
        });
    }

    return refused;
}

/**
 * Imports a JSON-lines file into the store. The file is read once and every line checked
 * against one timestamp before anything is written: a bad line (or time passing while a
 * large import is written) can never leave it half done. Rejects with ImportInterrupted,
 * saying how many were written, when a write fails partway.
 */
export async function importFile(file: string, store: Store, options: ImportOptions): Promise<ImportResult> {

    const now = (options.now ?? Date.now)();
    const checked = await check(file, options.domain, now, options.maxKeySize ?? Infinity);
    const { duplicates } = checked;
    const over = options.maxKeysPerName === undefined ? [] : await overPerNameLimit(checked.entries, store, options.maxKeysPerName, now);
    const refusedLines = new Set(over.map((entry) => entry.line));
    const invalid = [...checked.invalid, ...over].sort((a, b) => a.line - b.line);
    const registrations = checked.entries.filter((entry) => !refusedLines.has(entry.line)).map((entry) => entry.registration);
    if (invalid.length > 0 && !options.skipInvalid) {
        return { imported: 0, revoked: 0, duplicates, invalid };
    }

    // Written in batches; each batch also enqueues its names atomically.
    const bar = options.progress ? new SingleBar({ format: 'import [{bar}] {percentage}% {value}/{total} keys', etaBuffer: 1000 }, Presets.shades_classic) : null;
    bar?.start(registrations.length, 0);
    const batchSize = options.batchSize ?? 500;
    let imported = 0;
    let revoked = 0;
    try {
        for (let i = 0; i < registrations.length; i += batchSize) {
            const batch = registrations.slice(i, i + batchSize);
            const unwritten = await store.putRegistrations(batch);
            imported += batch.length - unwritten.length;
            revoked += unwritten.length;
            bar?.update(imported + revoked);
        }
    }
    catch (error) {
        throw new ImportInterrupted({ imported, revoked, duplicates, invalid }, registrations.length, error);
    }
    finally {
        bar?.stop();
    }

    return { imported, revoked, duplicates, invalid };
}

/** `iks import`: imports the file and reports the outcome; resolves with the exit code. */
export async function runImport(file: string, store: Store, options: ImportOptions, io: Output, storeName: string): Promise<number> {

    let outcome: ImportResult;
    let interrupted: ImportInterrupted | null = null;
    try {
        outcome = await importFile(file, store, options);
    }
    catch (error) {
        if (!(error instanceof ImportInterrupted)) {
            throw error;
        }

        interrupted = error;
        outcome = error.result;
    }

    for (const { line, reason } of outcome.invalid.slice(0, internals.maxReported)) {
        io.err(`${sourceName(file)}:${line}: ${reason}`);
    }

    if (outcome.invalid.length > internals.maxReported) {
        io.err(`… and ${outcome.invalid.length - internals.maxReported} more invalid line(s)`);
    }

    if (interrupted) {
        const cause = interrupted.cause;
        const where = cause instanceof IksError && cause.code === 'STORE_UNAVAILABLE' ? ` (store: ${storeName})` : '';
        io.err(`import stopped after writing ${outcome.imported} of ${interrupted.total} key(s)${outcome.revoked > 0 ? ` and leaving ${outcome.revoked} revoked key(s) revoked` : ''}: ${describeError(cause)}${where}; importing the file again is safe (keys already written are written again)`);
        return internals.exit.failed;
    }

    if (outcome.invalid.length > 0 && !options.skipInvalid) {
        io.err(`nothing imported: ${outcome.invalid.length} invalid line(s); fix them or use --skip-invalid`);
        return internals.exit.failed;
    }

    io.out(`imported ${outcome.imported} key(s)${outcome.invalid.length > 0 ? `, skipped ${outcome.invalid.length} invalid line(s)` : ''}${outcome.revoked > 0 ? `, left ${outcome.revoked} revoked key(s) revoked (a revocation is final)` : ''}${outcome.duplicates > 0 ? `, counted ${outcome.duplicates} repeated line(s) once (same name and key: the last one counts)` : ''}`);
    return internals.exit.ok;
}
