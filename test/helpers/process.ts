/**
 * Runs the real `iks` command (TypeScript sources through ts-node) as a child
 * process, as a user would, with its own data dir and free ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as Fs from 'node:fs';
import * as Net from 'node:net';
import * as Path from 'node:path';

export const iksBin = Path.join(__dirname, '..', '..', 'bin', 'iks.js');

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {

    return new Promise((resolve, reject) => {

        const server = Net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {

            const { port } = server.address() as Net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

export interface RunningProcess {
    readonly child: ChildProcess;
    output(): string;
    /** Resolves when the output matches, rejects if the process exits first or after `timeout` ms. */
    waitFor(pattern: RegExp, timeout?: number): Promise<string>;
    stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startIks(args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): RunningProcess {

    const child = spawn(process.execPath, [iksBin, ...args], { env: { ...process.env, IKS_FROM_SOURCE: '1', ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const listeners = new Set<() => void>();
    const collect = (chunk: Buffer) => {

        output += chunk.toString();
        listeners.forEach((listener) => listener());
    };

    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {

        listeners.forEach((listener) => listener());
        resolve(code);
    }));

    return {
        child,
        output: () => output,
        waitFor(pattern, timeout = 60_000) {

            return new Promise((resolve, reject) => {

                const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; output:\n${output}`)), timeout);
                const check = () => {

                    const match = pattern.exec(output);
                    if (match) {
                        return done(null, match[0]);
                    }

                    if (child.exitCode !== null) {
                        done(new Error(`process exited with ${child.exitCode} before ${pattern}; output:\n${output}`));
                    }
                };

                const done = (error: Error | null, value?: string) => {

                    clearTimeout(timer);
                    listeners.delete(check);
                    error ? reject(error) : resolve(value!);
                };

                listeners.add(check);
                check();
            });
        },
        async stop(signal = 'SIGTERM') {

            if (child.exitCode === null) {
                child.kill(signal);
            }

            return exited;
        }
    };
}

/** Runs `iks ...` to completion. */
export function runIks(args: readonly string[], env: NodeJS.ProcessEnv, input?: string): { status: number | null; stdout: string; stderr: string } {

    const result = spawnSync(process.execPath, [iksBin, ...args], { env: { ...process.env, IKS_FROM_SOURCE: '1', ...env }, input, encoding: 'utf8', timeout: 120_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}


/** The live child processes of `pid` (Linux /proc): a cluster primary's workers. */
export function childProcesses(pid: number): number[] {

    return Fs.readdirSync(`/proc/${pid}/task`)
        .flatMap((task) => Fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(' '))
        .filter((entry) => entry !== '')
        .map(Number);
}
