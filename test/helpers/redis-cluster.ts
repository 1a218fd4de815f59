/**
 * A private 3-master Redis Cluster for a test file (ARCHITECTURE.md §4): three
 * redis-server processes on free loopback ports (and free cluster-bus ports), joined with
 * `redis-cli --cluster create … --cluster-replicas 0`, stopped and removed afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as Fs from 'node:fs';
import * as Os from 'node:os';
import * as Path from 'node:path';

import { RedisStore } from '../../lib/store';
import type { Store } from '../../lib/store/types';
import { freePort } from './process';

export interface RedisCluster {
    readonly ports: readonly number[];
    /** A seed node URL; the store discovers the other masters from it. */
    readonly url: string;
    stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function clusterState(port: number): string {

    const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info'], { encoding: 'utf8', timeout: 5000 });
    return /cluster_state:(\w+)/.exec(result.stdout ?? '')?.[1] ?? 'down';
}

function ping(port: number): boolean {

    return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { encoding: 'utf8', timeout: 5000 }).stdout?.trim() === 'PONG';
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'iks-cluster-'));
    const ports: number[] = [];
    const children: ChildProcess[] = [];
    const stop = async () => {

        await Promise.all(children.map((child) => new Promise((resolve) => {

            if (child.exitCode !== null || child.signalCode !== null) {
                return resolve(null);
            }

            child.once('exit', resolve);
            child.kill('SIGTERM');
        })));
        Fs.rmSync(dir, { recursive: true, force: true });
    };

    try {
        for (let i = 0; i < masters; ++i) {
            const port = await freePort();
            // The bus port is given explicitly: port + 10000 need not be free (or valid).
            const busPort = await freePort();
            ports.push(port);
            const nodeDir = Path.join(dir, String(port));
            Fs.mkdirSync(nodeDir);
            children.push(spawn('redis-server', [
                '--port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir, '--save', '', '--appendonly', 'no',
                '--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'
            ], { stdio: 'ignore' }));
        }

        for (const port of ports) {
            for (let i = 0; i < 200 && !ping(port); ++i) {
                await sleep(25);
            }
        }

        const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 });
        if (created.status !== 0) {
            throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
        }

        for (let i = 0; i < 400 && !ports.every((port) => clusterState(port) === 'ok'); ++i) {
            await sleep(25);
        }

        if (!ports.every((port) => clusterState(port) === 'ok')) {
            throw new Error('the Redis Cluster did not reach cluster_state:ok');
        }
    }
    catch (error) {
        await stop();
        throw error;
    }

    return { ports, url: `redis://127.0.0.1:${ports[0]}`, stop };
}

/** A RedisStore on its own 3-master cluster, for suites that run once per backend. */
export async function redisClusterBackend(): Promise<{ store: Store; cleanup(): Promise<void> }> {

    const cluster = await startRedisCluster();
    const store = new RedisStore({ url: cluster.url, cluster: true, keyPrefix: `iks-test-${process.pid}` });
    return {
        store,
        async cleanup() {

            await store.close();
            await cluster.stop();
        }
    };
}
