/**
 * Hardened XML parsing for everything IKS receives (signed documents, SOAP requests).
 *
 * fast-xml-parser is fast but lenient: it expands internal DOCTYPE entities, accepts
 * undefined entity references, text after the root and unbound prefixes. So the text is
 * screened first (size, DOCTYPE/ENTITY and every other markup declaration, processing
 * instructions, characters IKS XML does not carry: lib/xml/characters.ts), well-formedness
 * is checked by its validator, entity references are decoded here (only the five
 * predefined ones and character references), and namespaces are resolved here.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

import { InvalidXml } from '../errors';
import { FORBIDDEN_CHARACTER } from './characters';

export interface XmlElement {
    /** Qualified name as written (`soap:Envelope`). */
    readonly name: string;
    readonly localName: string;
    /** Namespace URI the element's prefix (or the default namespace) is bound to; null if none. */
    readonly namespace: string | null;
    /** Attributes by qualified name as written, namespace declarations excluded; values decoded. */
    readonly attributes: Readonly<Record<string, string>>;
    /** Child elements and text (entity references decoded, CDATA as text, comments dropped). */
    readonly children: readonly XmlNode[];
}

export type XmlNode = XmlElement | string;

export interface ParseOptions {
    /** Largest accepted input in UTF-8 bytes; default 64 KiB. */
    readonly maxBytes?: number;
    /** Deepest accepted element nesting (the root is depth 1); default 32. */
    readonly maxDepth?: number;
}

type RawNode = Record<string, unknown>;

