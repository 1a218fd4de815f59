/**
 * The route of iks-register: SOAP in, RSK-signed answer (or SOAP Fault) out. Typed
 * errors from lib/ become Boom errors here; the route's onPreResponse turns every Boom
 * into a SOAP 1.2 Fault, so a client never sees JSON or a stack trace.
 */
import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit } from '@hapi/hapi';

import { InvalidRequest, StoreUnavailable } from '../../lib/errors';
import type { SigningKey } from '../../lib/keys/types';
import { nameHash } from '../../lib/observability/logging';
import type { Decision, RegistrationAuthority } from '../../lib/registration/authority';
import { readRequest } from '../../lib/registration/request';
import { readEnvelope, renderEnvelope, renderFault, SOAP_MEDIA_TYPE, type SoapFault } from '../../lib/registration/soap';
import type { RegistrationAnswerDocument } from '../../lib/xml/types';
import { renderAndSign } from '../../lib/xmldsig';
import type { NameSigner } from '../../workers/updater/signer';

export interface RegisterHandlerSettings {
    readonly authority: RegistrationAuthority;
    readonly rsk: SigningKey;
    /** ms */
    readonly answerValidity: number;
    readonly maxRequestBytes: number;
    /** `online` strategy (paper §6): this plugin holds the KSK and signs accepted changes at once. */
    readonly signer?: Pick<NameSigner, 'signNow'> | undefined;
    /** Called with every decision before it is signed (metrics). */
    readonly onDecision?: (request: Request, decision: Decision) => void;
}

/** What a Boom raised here carries so the fault can name its SOAP code and our subcode. */
interface FaultData {
    readonly soapCode: SoapFault['code'];
    readonly subcode?: string;
}

const internals = {
    contentType: `${SOAP_MEDIA_TYPE}; charset=utf-8`,
    utf8: new TextDecoder('utf-8', { fatal: true }),
    charset: /;\s*charset\s*=\s*"?([^";\s]+)"?/i,
    // SOAP 1.2 Part 2 §7.5.1.2: VersionMismatch and MustUnderstand travel as HTTP 500.
    statusOf: { Sender: 400, VersionMismatch: 500, MustUnderstand: 500, Receiver: 500 } as const
};

function fault(message: string, data: FaultData, statusCode?: number): Boom.Boom<FaultData> {

    return new Boom.Boom<FaultData>(message, { statusCode: statusCode ?? internals.statusOf[data.soapCode], data });
}

export class RegisterHandlers {

    readonly #settings: RegisterHandlerSettings;

    constructor(settings: RegisterHandlerSettings) {

        this.#settings = settings;
    }

    readonly handle = async (request: Request, h: ResponseToolkit): Promise<Lifecycle.ReturnValue> => {

        const text = this.#text(request);
        let decision: Decision;
        try {
            decision = await this.#settings.authority.decide(readRequest(readEnvelope(text, this.#settings.maxRequestBytes)), request.info.remoteAddress);
        }
        catch (error) {
            if (error instanceof InvalidRequest) {
                request.log(['iks-register', 'refused'], { code: error.code, address: request.info.remoteAddress });
                throw fault(error.message, { soapCode: error.soapCode, subcode: error.subcode });
            }

            if (error instanceof StoreUnavailable) {
                throw fault('the key store is unavailable; retry shortly', { soapCode: 'Receiver', subcode: 'StoreUnavailable' }, 503);
            }

            throw error;
        }

        const { method, principal, ...answer } = decision;
        // Audit trail: who did what. Never the request body (it carries secrets).
        // Names as nameHash (lib/observability/logging.ts): who manages which key is itself sensitive.
        request.log(['iks-register', 'audit'], { operation: answer.operation, nameHash: nameHash(answer.name), method, principalHash: principal === undefined ? undefined : nameHash(principal), outcome: answer.outcome, keyId: answer.keyId, address: request.info.remoteAddress });
        this.#settings.onDecision?.(request, decision);
        await this.#publish(request, answer);

        const response = h.response(renderEnvelope(this.#sign(answer))).type(internals.contentType);
        if (answer.outcome === 'locked') {
            return response.code(429).header('retry-after', String(Math.max(1, Math.ceil((answer.retryAt! - Date.now()) / 1000))));
        }

        return response.code(200);
    };

    /** Route onPreResponse: every error answer of this route becomes a SOAP 1.2 Fault; no answer is compressed. */
    readonly toFault = (request: Request, h: ResponseToolkit): Lifecycle.ReturnValue => {

        // Answers are a few KB, unique and signed: gzip would save about a KB at the price of a
        // zlib stream per registration (15 % of the gateway's CPU in bench/register). hapi decides
        // per request from this field and has no per-route switch; the host's other routes keep
        // their compression.
        request.info.acceptEncoding = 'identity';
        const response = request.response;
        if (!Boom.isBoom(response)) {
            return h.continue;
        }

        const data = response.data as Partial<FaultData> | null;
        const statusCode = response.output.statusCode;
        const ours = typeof data?.soapCode === 'string';
        // Boom hides the message of 500s it did not make on purpose; so do we.
        const reason = ours ? response.message : statusCode >= 500 ? 'internal error' : String(response.output.payload.message);
        const code: SoapFault['code'] = ours ? data.soapCode! : statusCode >= 500 ? 'Receiver' : 'Sender';
        const subcode = ours ? data.subcode : ({ 413: 'RequestTooLarge', 415: 'UnsupportedMediaType' } as Record<number, string>)[statusCode];
        const answer = h.response(renderFault({ code, reason, ...(subcode !== undefined ? { subcode } : {}) })).code(statusCode).type(internals.contentType);
        const retryAfter = (response.output.headers as Record<string, string | undefined>)['Retry-After'];
        return statusCode === 503 ? answer.header('retry-after', retryAfter ?? '1') : answer;
    };

    /**
     * On-line signing: an accepted change is published before it is acknowledged. If
     * signing fails the change is still stored and queued, so the queue loop publishes it;
     * the answer (accepted) stays true.
     */
    async #publish(request: Request, answer: Pick<Decision, 'outcome' | 'operation' | 'name'>): Promise<void> {

        if (!this.#settings.signer || answer.outcome !== 'accepted' || answer.operation === 'list') {
            return;
        }

        try {
            await this.#settings.signer.signNow(answer.name);
        }
        catch (error) {
            request.log(['iks-register', 'signer', 'error'], { message: (error as Error).message });
        }
    }

    #text(request: Request): string {

        const charset = internals.charset.exec(String(request.headers['content-type']))?.[1]?.toLowerCase();
        if (charset !== undefined && charset !== 'utf-8') {
            throw fault(`requests must be UTF-8, not ${charset.slice(0, 32)}`, { soapCode: 'Sender', subcode: 'UnsupportedCharset' });
        }

        try {
            return internals.utf8.decode(request.payload as Buffer);
        }
        catch {
            // TextDecoder's only error here (a TypeError) is invalid UTF-8.
            throw fault('the request is not valid UTF-8', { soapCode: 'Sender', subcode: 'MalformedXml' });
        }
    }

    #sign(answer: Omit<RegistrationAnswerDocument, 'type' | 'issuedAt' | 'notAfter'>): string {

        const now = Date.now();
        // Documents state whole seconds.
        const issuedAt = now - now % 1000;
        return renderAndSign({ type: 'RegistrationAnswer', ...answer, issuedAt, notAfter: issuedAt + this.#settings.answerValidity }, this.#settings.rsk);
    }
}
