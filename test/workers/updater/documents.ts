import * as Path from 'node:path';

import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { loadDomainPublicKey, loadDomainSigningKey } from '../../../lib/keys';
import type { SigningKey } from '../../../lib/keys/types';
import type { KeyDocument, KeyListDocument, PublishedKeyDocument } from '../../../lib/xml/types';
import type { Registration } from '../../../lib/store/types';
import { verifyDocument } from '../../../lib/xmldsig';
import { buildDomainDocuments, buildNameDocuments, entityTag, publishedDomainKeys, purgeTime } from '../../../workers/updater';
import { makeDomain, makeRegistration, runTool, tempFile, type TestDomain } from '../../helpers/domain';

export const lab = Lab.script();
const { describe, it, before, after } = lab;

describe('updater documents', () => {

    const policy = { validity: 3600_000, refreshBefore: 600_000, retention: 86400_000 };
    const now = Date.UTC(2026, 10, 24, 12, 0, 0);
    const name = 'bob@example.test';
    const schema = Path.join(__dirname, '../../../lib/xml/schema/iks.xsd');
    let domain: TestDomain;
    let ksk: SigningKey;

    before(async () => {

        domain = await makeDomain();
        ksk = loadDomainSigningKey(domain.dataDir, domain.domain, 'ksk');
    });

    after(async () => {

        await domain.cleanup();
    });

    describe('re-signing only what changed', () => {

        /** The DocumentSources a store would hold after storing `result`. */
        const sourcesOf = (result: ReturnType<typeof buildNameDocuments>, kept: ReadonlyMap<string, { source: string; notAfter: number }> = new Map()) => new Map([
            ...[...kept].filter(([slot]) => result.kept.includes(slot)),
            ...[...result.documents].map(([slot, document]) => [slot, { source: result.sources.get(slot)!, notAfter: document.notAfter }] as const)
        ]);

        it('signs the list and the new key\'s document when a key is added, and keeps the other key documents', () => {

            const first = makeRegistration(name, 'ed25519', { registeredAt: now - 2000 });
            const second = makeRegistration(name, 'ec', { registeredAt: now - 1000 });
            const initial = buildNameDocuments(name, [first], ksk, policy, now);
            expect([...initial.documents.keys()].sort()).to.equal(['key:' + first.keyId, 'list'].sort());

            const later = now + 60_000;
            const added = buildNameDocuments(name, [first, second], ksk, policy, later, sourcesOf(initial));
            expect([...added.documents.keys()].sort()).to.equal(['key:' + second.keyId, 'list'].sort());
            expect(added.kept).to.equal([`key:${first.keyId}`]);
            // The kept document is refreshed on its own schedule, before the new ones.
            expect(added.nextDue).to.equal(now + policy.validity - policy.refreshBefore);

            // Nothing changed: nothing is signed.
            expect(buildNameDocuments(name, [first, second], ksk, policy, later + 1000, sourcesOf(added, sourcesOf(initial))).documents.size).to.equal(0);
        });

        it('signs a document again when its key changes state or usage, or its refresh is due', () => {

            const key = makeRegistration(name, 'ed25519', { registeredAt: now - 2000 });
            const initial = sourcesOf(buildNameDocuments(name, [key], ksk, policy, now));

            const revoked = buildNameDocuments(name, [{ ...key, revokedAt: now + 1000 }], ksk, policy, now + 1000, initial);
            expect([...revoked.documents.keys()]).to.equal([`key:${key.keyId}`]);
            const usage = buildNameDocuments(name, [{ ...key, usage: ['encrypt'] }], ksk, policy, now + 1000, initial);
            expect([...usage.documents.keys()].sort()).to.equal([`key:${key.keyId}`, 'list'].sort());

            // Within a second of the refresh time counts as due (times are whole seconds).
            const refresh = now + policy.validity - policy.refreshBefore;
            expect(buildNameDocuments(name, [key], ksk, policy, refresh - 2000, initial).documents.size).to.equal(0);
            expect(buildNameDocuments(name, [key], ksk, policy, refresh - 1000, initial).documents.size).to.equal(2);
        });

        it('signs everything again under another KSK', () => {

            const key = makeRegistration(name, 'ed25519');
            const initial = sourcesOf(buildNameDocuments(name, [key], ksk, policy, now));
            const other = { ...ksk, keyName: `${ksk.keyName}-next` };
            expect(buildNameDocuments(name, [key], other, policy, now + 1000, initial).documents.size).to.equal(2);
        });

        it('keeps a document capped at its key\'s expiry until that expiry, without scheduling refreshes before it', () => {

            const expiresAt = now + policy.validity / 2;
            const key = makeRegistration(name, 'ed25519', { expiresAt });
            const initial = buildNameDocuments(name, [key], ksk, policy, now);
            expect(initial.documents.get('list')!.notAfter).to.equal(expiresAt);
            expect(initial.nextDue).to.equal(expiresAt);

            // Past the refresh threshold of the capped documents: a new signature would end at the same time.
            const late = buildNameDocuments(name, [key], ksk, policy, expiresAt - policy.refreshBefore + 5000, sourcesOf(initial));
            expect(late.documents.size).to.equal(0);
            expect(late.nextDue).to.equal(expiresAt);
        });
    });

    it('lists only keys that are neither revoked nor expired and signs one document per key', () => {

        const valid = makeRegistration(name, 'ed25519', { registeredAt: now - 2000 });
        const rsa = makeRegistration(name, 'rsa', { registeredAt: now - 1000, usage: ['encrypt', 'sign'] });
        const expired = makeRegistration(name, 'x25519', { expiresAt: now - 1 });
        const revoked = makeRegistration(name, 'ec', { revokedAt: now - 5000, revocationReason: 'keyCompromise' });

        const { documents, nextDue } = buildNameDocuments(name, [revoked, rsa, expired, valid], ksk, policy, now);
        expect([...documents.keys()].sort()).to.equal(['list', `key:${valid.keyId}`, `key:${rsa.keyId}`, `key:${revoked.keyId}`].sort());
        expect(nextDue).to.equal(now + policy.validity - policy.refreshBefore);

        const list = verifyDocument(documents.get('list')!.body, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'KeyList', name, now }) as KeyListDocument;
        expect(list.keys.map((key) => key.id)).to.equal([valid.keyId, rsa.keyId]);
        expect(list.keys[1]!.usage).to.equal(['encrypt', 'sign']);
        expect(list.notAfter).to.equal(now + policy.validity);

        const key = verifyDocument(documents.get(`key:${rsa.keyId}`)!.body, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'KeyDocument', name, now }) as KeyDocument;
        expect(key.status).to.equal('active');
        expect(key.key.spki).to.equal(rsa.spki);
        expect(key.key.container).to.equal(rsa.container);

        const revocation = verifyDocument(documents.get(`key:${revoked.keyId}`)!.body, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'KeyDocument', name, now }) as KeyDocument;
        expect(revocation.status).to.equal('revoked');
        expect(revocation.revokedAt).to.equal(now - 5000);
        expect(revocation.revocationReason).to.equal('keyCompromise');
    });

    it('caps validity at the earliest expiry of a listed key and comes back then', () => {

        const soon = makeRegistration(name, 'ed25519', { expiresAt: now + 60_000 });
        const later = makeRegistration(name, 'ed25519');
        const { documents, nextDue } = buildNameDocuments(name, [soon, later], ksk, policy, now);
        expect(documents.get('list')!.notAfter).to.equal(now + 60_000);
        expect(documents.get(`key:${soon.keyId}`)!.notAfter).to.equal(now + 60_000);
        expect(documents.get(`key:${later.keyId}`)!.notAfter).to.equal(now + policy.validity);
        expect(nextDue).to.equal(now + 60_000);
    });

    it('publishes nothing for a name without keys', () => {

        const expired = makeRegistration(name, 'ed25519', { expiresAt: now });
        expect(buildNameDocuments(name, [], ksk, policy, now)).to.equal({ documents: new Map(), sources: new Map(), kept: [], nextDue: null, unpublishable: [] });
        expect(buildNameDocuments(name, [expired], ksk, policy, now).documents.size).to.equal(0);
    });

    it('still schedules the purge of a registration no document can carry', () => {

        // A revoked registration whose stored usage holds a character no document carries: left
        // out of the documents, it must still be purged when its retention ends.
        const revokedAt = now - 3600_000;
        const bad = { ...makeRegistration(name), usage: ['sign\u0001'], revokedAt };
        const alone = buildNameDocuments(name, [bad], ksk, policy, now);
        expect(alone.unpublishable.map((entry) => entry.keyId)).to.equal([bad.keyId]);
        expect(alone.documents.size).to.equal(0);
        expect(alone.nextDue).to.equal(revokedAt + policy.retention);

        // Beside a good key, whichever comes first.
        const good = makeRegistration(name);
        const both = buildNameDocuments(name, [good, { ...bad, revokedAt: now - policy.retention + 60_000 }], ksk, policy, now);
        expect(both.nextDue).to.equal(now + 60_000);
    });

    it('leaves out a registration whose stored times are not numbers, publishing the others with a finite next due time', () => {

        const good = makeRegistration(name);
        for (const damage of [{ expiresAt: 'tomorrow' }, { revokedAt: Number.NaN }, { registeredAt: undefined }, { expiresAt: Infinity }]) {
            const bad = { ...makeRegistration(name), ...damage } as unknown as Registration;
            const built = buildNameDocuments(name, [good, bad], ksk, policy, now);
            expect(built.unpublishable.map((entry) => entry.keyId)).to.equal([bad.keyId]);
            expect(built.unpublishable[0]!.reason).to.match(/^its stored (expiresAt|revokedAt|registeredAt) is not a time/);
            expect([...built.documents.keys()].sort()).to.equal([`key:${good.keyId}`, 'list']);
            expect(Number.isFinite(built.nextDue)).to.be.true();
        }
    });

    it('comes back to purge an expired or revoked key when its retention ends', () => {

        const expired = makeRegistration(name, 'ed25519', { expiresAt: now - 1000 });
        expect(buildNameDocuments(name, [expired], ksk, policy, now).nextDue).to.equal(now - 1000 + policy.retention);
        expect(purgeTime(expired, policy.retention)).to.equal(now - 1000 + policy.retention);

        // A revocation is published until the name is looked at again for the purge.
        const revoked = makeRegistration(name, 'ec', { revokedAt: now - policy.retention + 5000 });
        const { documents, nextDue } = buildNameDocuments(name, [revoked], ksk, { ...policy, retention: policy.retention }, now);
        expect([...documents.keys()]).to.equal([`key:${revoked.keyId}`]);
        expect(nextDue).to.equal(now + 5000);
        expect(purgeTime(makeRegistration(name), policy.retention)).to.be.null();
    });

    it('is deterministic for the same input and clock', () => {

        const registration = makeRegistration(name);
        const first = buildNameDocuments(name, [registration], ksk, policy, now).documents.get('list')!;
        const second = buildNameDocuments(name, [registration], ksk, policy, now).documents.get('list')!;
        // ECDSA signatures are randomised; everything that is signed is identical.
        expect(first.body.replace(/<ds:Signature.*$/s, '')).to.equal(second.body.replace(/<ds:Signature.*$/s, ''));
        expect(first.etag).to.match(/^"[A-Za-z0-9_-]{27}"$/);
        expect(entityTag(first.body)).to.equal(first.etag);
    });

    it('produces documents that xmlsec1 verifies with the KSK PEM and xmllint validates', () => {

        const { documents } = buildNameDocuments(name, [makeRegistration(name, 'ec'), makeRegistration(name, 'rsa')], ksk, policy, Date.now());
        const kskPem = tempFile('ksk.pem', loadDomainPublicKey(domain.dataDir, domain.domain, 'ksk').pem);
        for (const [slot, document] of documents) {
            const file = tempFile(`${slot.replace(':', '-')}.xml`, document.body);
            const verified = runTool('xmlsec1', ['--verify', '--pubkey-pem', kskPem, file]);
            expect(verified.output, slot).to.contain('OK');
            expect(verified.status, slot).to.equal(0);
            const valid = runTool('xmllint', ['--noout', '--schema', schema, file]);
            expect(valid.status, valid.output).to.equal(0);
        }
    });

    it('publishes the RSK and the encryption key KSK-signed under the domain', () => {

        const published = publishedDomainKeys(domain.dataDir, domain.domain);
        const { documents, nextDue } = buildDomainDocuments(domain.domain, published, ksk, policy, now);
        expect([...documents.keys()]).to.equal(['rsk', 'enc']);
        expect(nextDue).to.equal(now + policy.validity - policy.refreshBefore);
        const rsk = verifyDocument(documents.get('rsk')!.body, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'PublishedKey', name: domain.domain, now }) as PublishedKeyDocument;
        expect(rsk.role).to.equal('rsk');
        expect(rsk.keyName).to.equal(loadDomainPublicKey(domain.dataDir, domain.domain, 'rsk').keyName);
        const enc = verifyDocument(documents.get('enc')!.body, { publicKey: ksk.publicKey, keyName: ksk.keyName, type: 'PublishedKey', name: domain.domain, now }) as PublishedKeyDocument;
        expect(enc.key.algorithm).to.equal('rsa');
        expect(buildDomainDocuments(domain.domain, [], ksk, policy, now).nextDue).to.be.null();
    });
});
