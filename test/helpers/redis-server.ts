/**
 * A private redis-server for a test file: free loopback port, temp dir, stopped and
 * removed afterwards. Tests never touch (or flush) a server they did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as Fs from 'node:fs';
import * as Net from 'node:net';
import * as Os from 'node:os';
import * as Path from 'node:path';

import { RedisStore } from '../../lib/store';
import type { Store } from '../../lib/store/types';
import { freePort } from './process';

export interface RedisServer {
    readonly port: number;
    readonly url: string;
    readonly dir: string;
    /** Stops the server and removes its directory. */
    stop(): Promise<void>;
    /** Kills the server abruptly (fault tests); `start()` brings it back on the same port. */
    kill(signal?: NodeJS.Signals): Promise<void>;
    start(): Promise<void>;
}

function answersPing(port: number): Promise<boolean> {

    return new Promise((resolve) => {

        const socket = Net.connect(port, '127.0.0.1');
        socket.setTimeout(500);
        socket.once('connect', () => socket.write('PING\r\n'));
        socket.once('data', (data) => {

            socket.destroy();
            resolve(data.toString().startsWith('+PONG'));
        });
        socket.once('error', () => resolve(false));
        socket.once('timeout', () => {

            socket.destroy();
            resolve(false);
        });
    });
}

export async function startRedisServer(options: { appendonly?: boolean } = {}): Promise<RedisServer> {

    const port = await freePort();
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-redis-'));
    let child: ChildProcess | null = null;

    const start = async () => {

        child = spawn('redis-server', [
            '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
            '--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always'
        ], { stdio: 'ignore' });

        for (let i = 0; i < 200; ++i) {
            if (await answersPing(port)) {
                return;
            }

            if (child.exitCode !== null) {
                break;
            }

            await new Promise((resolve) => setTimeout(resolve, 25));
        }

        throw new Error(`redis-server did not start on port ${port}`);
    };

    const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {

        const running = child;
        if (!running || running.exitCode !== null || running.signalCode !== null) {
            return;
        }

        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill(signal);
        await exited;
    };

    await start();
    return {
        port,
        url: `redis://127.0.0.1:${port}`,
        dir,
        start,
        kill,
        async stop() {

            await kill('SIGTERM');
            Fs.rmSync(dir, { recursive: true, force: true });
        }
    };
}

/** A RedisStore on its own redis-server, for suites that run once per backend. */
export async function redisBackend(): Promise<{ store: Store; cleanup(): Promise<void> }> {

    const redis = await startRedisServer();
    const store = new RedisStore({ url: redis.url, keyPrefix: `iks-test-${process.pid}` });
    return {
        store,
        async cleanup() {

            await store.close();
            await redis.stop();
        }
    };
}
