/**
 * SOAP 1.2 envelopes of the registration service (paper §5.5; W3C SOAP 1.2 Part 1 §5).
 * Requests are parsed with the hardened XML parser; a request the service cannot take
 * becomes an InvalidRequest, answered as a SOAP Fault. Answers carry one RSK-signed
 * IKS document as the Body's only child; that document declares its own namespace and
 * its signature (Reference URI="") covers it as a document of its own, so a client
 * verifies exactly the bytes between the Body tags.
 */
import { InvalidRequest, InvalidXml } from '../errors';
import { childElements, escapeText, IKS_NAMESPACE, isWhitespace, parseXml, textContent, type XmlElement } from '../xml';

export const SOAP_NAMESPACE = 'http://www.w3.org/2003/05/soap-envelope';
export const SOAP_MEDIA_TYPE = 'application/soap+xml';

export interface SoapFault {
    readonly code: 'Sender' | 'Receiver' | 'VersionMismatch' | 'MustUnderstand';
    /** Our finer reason, a local name in the IKS namespace (rendered `iks:<subcode>`). */
    readonly subcode?: string;
    readonly reason: string;
}

const internals = {
    soap11Namespace: 'http://schemas.xmlsoap.org/soap/envelope/',
    maxDepth: 16,
    subcode: /^[A-Za-z][A-Za-z0-9]{0,63}$/
};

function onlyElements(element: XmlElement): XmlElement[] {

    for (const child of element.children) {
        if (typeof child === 'string' && !isWhitespace(child)) {
            throw new InvalidRequest(`the SOAP ${element.localName} contains text`);
        }
    }

    return childElements(element);
}

/**
 * Parses a SOAP 1.2 request envelope and returns the Body's one element. Refuses (as
 * InvalidRequest with the SOAP fault code to answer) malformed or forbidden XML, other
 * SOAP versions (VersionMismatch), header blocks we would have to understand
 * (MustUnderstand), and Bodies that do not hold exactly one element.
 */
export function readEnvelope(text: string, maxBytes: number): XmlElement {

    let root: XmlElement;
    try {
        root = parseXml(text, { maxBytes, maxDepth: internals.maxDepth });
    }
    catch (error) {
        if (error instanceof InvalidXml) {
            throw new InvalidRequest(`the request is not acceptable XML: ${error.message}`, { subcode: 'MalformedXml', cause: error });
        }

        throw error;
    }

    if (root.localName === 'Envelope' && root.namespace === internals.soap11Namespace) {
        throw new InvalidRequest('SOAP 1.1 envelopes are not supported; send SOAP 1.2 (application/soap+xml)', { soapCode: 'VersionMismatch' });
    }

    if (root.localName !== 'Envelope' || root.namespace !== SOAP_NAMESPACE) {
        throw new InvalidRequest(`the document element is ${root.name}; expected a SOAP 1.2 Envelope in ${SOAP_NAMESPACE}`, { soapCode: root.localName === 'Envelope' ? 'VersionMismatch' : 'Sender', subcode: 'NotAnEnvelope' });
    }

    const parts = onlyElements(root);
    const header = parts[0]?.localName === 'Header' && parts[0].namespace === SOAP_NAMESPACE ? parts.shift() : undefined;
    const body = parts[0];
    if (parts.length !== 1 || body!.localName !== 'Body' || body!.namespace !== SOAP_NAMESPACE) {
        throw new InvalidRequest('the Envelope must hold an optional Header and then one Body', { subcode: 'MalformedEnvelope' });
    }

    // SOAP 1.2 Part 1 §5.2.3: a header block marked mustUnderstand that we do not process
    // must fault. This service processes no header blocks at all.
    for (const block of header ? onlyElements(header) : []) {
        for (const [name, value] of Object.entries(block.attributes)) {
            if (/(^|:)mustUnderstand$/.test(name) && (value.trim() === 'true' || value.trim() === '1')) {
                throw new InvalidRequest(`the header block ${block.name} must be understood, and this service understands no header blocks`, { soapCode: 'MustUnderstand' });
            }
        }
    }

    const content = onlyElements(body!);
    if (content.length !== 1) {
        throw new InvalidRequest(`the Body must hold exactly one request element, found ${content.length}`, { subcode: 'MalformedEnvelope' });
    }

    return content[0]!;
}

/** A SOAP 1.2 envelope around one Body element (which must declare its own namespaces). */
export function renderEnvelope(bodyElement: string): string {

    return `<env:Envelope xmlns:env="${SOAP_NAMESPACE}"><env:Body>${bodyElement}</env:Body></env:Envelope>`;
}

/** A SOAP 1.2 Fault envelope (Part 1 §5.4); `reason` is shown to people, in English. */
export function renderFault(fault: SoapFault): string {

    const subcode = fault.subcode !== undefined && internals.subcode.test(fault.subcode) ?
        `<env:Subcode><env:Value xmlns:iks="${IKS_NAMESPACE}">iks:${fault.subcode}</env:Value></env:Subcode>` : '';
    return renderEnvelope(
        `<env:Fault><env:Code><env:Value>env:${fault.code}</env:Value>${subcode}</env:Code>` +
        `<env:Reason><env:Text xml:lang="en">${escapeText(fault.reason.replace(/[^\t\n\r\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD]/gu, '?'), 'reason')}</env:Text></env:Reason></env:Fault>`);
}

function child(element: XmlElement, localName: string): XmlElement | undefined {

    return childElements(element).find((candidate) => candidate.localName === localName && candidate.namespace === SOAP_NAMESPACE);
}

/**
 * Client side: splits an answer envelope into either the signed document it carries
 * (the exact text of the Body's only element, still to be verified) or the Fault.
 * Throws InvalidXml for anything else.
 */
export function readAnswerEnvelope(text: string, maxBytes: number): { document: string } | { fault: SoapFault } {

    const root = parseXml(text, { maxBytes, maxDepth: internals.maxDepth });
    const body = root.localName === 'Envelope' && root.namespace === SOAP_NAMESPACE ? child(root, 'Body') : undefined;
    const content = body ? childElements(body) : [];
    if (!body || content.length !== 1) {
        throw new InvalidXml('the answer is not a SOAP 1.2 envelope with one Body element');
    }

    const only = content[0]!;
    if (only.localName === 'Fault' && only.namespace === SOAP_NAMESPACE) {
        const code = child(only, 'Code');
        const value = code ? child(code, 'Value') : undefined;
        const subcode = code ? child(code, 'Subcode') : undefined;
        const subvalue = subcode ? child(subcode, 'Value') : undefined;
        const reason = child(only, 'Reason');
        const reasonText = reason ? child(reason, 'Text') : undefined;
        return {
            fault: {
                code: textContent(value ?? only).replace(/^.*:/, '') as SoapFault['code'],
                ...(subvalue ? { subcode: textContent(subvalue).replace(/^.*:/, '') } : {}),
                reason: reasonText ? textContent(reasonText) : 'no reason given'
            }
        };
    }

    // The Body's element is a standalone signed document: take its exact text.
    const open = new RegExp(`<${body.name.replace('.', '\\.')}(?=[\\s/>])[^>]*>`, 'g');
    let start = -1;
    for (let match = open.exec(text); match; match = open.exec(text)) {
        start = match.index + match[0].length;
    }

    const end = text.lastIndexOf(`</${body.name}`);
    if (start === -1 || end < start) {
        throw new InvalidXml('the answer Body cannot be located');
    }

    return { document: text.slice(start, end).trim() };
}
