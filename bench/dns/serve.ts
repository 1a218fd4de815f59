// Serves <dir>/zone.signed with the dns-authority plugin on 127.0.0.1:<port> until killed.
import * as Path from 'node:path';

import * as Hapi from '@hapi/hapi';

import { plugin } from '../../plugins/dns-authority';

const main = async () => {

    const server = Hapi.server();
    await server.register({ plugin, options: { zoneFile: Path.join(process.argv[2]!, 'zone.signed'), port: Number(process.argv[3]) } });
    await server.start();
    process.stdout.write('ready\n');
    process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));
};

main().catch((err) => {

    console.error(err);
    process.exit(1);
});
