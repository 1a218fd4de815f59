import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import * as Fs from 'node:fs';
import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';
import type Hapi from '@hapi/hapi';

import { IksClient, type Commitment } from '../../../lib/client';
import { RegistrationClient, type Credentials, type RegistrationClientOptions } from '../../../lib/client/registration';
import { InvalidKey, RegistrationRefused, SoapFaultReceived, UnexpectedDocument } from '../../../lib/errors';
import { createGateway } from '../../../lib/gateway';
import { loadDomainPublicKey, parsePublicKey } from '../../../lib/keys';
import { registrationOf } from '../../../lib/store/registration';
import { hashPassword } from '../../../lib/registration/password';
import { renderAssertion, renderRequest } from '../../../lib/registration/request';
import { signAssertion } from '../../../lib/registration/signatures';
import { readAnswerEnvelope, renderEnvelope } from '../../../lib/registration/soap';
import { nameToUrlForm } from '../../../lib/names';
import type { Store } from '../../../lib/store/types';
import { envelopeSchemaPath, schemaPath } from '../../../lib/xml';
import type { KeyDocument, RegistrationAnswerDocument } from '../../../lib/xml/types';
import { verifyDocument } from '../../../lib/xmldsig';
import { createUpdater } from '../../../workers/updater';
import { makeDomain, runTool, tempFile, type TestDomain } from '../../helpers/domain';
import { injectFetch, type InjectFetchOptions } from '../../helpers/inject-fetch';
import { makeEntities, registerRequest, revokeRequest } from '../../helpers/registration-requests';

const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;
const keyIdOf = (key: KeyObject) => parsePublicKey(pem(key)).id;

