// Shared helpers of the dns-authority tests (no lab script).
import * as ChildProcess from 'node:child_process';
import * as Dgram from 'node:dgram';
import * as Net from 'node:net';

/**
 * Runs dig or delv against the test server; resolves with stdout and stderr together.
 * Asynchronous on purpose: the server under test shares this process's event loop.
 */
export function tool(command: 'dig' | 'delv', port: number, args: string[], server = '127.0.0.1'): Promise<string> {

    return new Promise((resolve) => {
        ChildProcess.execFile(command, [`@${server}`, '-p', String(port), ...args], { encoding: 'utf8', timeout: 20_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
    });
}

/** Sends one datagram and waits for one answer (null after `timeoutMs`). */
export function udpExchange(port: number, message: Buffer, timeoutMs = 1000): Promise<Buffer | null> {

    return new Promise((resolve) => {
        const socket = Dgram.createSocket('udp4');
        const timer = setTimeout(() => {
            socket.close();
            resolve(null);
        }, timeoutMs);
        socket.once('message', (reply) => {
            clearTimeout(timer);
            socket.close();
            resolve(reply);
        });
        socket.send(message, port, '127.0.0.1');
    });
}

/** Writes raw octets on a TCP connection; resolves with everything read until the server closes or `timeoutMs`. */
export function tcpExchange(port: number, octets: Buffer, timeoutMs = 1000): Promise<{ data: Buffer; closed: boolean }> {

    return new Promise((resolve) => {
        const chunks: Buffer[] = [];
        const socket = Net.connect(port, '127.0.0.1', () => socket.write(octets));
        const finish = (closed: boolean) => {
            clearTimeout(timer);
            socket.destroy();
            resolve({ data: Buffer.concat(chunks), closed });
        };

        const timer = setTimeout(() => finish(false), timeoutMs);
        socket.on('data', (chunk) => chunks.push(chunk));
        socket.on('close', () => finish(true));
        socket.on('error', () => {});
    });
}

export function framed(...messages: Buffer[]): Buffer {

    return Buffer.concat(messages.flatMap((message) => [Buffer.from([message.length >> 8, message.length & 0xff]), message]));
}
