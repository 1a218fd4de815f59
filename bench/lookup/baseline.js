'use strict';

// The ceilings a hapi plugin works under: the same document served from memory by an
// empty hapi route (no store, no name parsing) and by bare node:http, one process.
//   node bench/lookup/baseline.js <document> <hapiPort> <httpPort>
const Fs = require('node:fs');
const Http = require('node:http');

const Hapi = require('@hapi/hapi');

const [file, hapiPort, httpPort] = process.argv.slice(2);
const body = Fs.readFileSync(file);
const etag = '"baseline"';

(async () => {

    const server = Hapi.server({ host: '127.0.0.1', port: Number(hapiPort) });
    server.route({ method: 'GET', path: '/ikqs/v1/n/{name}', handler: (request, h) => h.response(body).type('application/xml; charset=utf-8').etag('baseline').header('cache-control', 'public, max-age=300') });
    await server.start();

    Http.createServer((request, response) => {

        response.writeHead(200, { 'content-type': 'application/xml; charset=utf-8', etag, 'cache-control': 'public, max-age=300' });
        response.end(body);
    }).listen(Number(httpPort), '127.0.0.1');
})();