/** Registration over SOAP end to end (client → gateway → store → updater → lookup), once per store backend. */
export function registrationSuite(lab: ReturnType<typeof Lab.script>, label: string, makeStore?: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {

    const { describe, it, before, after } = lab;

    describe(`iks-register (${label} store)`, () => {

        let domain: TestDomain;
        let server: Hapi.Server;
        let release: () => Promise<void> = async () => {};
        let commitment: Commitment;
        let kskName: string;
        const passwords = new Map<string, string>();
        const logs: string[] = [];
        const sso = generateKeyPairSync('ec', { namedCurve: 'P-256' });

        const client = (fetchOptions: InjectFetchOptions = {}, overrides: Partial<RegistrationClientOptions> = {}) => new RegistrationClient({
            baseUrl: 'http://iks.example.test',
            commitmentFor: async (keyName) => keyName === kskName ? commitment : {},
            fetch: injectFetch(server, fetchOptions),
            ...overrides
        });

        const lookup = () => new IksClient({ baseUrl: 'http://iks.example.test', commitmentFor: async (keyName) => keyName === kskName ? commitment : {}, fetch: injectFetch(server) });
        const publish = () => createUpdater(domain.config, domain.store).drain();
        const addUser = async (name: string) => {

            const password = `pw-${name}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
            passwords.set(name, password);
            // A cheap scrypt cost keeps the suite fast; the format and the check are the real ones.
            await domain.store.putUser({ name, passwordHash: await hashPassword(password, { N: 1024, r: 8, p: 1 }), disabled: false, createdAt: Date.now() });
            return { password, user: name } satisfies Credentials;
        };

        const newKey = () => generateKeyPairSync('ed25519');
        const refusal = async (promise: Promise<unknown>) => {

            const error = await expect(promise).to.reject(RegistrationRefused);
            return error as RegistrationRefused;
        };

        before(async () => {

            const backend = makeStore ? await makeStore() : undefined;
            release = backend?.cleanup ?? release;
            domain = await makeDomain({
                ...(backend ? { store: backend.store } : {}),
                env: { IKS_DNS_ENABLED: 'false', IKS_REGISTER_MAX_KEYS_PER_NAME: '3', IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME: '8', IKS_REGISTER_MAX_KEY_SIZE: '3072', IKS_REGISTER_PASSWORD_FAILURES_PER_ENTITY: '3', IKS_REGISTER_PASSWORD_FAILURES_PER_ADDRESS: '5' }
            });
            await domain.store.enqueue([domain.domain]);
            await publish();
            server = await createGateway(domain.config, { store: domain.store, port: 0 });
            server.events.on('log', (event) => logs.push(JSON.stringify(event)));
            server.events.on({ name: 'request', channels: ['app', 'error', 'internal'] }, (_request, event) => logs.push(JSON.stringify(event), String((event.error as Error | undefined)?.stack ?? '')));
            const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
            kskName = ksk.keyName;
            commitment = { sha256: createHash('sha256').update(ksk.spki).digest('hex') };

            // The administrator's certifying key for third-party assertions (iks import in practice).
            await domain.store.putRegistrations([registrationOf('sso@example.test', parsePublicKey(pem(sso.publicKey)), ['iks-certify'], Date.now())]);
        });

        after(async () => {

            await server?.stop();
            await domain?.cleanup();
            await release();
        });

        it('registers a key with a password and publishes it after the updater runs', async () => {

            const credentials = await addUser('alice@example.test');
            const key = newKey();
            const receipt = await client().register('alice@example.test', { container: pem(key.publicKey), usage: ['sign'] }, credentials);
            expect(receipt.answer.outcome).to.equal('accepted');
            expect(receipt.answer.keyId).to.equal(keyIdOf(key.publicKey));
            expect(receipt.answer.state).to.equal('active');
            expect(receipt.links.map((link) => link.link)).to.equal(['query-service', 'ksk', 'enc', 'registration-service', 'rsk', 'answer']);

            await publish();
            const found = await lookup().lookup('alice@example.test');
            expect(found.keys.map((listed) => listed.id)).to.include(keyIdOf(key.publicKey));
        });

        it('answers with an envelope that xmllint validates and a document xmlsec1 verifies with the RSK', async () => {

            const credentials = await addUser('carol@example.test');
            let answer = '';
            await client({ observe: (exchange) => {

                answer = exchange.path === '/ikrs/v1' ? exchange.response : answer;
            } }).register('carol@example.test', { container: pem(newKey().publicKey), usage: ['sign', 'encrypt'], expiresAt: Date.now() + 86_400_000 }, credentials);

            const envelopeFile = tempFile('answer.xml', answer);
            const envelopeValid = runTool('xmllint', ['--noout', '--schema', envelopeSchemaPath, envelopeFile]);
            expect(envelopeValid.status, envelopeValid.output).to.equal(0);

            const { document } = readAnswerEnvelope(answer, 1 << 20) as { document: string };
            const documentFile = tempFile('document.xml', document);
            const valid = runTool('xmllint', ['--noout', '--schema', schemaPath, documentFile]);
            expect(valid.status, valid.output).to.equal(0);
            const rsk = Path.join(domain.dataDir, domain.domain, 'public', 'rsk.pem');
            const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', rsk, documentFile]);
            expect(verified.status, verified.output).to.equal(0);
            const ksk = Path.join(domain.dataDir, domain.domain, 'public', 'ksk.pem');
            expect(runTool('xmlsec1', ['--verify', '--pubkey-pem', ksk, documentFile]).status).to.not.equal(0);
        });

        it('does not compress its answers, while the host\'s other routes still do', async () => {

            const [entity] = await makeEntities(domain.store, 1, 'gzip');
            const headers = { 'content-type': 'application/soap+xml; charset=utf-8', 'accept-encoding': 'gzip, deflate' };
            const answer = await server.inject({ method: 'POST', url: '/ikrs/v1', payload: registerRequest(entity!).body, headers });
            expect(answer.statusCode).to.equal(200);
            expect(answer.payload).to.contain('<Outcome>accepted</Outcome>');
            // Long enough that hapi would compress it (minBytes 1024) if the route let it.
            expect(answer.rawPayload.length).to.be.above(1024);
            expect(answer.headers['content-encoding']).to.not.exist();

            const published = await server.inject({ method: 'GET', url: '/ikqs/v1/rsk', headers: { 'accept-encoding': 'gzip' } });
            expect(published.statusCode).to.equal(200);
            expect(published.headers['content-encoding']).to.equal('gzip');
        });

        it('answers a wrong password with an RSK-signed answer listing the accepted methods', async () => {

            await addUser('dave@example.test');
            let answer = '';
            const error = await refusal(client({ observe: (exchange) => {

                answer = exchange.path === '/ikrs/v1' ? exchange.response : answer;
            } }).register('dave@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, { password: 'not-the-password' }));
            expect(error.code).to.equal('AUTHENTICATION_FAILED');
            expect(error.acceptedMethods).to.equal(['password', 'user-key', 'assertion']);

            const { document } = readAnswerEnvelope(answer, 1 << 20) as { document: string };
            const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', Path.join(domain.dataDir, domain.domain, 'public', 'rsk.pem'), tempFile('refused.xml', document)]);
            expect(verified.status, verified.output).to.equal(0);
            expect(document).to.contain('<AcceptedMethod>user-key</AcceptedMethod>');
        });

        it('refuses a password ciphertext moved onto a different request', async () => {

            const credentials = await addUser('erin@example.test');
            let captured = '';
            await client({ observe: (exchange) => {

                captured = exchange.request ?? captured;
            } }).listMyKeys('erin@example.test', credentials);
            const stolen = /<Password [^>]*>[^<]*<\/Password>/.exec(captured)![0];

            // The attacker's own request (another key, another nonce) with the captured ciphertext.
            let answered = '';
            const attacker = client({ rewrite: (body) => body.replace(/<Password [^>]*>[^<]*<\/Password>/, stolen), observe: (exchange) => {

                answered = exchange.path === '/ikrs/v1' ? exchange.response : answered;
            } });
            await expect(attacker.register('erin@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, { password: 'whatever' })).to.reject(UnexpectedDocument, /about another request/);
            expect(answered).to.contain('<Outcome>authentication-failed</Outcome>');
            expect(answered).to.contain('bound to another request');
        });

        it('tells a client that a refusal is of a copy of its request whose authentication was spoiled on the way', async () => {

            // An attacker on the path flips one character of the ciphertext: the refusal is signed
            // and its request digest is the genuine request's, but the answer names the
            // authentication too (answeredDigest), so the client does not believe it.
            const credentials = await addUser('gail@example.test');
            let answered = '';
            const spoil = (body: string) => body.replace(/(<Password [^>]*>)(.)/, (_all, head: string, first: string) => `${head}${first === 'A' ? 'B' : 'A'}`);
            const spoiled = client({ rewrite: spoil, observe: (exchange) => {

                answered = exchange.path === '/ikrs/v1' ? exchange.response : answered;
            } });
            await expect(spoiled.listMyKeys('gail@example.test', credentials)).to.reject(UnexpectedDocument, /about another request/);
            expect(answered).to.contain('<Outcome>authentication-failed</Outcome>');
            // The genuine request, as sent, is still answered and believed.
            expect((await client().listMyKeys('gail@example.test', credentials)).answer.outcome).to.equal('accepted');
        });

        it('refuses a replayed request with a SOAP Fault', async () => {

            const credentials = await addUser('frank@example.test');
            let captured = '';
            await client({ observe: (exchange) => {

                captured = exchange.request ?? captured;
            } }).register('frank@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, credentials);

            const replay = await server.inject({ method: 'POST', url: '/ikrs/v1', payload: captured, headers: { 'content-type': 'application/soap+xml' } });
            expect(replay.statusCode).to.equal(400);
            const fault = readAnswerEnvelope(replay.payload, 1 << 20);
            expect(fault).to.equal({ fault: { code: 'Sender', subcode: 'ReplayedRequest', reason: 'the nonce of this request was already used for frank@example.test; every request needs a new nonce' } });
            const valid = runTool('xmllint', ['--noout', '--schema', envelopeSchemaPath, tempFile('fault.xml', replay.payload)]);
            expect(valid.status, valid.output).to.equal(0);
        });

        it('refuses a request whose timestamp is outside the window', async () => {

            const credentials = await addUser('gina@example.test');
            const old = client({ rewrite: (body) => body.replace(/<Timestamp>[^<]*<\/Timestamp>/, `<Timestamp>${new Date(Date.now() - 3600_000).toISOString().slice(0, 19)}Z</Timestamp>`) });
            const error = await expect(old.listMyKeys('gina@example.test', credentials)).to.reject(SoapFaultReceived);
            expect((error as SoapFaultReceived).subcode).to.equal('StaleRequest');
        });

        it('registers a second key authenticated by the first (user key), and refuses it for another entity', async () => {

            const credentials = await addUser('henry@example.test');
            const auth = generateKeyPairSync('ec', { namedCurve: 'P-256' });
            await client().register('henry@example.test', { container: pem(auth.publicKey), usage: ['iks-auth'] }, credentials);

            for (const type of ['ed25519', 'rsa'] as const) {
                const signer = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
                await client().register('henry@example.test', { container: pem(signer.publicKey), usage: ['iks-auth', 'sign'] }, { authKey: auth.privateKey });
                const second = newKey();
                const receipt = await client().register('henry@example.test', { container: pem(second.publicKey), usage: ['sign'] }, { authKey: signer.privateKey });
                expect(receipt.answer.keyId).to.equal(keyIdOf(second.publicKey));
                await client().revoke('henry@example.test', receipt.answer.keyId!, 'superseded', { authKey: signer.privateKey });
                await client().revoke('henry@example.test', keyIdOf(signer.publicKey), 'superseded', { authKey: auth.privateKey });
            }

            const other = await refusal(client().register('alice@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, { authKey: auth.privateKey, signer: 'henry@example.test' }));
            expect(other.code).to.equal('NOT_AUTHORIZED');

            // A key without usage iks-auth does not authenticate.
            const plain = newKey();
            await client().register('henry@example.test', { container: pem(plain.publicKey), usage: ['sign'] }, credentials);
            expect((await refusal(client().listMyKeys('henry@example.test', { authKey: plain.privateKey }))).code).to.equal('AUTHENTICATION_FAILED');
        });

        it('accepts a third-party assertion for its entity only, and not once expired', async () => {

            const now = Date.now();
            const assertion = (subject: string, issuedAt: number, notAfter: number) => ({
                assertion: renderAssertion(signAssertion(sso.privateKey, { issuer: 'sso@example.test', keyId: keyIdOf(sso.publicKey), subject, issuedAt: issuedAt - issuedAt % 1000, notAfter: notAfter - notAfter % 1000 }))
            });

            const used = assertion('ivan@example.test', now, now + 600_000);
            const accepted = await client().register('ivan@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, used);
            expect(accepted.answer.outcome).to.equal('accepted');

            // One request per assertion: read off the wire, it authenticates nothing more, even
            // with its ECDSA signature in its other valid form (s → n − s).
            const again = await refusal(client().register('ivan@example.test', { container: pem(newKey().publicKey), usage: ['iks-auth'] }, used));
            expect(again.code).to.equal('AUTHENTICATION_FAILED');
            expect(again.message).to.contain('the assertion was already used for a request; each assertion authenticates one request, ask sso@example.test for a new one');
            const flipped = used.assertion.replace(/<Value>([^<]+)<\/Value>/, (_all, value: string) => `<Value>${otherEcdsaForm(Buffer.from(value, 'base64')).toString('base64')}</Value>`);
            expect(flipped).to.not.equal(used.assertion);
            expect((await refusal(client().listMyKeys('ivan@example.test', { assertion: flipped }))).message).to.contain('already used');

            const forOther = await refusal(client().register('ivan@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, assertion('judy@example.test', now, now + 600_000)));
            expect(forOther.code).to.equal('NOT_AUTHORIZED');

            const expired = await refusal(client().register('ivan@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, assertion('ivan@example.test', now - 7200_000, now - 3600_000)));
            expect(expired.code).to.equal('AUTHENTICATION_FAILED');
            expect(expired.message).to.contain('expired');

            const tooLong = await refusal(client().listMyKeys('ivan@example.test', assertion('ivan@example.test', now, now + 2 * 86_400_000)));
            expect(tooLong.message).to.contain('longer than');

            // Signed by a key that is not a certifying key of the domain.
            const forged = generateKeyPairSync('ed25519');
            const stranger = { assertion: renderAssertion(signAssertion(forged.privateKey, { issuer: 'sso@example.test', keyId: keyIdOf(sso.publicKey), subject: 'ivan@example.test', issuedAt: now - now % 1000, notAfter: now - now % 1000 + 600_000 })) };
            expect((await refusal(client().listMyKeys('ivan@example.test', stranger))).message).to.contain('does not verify');
        });

        it('never lets a user grant itself a certifying key', async () => {

            const credentials = await addUser('kim@example.test');
            const error = await refusal(client().register('kim@example.test', { container: pem(newKey().publicKey), usage: ['iks-certify'] }, credentials));
            expect(error.code).to.equal('REQUEST_REFUSED');
            expect(error.message).to.contain('administrator');
        });

        it('locks out an entity after repeated password failures, saying when to retry', async () => {

            const credentials = await addUser('leo@example.test');
            const statuses: number[] = [];
            const observed = client({ remoteAddress: '192.0.2.10', observe: (exchange) => statuses.push(exchange.status) });
            for (let i = 0; i < 3; ++i) {
                expect((await refusal(observed.listMyKeys('leo@example.test', { password: `guess-${i}` }))).code).to.equal('AUTHENTICATION_FAILED');
            }

            const locked = await refusal(observed.listMyKeys('leo@example.test', { password: 'guess-3' }));
            expect(locked.code).to.equal('LOCKED_OUT');
            expect(locked.retryAt!).to.be.above(Date.now());

            // Even the right password waits; other methods stay open.
            expect((await refusal(observed.listMyKeys('leo@example.test', credentials))).code).to.equal('LOCKED_OUT');
            expect(statuses.at(-1)).to.equal(429);
        });

        it('checks no more concurrent password guesses than the lockout allows, the right one included', async () => {

            const credentials = await addUser('sid@example.test');
            const attacker = client({ remoteAddress: '192.0.2.77' });
            const guesses = [...Array.from({ length: 39 }, (_, i) => ({ password: `guess-${i}` })), credentials];
            const outcomes = await Promise.all(guesses.map(async (guess) => {

                try {
                    return (await attacker.listMyKeys('sid@example.test', guess)).answer.outcome;
                }
                catch (error) {
                    return (error as RegistrationRefused).code;
                }
            }));

            // perEntity is 3: three guesses at most cost an scrypt check; the rest are refused unchecked.
            expect(outcomes.filter((outcome) => outcome !== 'LOCKED_OUT')).to.have.length(3);
            expect(outcomes.filter((outcome) => outcome === 'LOCKED_OUT')).to.have.length(37);
        });

        it('never locks a user out for ciphertexts that are no guesses; their senders\' addresses pay', async () => {

            const credentials = await addUser('nina@example.test');
            const encKey = loadDomainPublicKey(domain.dataDir, domain.domain, 'enc').keyName;
            const junk = (remoteAddress: string, authentication: { encKey: string; ciphertext: Buffer }) => {

                const now = Date.now();
                const body = renderEnvelope(renderRequest({ operation: 'list', name: 'nina@example.test', timestamp: now - now % 1000, nonce: randomBytes(18).toString('base64url'), authentication: { method: 'password', user: 'nina@example.test', ...authentication } }));
                return server.inject({ method: 'POST', url: '/ikrs/v1', payload: body, headers: { 'content-type': 'application/soap+xml' }, remoteAddress });
            };

            // More than perEntity (3) of them, each from its own network: not one is a guess at nina's password.
            for (let i = 0; i < 6; ++i) {
                const answer = await junk(`198.51.100.${i + 1}`, i % 2 === 0 ? { encKey, ciphertext: randomBytes(256) } : { encKey: 'enc-000000000000', ciphertext: randomBytes(16) });
                expect(answer.statusCode).to.equal(200);
                expect(answer.payload).to.contain('<Outcome>authentication-failed</Outcome>');
            }

            expect((await client({ remoteAddress: '198.51.100.99' }).listMyKeys('nina@example.test', credentials)).answer.outcome).to.equal('accepted');

            // One address sending them is counted like any failing one (perAddress is 5).
            const statuses: number[] = [];
            for (let i = 0; i < 6; ++i) {
                statuses.push((await junk('203.0.113.9', { encKey, ciphertext: randomBytes(256) })).statusCode);
            }

            expect(statuses).to.equal([200, 200, 200, 200, 200, 429]);
        });

        it('locks out a client address that fails for many entities', async () => {

            for (const entity of ['m1', 'm2', 'm3']) {
                await addUser(`${entity}@example.test`);
            }

            const attacker = client({ remoteAddress: '192.0.2.66' });
            const outcomes: string[] = [];
            for (const entity of ['m1', 'm1', 'm2', 'm2', 'm3', 'm3']) {
                outcomes.push((await refusal(attacker.listMyKeys(`${entity}@example.test`, { password: 'guess' }))).code);
            }

            expect(outcomes.slice(0, 5)).to.equal(Array(5).fill('AUTHENTICATION_FAILED'));
            expect(outcomes[5]).to.equal('LOCKED_OUT');
            expect((await refusal(attacker.listMyKeys('m3@example.test', { password: passwords.get('m3@example.test')! }))).code).to.equal('LOCKED_OUT');

            // Another address is not affected.
            expect((await client({ remoteAddress: '192.0.2.67' }).listMyKeys('m3@example.test', { password: passwords.get('m3@example.test')! })).answer.outcome).to.equal('accepted');
        });

        it('counts an IPv6 client by its /64, so new addresses in it do not buy new guesses', async () => {

            for (const entity of ['v1', 'v2', 'v3']) {
                await addUser(`${entity}@example.test`);
            }

            const outcomes: string[] = [];
            for (const [i, entity] of ['v1', 'v1', 'v2', 'v2', 'v3', 'v3'].entries()) {
                const attacker = client({ remoteAddress: `2001:db8:66:1::${i + 1}` });
                outcomes.push((await refusal(attacker.listMyKeys(`${entity}@example.test`, { password: 'guess' }))).code);
            }

            expect(outcomes).to.equal([...Array(5).fill('AUTHENTICATION_FAILED'), 'LOCKED_OUT']);
            expect((await client({ remoteAddress: '2001:db8:66:2::1' }).listMyKeys('v3@example.test', { password: passwords.get('v3@example.test')! })).answer.outcome).to.equal('accepted');
        });

        it('logs the audit trail and nothing of the password', async () => {

            const credentials = await addUser('nina@example.test');
            logs.length = 0;
            await client().register('nina@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, credentials);
            await refusal(client().listMyKeys('nina@example.test', { password: `${credentials.password}-wrong` }));
            await server.inject({ method: 'POST', url: '/ikrs/v1', payload: `<x>${credentials.password}</x>`, headers: { 'content-type': 'application/soap+xml' } });

            const text = logs.join('\n');
            expect(text).to.contain('"outcome":"accepted"');
            expect(text).to.contain('"outcome":"authentication-failed"');
            for (const secret of [credentials.password, Buffer.from(credentials.password).toString('base64'), Buffer.from(credentials.password).toString('hex')]) {
                expect(text).to.not.contain(secret);
            }
        });

        it('revokes a key: it leaves the list and its key document becomes a verified signed revocation', async () => {

            const credentials = await addUser('olga@example.test');
            const keep = newKey();
            const revoke = newKey();
            await client().register('olga@example.test', { container: pem(keep.publicKey), usage: ['sign'] }, credentials);
            const registered = await client().register('olga@example.test', { container: pem(revoke.publicKey), usage: ['sign'] }, credentials);
            await publish();
            expect((await lookup().lookup('olga@example.test')).keys).to.have.length(2);

            const receipt = await client().revoke('olga@example.test', registered.answer.keyId!, 'keyCompromise', credentials);
            expect(receipt.answer.state).to.equal('revoked');
            await publish();

            const after = await lookup().lookup('olga@example.test');
            expect(after.keys.map((key) => key.id)).to.equal([keyIdOf(keep.publicKey)]);

            const res = await server.inject(`/ikqs/v1/n/${nameToUrlForm('olga@example.test')}/k/${registered.answer.keyId}`);
            expect(res.statusCode).to.equal(200);
            const ksk = loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk');
            const revocation = verifyDocument(res.payload, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'KeyDocument', name: 'olga@example.test' }) as KeyDocument;
            expect(revocation.status).to.equal('revoked');
            expect(revocation.revocationReason).to.equal('keyCompromise');
            const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', Path.join(domain.dataDir, domain.domain, 'public', 'ksk.pem'), tempFile('revoked.xml', res.payload)]);
            expect(verified.status, verified.output).to.equal(0);

            // A revoked key cannot come back, and revoking again changes nothing.
            expect((await refusal(client().register('olga@example.test', { container: pem(revoke.publicKey), usage: ['sign'] }, credentials))).message).to.contain('revoked');
            expect((await client().revoke('olga@example.test', registered.answer.keyId!, 'again', credentials)).answer.state).to.equal('revoked');
            expect((await domain.store.getRegistration('olga@example.test', registered.answer.keyId!))!.revocationReason).to.equal('keyCompromise');
            expect((await refusal(client().revoke('olga@example.test', '0000000000000000', undefined, credentials))).code).to.equal('REQUEST_REFUSED');

            const listed = await client().listMyKeys('olga@example.test', credentials);
            expect(listed.answer.keys!.map((key) => [key.id, key.state]).sort()).to.equal([[keyIdOf(keep.publicKey), 'active'], [registered.answer.keyId!, 'revoked']].sort());
        });

        it('never brings back a key revoked between a re-registration\'s read and its write', async () => {

            const credentials = await addUser('ruth@example.test');
            const key = newKey();
            const registered = await client().register('ruth@example.test', { container: pem(key.publicKey), usage: ['sign'] }, credentials);
            const keyId = registered.answer.keyId!;

            // The re-registration has read the key as active; the owner's revocation lands before it writes.
            const store = domain.store;
            const put = store.putRegistrations;
            store.putRegistrations = async (registrations) => {

                store.putRegistrations = put;
                const stored = (await store.getRegistration('ruth@example.test', keyId))!;
                await store.putRegistrations([{ ...stored, revokedAt: Date.now(), revocationReason: 'keyCompromise' }]);
                return await store.putRegistrations(registrations);
            };

            try {
                const refused = await refusal(client().register('ruth@example.test', { container: pem(key.publicKey), usage: ['sign', 'encrypt'] }, credentials));
                expect(refused.message).to.contain(`key ${keyId} of ruth@example.test was revoked`);
            }
            finally {
                store.putRegistrations = put;
            }

            const stored = (await domain.store.getRegistration('ruth@example.test', keyId))!;
            expect(stored.revokedAt).to.be.a.number();
            expect(stored.usage).to.equal(['sign']);
            await publish();
            expect((await lookup().lookup('ruth@example.test')).keys).to.equal([]);
        });

        it('enforces the per-name key count and key size limits', async () => {

            const credentials = await addUser('pat@example.test');
            for (let i = 0; i < 3; ++i) {
                await client().register('pat@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, credentials);
            }

            const full = await refusal(client().register('pat@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, credentials));
            expect(full.message).to.contain('3 active keys');

            const big = generateKeyPairSync('rsa', { modulusLength: 4096 });
            const error = await refusal(client().register('quinn@example.test', { container: pem(big.publicKey), usage: ['sign'] }, await addUser('quinn@example.test')));
            expect(error.message).to.contain('4096 bits');

            // The client library refuses to send what is no public key; the service refuses it too.
            const notAKey = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----';
            await expect(client().register('quinn@example.test', { container: notAKey, usage: ['sign'] }, { password: passwords.get('quinn@example.test')! })).to.reject(InvalidKey);
            const [raw] = await makeEntities(domain.store, 1, 'rawkey');
            const res = await server.inject({ method: 'POST', url: '/ikrs/v1', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, payload: registerRequest(raw!, notAKey).body });
            expect(res.statusCode).to.equal(200);
            expect(res.payload).to.contain('<Outcome>refused</Outcome>');
        });

        it('bounds the registrations a name stores, revoked ones included, as configured', async () => {

            const [entity] = await makeEntities(domain.store, 1, 'churn');
            const post = async (body: string) => (await server.inject({ method: 'POST', url: '/ikrs/v1', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, payload: body })).payload;
            for (let i = 0; i < 7; ++i) {
                const registration = registerRequest(entity!);
                expect(await post(registration.body)).to.contain('<Outcome>accepted</Outcome>');
                expect(await post(revokeRequest(entity!, registration.keyId).body)).to.contain('<Outcome>accepted</Outcome>');
            }

            // One active key of 3 allowed, but 8 stored (IKS_REGISTER_MAX_REGISTRATIONS_PER_NAME).
            const refused = await post(registerRequest(entity!).body);
            expect(refused).to.contain('<Outcome>refused</Outcome>');
            expect(refused).to.contain('already has 8 stored keys (active, expired and revoked)');
            expect(await domain.store.getRegistrations(entity!.name)).to.have.length(8);
        });

        it('answers malformed requests with SOAP Faults that give a reason', async () => {

            const post = (payload: string, contentType = 'application/soap+xml; charset=utf-8') => server.inject({ method: 'POST', url: '/ikrs/v1', payload, headers: { 'content-type': contentType } });
            const cases: Array<[string, number, string, RegExp, string?]> = [
                ['<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>', 400, 'Sender', /not well-formed/],
                ['<!DOCTYPE x [<!ENTITY a "b">]><x/>', 400, 'Sender', /DOCTYPE/],
                ['<x/>', 400, 'Sender', /expected a SOAP 1.2 Envelope/],
                ['<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>', 500, 'VersionMismatch', /SOAP 1.1/],
                [renderEnvelope('<Register xmlns="urn:iks:xml:1"><Name>a@example.test</Name></Register>'), 400, 'Sender', /Register: Element Register lacks Timestamp/],
                [renderEnvelope('<Other xmlns="urn:iks:xml:1"/>'), 400, 'Sender', /expected Register, Revoke or ListMyKeys/],
                ['<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header><h:t xmlns:h="urn:x" env:mustUnderstand="true"/></env:Header><env:Body><x/></env:Body></env:Envelope>', 500, 'MustUnderstand', /understands no header blocks/],
                [renderEnvelope(''), 400, 'Sender', /exactly one request element/],
                // Text no signed document could carry (xmldom reads LS as a line feed) never reaches the store.
                [renderEnvelope('<Revoke xmlns="urn:iks:xml:1"><Name>a@example.test</Name><Reason>key\u2028compromise</Reason></Revoke>'), 400, 'Sender', /does not carry/],
                ['<a/>', 415, 'Sender', /Unsupported Media Type/, 'application/xml'],
                ['<a/>', 400, 'Sender', /must be UTF-8/, 'application/soap+xml; charset=iso-8859-1'],
                [`<a>${'x'.repeat(40 * 1024)}</a>`, 413, 'Sender', /Payload content length greater than maximum allowed/]
            ];

            for (const [payload, status, code, reason, contentType] of cases) {
                const res = await post(payload, contentType);
                expect(res.statusCode, payload.slice(0, 60)).to.equal(status);
                expect(res.headers['content-type']).to.equal('application/soap+xml; charset=utf-8');
                const fault = readAnswerEnvelope(res.payload, 1 << 20) as { fault: { code: string; reason: string } };
                expect(fault.fault.code).to.equal(code);
                expect(fault.fault.reason).to.match(reason);
                expect(res.payload).to.not.contain('    at ');
                const valid = runTool('xmllint', ['--noout', '--schema', envelopeSchemaPath, tempFile('fault.xml', res.payload)]);
                expect(valid.status, valid.output).to.equal(0);
            }

            const invalidUtf8 = await server.inject({ method: 'POST', url: '/ikrs/v1', payload: Buffer.from([0x3c, 0xff, 0x3e]), headers: { 'content-type': 'application/soap+xml' } });
            expect(invalidUtf8.statusCode).to.equal(400);
            expect(invalidUtf8.payload).to.contain('not valid UTF-8');
        });

        it('refuses names of other domains and non-canonical names before authenticating', async () => {

            const credentials = await addUser('rob@example.test');
            const otherDomain = client({ rewrite: (body) => body.replace('<Name>rob@example.test</Name>', '<Name>rob@other.test</Name>') });
            expect((await expect(otherDomain.listMyKeys('rob@example.test', credentials)).to.reject(SoapFaultReceived) as SoapFaultReceived).subcode).to.equal('WrongDomain');
            const rewritten = client({ rewrite: (body) => body.replace('<Name>rob@example.test</Name>', '<Name>rob@EXAMPLE.test</Name>') });
            expect((await expect(rewritten.listMyKeys('rob@example.test', credentials)).to.reject(SoapFaultReceived) as SoapFaultReceived).message).to.contain('not canonical');
        });

        it('accepts only the methods the domain enables', async () => {

            const passwordOnly = await createGateway({ ...domain.config, register: { ...domain.config.register, methods: ['password'] } }, { store: domain.store, port: 0 });
            const credentials = await addUser('sam@example.test');
            const viaPasswordOnly = new RegistrationClient({ baseUrl: 'http://iks.example.test', commitmentFor: async () => commitment, fetch: injectFetch(passwordOnly) });
            const auth = generateKeyPairSync('ed25519');
            await viaPasswordOnly.register('sam@example.test', { container: pem(auth.publicKey), usage: ['iks-auth'] }, credentials);
            const error = await refusal(viaPasswordOnly.listMyKeys('sam@example.test', { authKey: auth.privateKey }));
            expect(error.code).to.equal('AUTHENTICATION_FAILED');
            expect(error.acceptedMethods).to.equal(['password']);
            expect(error.message).to.contain('not accepted');
            await passwordOnly.stop();
        });

        it('refuses an answer that is not about the request sent', async () => {

            const credentials = await addUser('tom@example.test');
            let first = '';
            await client({ observe: (exchange) => {

                first = exchange.path === '/ikrs/v1' ? exchange.response : first;
            } }).listMyKeys('tom@example.test', credentials);

            // An attacker replays an earlier genuine, RSK-signed answer.
            const replaying: typeof fetch = async (input, init) => {

                const real = await injectFetch(server)(input, init);
                return new URL(String(input)).pathname === '/ikrs/v1' ? new Response(first, { status: 200, headers: real.headers }) : real;
            };

            await expect(client({}, { fetch: replaying }).listMyKeys('tom@example.test', credentials)).to.reject(/another request/);
        });

        it('keeps private keys out of reach: the plugin loads the RSK and the enc key, never the KSK', async () => {

            const { privatePath } = { privatePath: Path.join(domain.dataDir, domain.domain, 'private', 'ksk.pem') };
            const saved = Fs.readFileSync(privatePath);
            Fs.rmSync(privatePath);
            try {
                const withoutKsk = await createGateway(domain.config, { store: domain.store, port: 0 });
                const credentials = await addUser('uma@example.test');
                const answer = (await new RegistrationClient({ baseUrl: 'http://iks.example.test', commitmentFor: async () => commitment, fetch: injectFetch(withoutKsk) })
                    .register('uma@example.test', { container: pem(newKey().publicKey), usage: ['sign'] }, credentials)).answer as RegistrationAnswerDocument;
                expect(answer.outcome).to.equal('accepted');
            }
            finally {
                Fs.writeFileSync(privatePath, saved, { mode: 0o600 });
            }
        });
    });
}

/** The other valid form of a DER ECDSA P-256 signature (r, s) → (r, n − s), which OpenSSL verifies too. */
function otherEcdsaForm(der: Buffer): Buffer {

    const order = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const integer = (at: number) => ({ value: BigInt(`0x${der.subarray(at + 2, at + 2 + der[at + 1]!).toString('hex')}`), end: at + 2 + der[at + 1]! });
    const r = integer(2);
    const s = integer(r.end);
    const encode = (value: bigint) => {

        let hex = value.toString(16);
        hex = hex.length % 2 === 1 ? `0${hex}` : hex;
        const bytes = Buffer.from(parseInt(hex.slice(0, 2), 16) >= 0x80 ? `00${hex}` : hex, 'hex');
        return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
    };

    const body = Buffer.concat([encode(r.value), encode(order - s.value)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
