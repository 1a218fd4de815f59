/**
 * Directory creation that always terminates. Node 20's `mkdirSync(..., { recursive: true })`
 * spins forever where a parent exists but refuses children with ENOENT (e.g. `/proc/x`),
 * which would hang start-up on a bad IKS_DATA_DIR instead of failing with a message.
 */
import * as Fs from 'node:fs';
import * as Path from 'node:path';

/**
 * Creates `dir` and any missing parents, one level at a time. A directory created
 * here gets exactly `mode` (not filtered by the umask); parents get the default.
 * An existing directory is left as it is.
 */
export function makeDirectory(dir: string, mode?: number): void {

    try {
        Fs.mkdirSync(dir, { mode: mode ?? 0o777 });
    }
    catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') {
            if (!Fs.statSync(dir).isDirectory()) {
                throw new Error(`${dir} exists and is not a directory`);
            }

            return;
        }

        const parent = Path.dirname(dir);
        if (code !== 'ENOENT' || parent === dir) {
            throw err;
        }

        makeDirectory(parent);
        // A second ENOENT here means the file system refuses the name: thrown, not retried.
        Fs.mkdirSync(dir, { mode: mode ?? 0o777 });
    }

    if (mode !== undefined) {
        Fs.chmodSync(dir, mode);
    }
}