const internals = {
    defaultMaxBytes: 64 * 1024,
    defaultMaxDepth: 32,
    xmlNamespace: 'http://www.w3.org/XML/1998/namespace',
    xmlnsNamespace: 'http://www.w3.org/2000/xmlns/',
    // `<!` may only open a comment or a CDATA section: DOCTYPE, ENTITY, ELEMENT, ATTLIST… are refused.
    declaration: /<!(?!--|\[CDATA\[)/,
    processingInstruction: /<\?/g,
    xmlDeclaration: /^<\?xml[ \t\r\n][^?]*\?>/,
    reference: /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/y,
    predefined: { lt: '<', gt: '>', amp: '&', quot: '"', apos: '\'' } as Record<string, string>,
    ncName: /^[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][A-Za-z0-9_.\-\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$/,
    parser: new XMLParser({
        preserveOrder: true,
        ignoreAttributes: false,
        attributeNamePrefix: '',
        allowBooleanAttributes: false,
        parseTagValue: false,
        parseAttributeValue: false,
        trimValues: false,
        processEntities: false,             // decoded below, strictly
        htmlEntities: false,
        commentPropName: '#comment',
        cdataPropName: '#cdata',
        ignoreDeclaration: false,
        ignorePiTags: false
    })
};

/**
 * Refuses text that must not reach any XML parser: over `maxBytes`, with a DOCTYPE or
 * any other markup declaration (entity expansion, XXE), with processing instructions
 * other than a leading XML declaration, or with characters IKS XML does not carry.
 * Throws InvalidXml with the reason.
 */
export function screenXml(text: string, maxBytes: number = internals.defaultMaxBytes): void {

    if (typeof text !== 'string') {
        throw new InvalidXml('XML input must be a string');
    }

    // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: measure only when it can matter.
    if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes)) {
        throw new InvalidXml(`XML input is larger than ${maxBytes} bytes`);
    }

    if (/<!DOCTYPE/i.test(text)) {
        throw new InvalidXml('XML with a DOCTYPE is not accepted');
    }

    if (internals.declaration.test(text)) {
        throw new InvalidXml('XML markup declarations (ENTITY, ELEMENT, ATTLIST, NOTATION) are not accepted');
    }

    const start = text.charCodeAt(0) === 0xFEFF ? 1 : 0;
    internals.processingInstruction.lastIndex = 0;
    for (let match = internals.processingInstruction.exec(text); match; match = internals.processingInstruction.exec(text)) {
        if (match.index !== start || !internals.xmlDeclaration.test(text.slice(start))) {
            throw new InvalidXml('XML processing instructions are not accepted');
        }
    }

    if (FORBIDDEN_CHARACTER.test(text)) {
        throw new InvalidXml('XML input contains a character IKS XML does not carry (one XML 1.0 forbids, or NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR)');
    }
}

/**
 * Parses `text` into an element tree after screening it (see screenXml), checking it is
 * well-formed, and resolving namespaces. Throws InvalidXml with the reason.
 */
export function parseXml(text: string, options: ParseOptions = {}): XmlElement {

    const maxDepth = options.maxDepth ?? internals.defaultMaxDepth;
    screenXml(text, options.maxBytes ?? internals.defaultMaxBytes);

    // XML 1.0 §2.11: line ends are normalised before parsing (character references are not).
    const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');

    // The parser silently drops trailing text, so look for it here.
    if (!/>[ \t\n]*$/.test(normalized)) {
        throw new InvalidXml('XML has text outside the root element');
    }

    const validity = XMLValidator.validate(normalized, { allowBooleanAttributes: false });
    if (validity !== true) {
        throw new InvalidXml(`XML is not well-formed: ${validity.err.msg} (line ${validity.err.line})`);
    }

    let top: RawNode[];
    try {
        top = internals.parser.parse(normalized) as RawNode[];
    }
    catch (err) {
        throw new InvalidXml(`XML could not be parsed: ${(err as Error).message}`, { cause: err });
    }

    let root: RawNode | undefined;
    for (const node of top) {
        const name = nodeName(node);
        if (name === '#text') {
            if (!isWhitespace(textOf(node))) {
                throw new InvalidXml('XML has text outside the root element');
            }
        }
        else if (name !== '#comment' && name !== '?xml') {
            if (root !== undefined) {
                throw new InvalidXml('XML has more than one root element');
            }

            root = node;
        }
    }

    // Defensive (the validator already requires a root element).
    // $lab:coverage:off$
    if (root === undefined) {
        throw new InvalidXml('XML has no root element');
    }
    // $lab:coverage:on$

    return convert(root, new Map([['xml', internals.xmlNamespace]]), 1, maxDepth);
}

/** The element children of `element`, in document order. */
export function childElements(element: XmlElement): XmlElement[] {

    return element.children.filter((child): child is XmlElement => typeof child !== 'string');
}

/** The concatenated text children of `element`. */
export function textContent(element: XmlElement): string {

    let text = '';
    for (const child of element.children) {
        if (typeof child === 'string') {
            text += child;
        }
    }

    return text;
}

export function isWhitespace(text: string): boolean {

    return /^[ \t\r\n]*$/.test(text);
}

function nodeName(node: RawNode): string {

    // Every node fast-xml-parser emits has exactly one key besides ':@'.
    return Object.keys(node).find((key) => key !== ':@')!;
}

function textOf(node: RawNode): string {

    // parseTagValue is off, so text values are always strings.
    return node['#text'] as string;
}

function decode(raw: string): string {

    const amp = raw.indexOf('&');
    if (amp === -1) {
        return raw;
    }

    let out = raw.slice(0, amp);
    let i = amp;
    while (i < raw.length) {
        const char = raw[i]!;
        if (char !== '&') {
            out += char;
            ++i;
            continue;
        }

        internals.reference.lastIndex = i;
        const match = internals.reference.exec(raw);
        if (!match) {
            throw new InvalidXml('XML contains an undefined entity reference or a bare "&"');
        }

        if (match[3] !== undefined) {
            out += internals.predefined[match[3]]!;
        }
        else {
            const digits = match[1] ?? match[2]!;
            const code = digits.length > 8 ? Infinity : parseInt(digits, match[1] !== undefined ? 16 : 10);
            const decoded = code <= 0x10FFFF ? String.fromCodePoint(code) : '\u0000';
            if (FORBIDDEN_CHARACTER.test(decoded)) {
                throw new InvalidXml('XML contains a character reference to a character IKS XML does not carry (one XML 1.0 forbids, or NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR)');
            }

            out += decoded;
        }

        i += match[0].length;
    }

    return out;
}

function splitName(name: string): { prefix: string | null; localName: string } {

    const colon = name.indexOf(':');
    const prefix = colon === -1 ? null : name.slice(0, colon);
    const localName = colon === -1 ? name : name.slice(colon + 1);
    if (!internals.ncName.test(localName) || (prefix !== null && !internals.ncName.test(prefix))) {
        throw new InvalidXml(`XML name "${name}" is not a valid qualified name`);
    }

    return { prefix, localName };
}

function convert(node: RawNode, inherited: ReadonlyMap<string, string>, depth: number, maxDepth: number): XmlElement {

    if (depth > maxDepth) {
        throw new InvalidXml(`XML is nested deeper than ${maxDepth} elements`);
    }

    const name = nodeName(node);
    const rawAttributes = (node[':@'] ?? {}) as Record<string, unknown>;

    // Namespace declarations first: they apply to the element's own name and attributes.
    let scope: Map<string, string> | null = null;
    const attributes: Record<string, string> = Object.create(null);
    for (const [attributeName, rawValue] of Object.entries(rawAttributes)) {
        const raw = String(rawValue);
        if (raw.includes('<')) {
            throw new InvalidXml(`XML attribute "${attributeName}" contains "<"`);
        }

        // XML 1.0 §3.3.3: white space characters in CDATA attribute values become spaces.
        const value = decode(raw.replace(/[\t\n]/g, ' '));
        if (attributeName === 'xmlns' || attributeName.startsWith('xmlns:')) {
            const prefix = attributeName === 'xmlns' ? '' : splitName(attributeName).localName;
            if (prefix === 'xmlns' || prefix === 'xml' || value === internals.xmlNamespace || value === internals.xmlnsNamespace) {
                throw new InvalidXml(`XML declares the reserved namespace prefix or URI in "${attributeName}"`);
            }

            if (prefix !== '' && value === '') {
                throw new InvalidXml(`XML undeclares the prefix "${prefix}", which XML 1.0 namespaces do not allow`);
            }

            scope ??= new Map(inherited);
            scope.set(prefix, value);
            continue;
        }

        attributes[attributeName] = value;
    }

    const namespaces = scope ?? inherited;
    const { prefix, localName } = splitName(name);
    let namespace: string | null;
    if (prefix === null) {
        const defaultNamespace = namespaces.get('');
        namespace = defaultNamespace === undefined || defaultNamespace === '' ? null : defaultNamespace;
    }
    else {
        const bound = namespaces.get(prefix);
        if (bound === undefined) {
            throw new InvalidXml(`XML element "${name}" uses the undeclared prefix "${prefix}"`);
        }

        namespace = bound;
    }

    for (const attributeName of Object.keys(attributes)) {
        const attributePrefix = splitName(attributeName).prefix;
        if (attributePrefix !== null && !namespaces.has(attributePrefix)) {
            throw new InvalidXml(`XML attribute "${attributeName}" uses the undeclared prefix "${attributePrefix}"`);
        }
    }

    const children: XmlNode[] = [];
    let pendingText: string | null = null;
    for (const child of node[name] as RawNode[]) {
        const childName = nodeName(child);
        if (childName === '#text' || childName === '#cdata') {
            const value = childName === '#text' ? decode(textOf(child)) : (child['#cdata'] as RawNode[]).map(textOf).join('');
            pendingText = (pendingText ?? '') + value;
            continue;
        }

        if (childName === '#comment') {
            continue;
        }

        if (pendingText) {
            children.push(pendingText);
        }

        pendingText = null;

        children.push(convert(child, namespaces, depth + 1, maxDepth));
    }

    if (pendingText) {
        children.push(pendingText);
    }

    return { name, localName, namespace, attributes, children };
}
