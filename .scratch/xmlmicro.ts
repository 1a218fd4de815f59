import { generateKeyPairSync } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parsePublicKey } from '../lib/keys';
import { registerRequest } from '../test/helpers/registration-requests';
import { parseXml, screenXml } from '../lib/xml/parse';
import { readEnvelope } from '../lib/registration/soap';
import { readRequest } from '../lib/registration/request';
function time(label: string, n: number, fn: (i: number) => unknown) {
    for (let i = 0; i < 3000; i++) fn(i);
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    console.log(label.padEnd(40), (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(1), 'us');
}
const pair = generateKeyPairSync('ed25519');
const key = parsePublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
const entity = { name: 'bench-1@example.test', authKey: pair.privateKey, authKeyId: key.id };
const reqs = Array.from({ length: 2000 }, () => registerRequest(entity).body);
console.log(reqs[0]);
const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', allowBooleanAttributes: false, parseTagValue: false, parseAttributeValue: false, trimValues: false, processEntities: false, htmlEntities: false, commentPropName: '#comment', cdataPropName: '#cdata', ignoreDeclaration: false, ignorePiTags: false });
for (let r = 0; r < 2; r++) {
time('screen', 20000, (i) => screenXml(reqs[i % 2000]!));
time('validate', 20000, (i) => XMLValidator.validate(reqs[i % 2000]!, { allowBooleanAttributes: false }));
time('fxp parse', 20000, (i) => parser.parse(reqs[i % 2000]!));
time('parseXml', 20000, (i) => parseXml(reqs[i % 2000]!));
const els = reqs.map((r) => readEnvelope(r, 65536));
time('readEnvelope', 20000, (i) => readEnvelope(reqs[i % 2000]!, 65536));
time('readRequest', 20000, (i) => readRequest(els[i % 2000]!));
}
