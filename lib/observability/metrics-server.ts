/**
 * A bare HTTP endpoint for the metrics of a process without a gateway (`iks updater`):
 * `GET /metrics` only. node:http rather than hapi because the signer should run as
 * little code as it can (it holds the KSK).
 */
import * as Http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IksMetrics } from './metrics';

export interface MetricsServer {
    readonly url: string;
    close(): Promise<void>;
}

export async function startMetricsServer(metrics: IksMetrics, options: { host: string; port: number }): Promise<MetricsServer> {

    const server = Http.createServer((request, response) => {

        if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
            response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
            return;
        }

        metrics.render().then(
            ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
            () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n')
        );
    });

    await new Promise<void>((resolve, reject) => {

        server.once('error', reject);
        server.listen(options.port, options.host, () => resolve());
    });

    const { address, port } = server.address() as AddressInfo;
    return {
        url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`,
        close: () => new Promise((resolve) => server.close(() => resolve()))
    };
}
