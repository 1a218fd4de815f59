import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { InvalidXml } from '../../lib/errors';
import { childElements, parseXml, screenXml, textContent, type XmlElement } from '../../lib/xml/parse';

export const lab = Lab.script();
const { describe, it } = lab;

describe('parseXml()', () => {

    it('parses elements, attributes, text and resolves namespaces', () => {

        const root = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns="urn:x" a="1"><env:Body><Register k="v">text</Register><y:Other xmlns:y="urn:y"/></env:Body></env:Envelope>\n');
        expect(root.name).to.equal('env:Envelope');
        expect(root.localName).to.equal('Envelope');
        expect(root.namespace).to.equal('http://www.w3.org/2003/05/soap-envelope');
        expect(root.attributes).to.equal({ a: '1' });

        const [body] = childElements(root) as [XmlElement];
        const [register, other] = childElements(body) as [XmlElement, XmlElement];
        expect(register).to.include({ localName: 'Register', namespace: 'urn:x' });
        expect(register.attributes.k).to.equal('v');
        expect(textContent(register)).to.equal('text');
        expect(other).to.include({ name: 'y:Other', localName: 'Other', namespace: 'urn:y', children: [] });
    });

    it('gives no namespace to unprefixed elements without a default, and honours xmlns=""', () => {

        const root = parseXml('<a><b xmlns="urn:b"><c xmlns=""/></b></a>');
        expect(root.namespace).to.equal(null);
        const [b] = childElements(root) as [XmlElement];
        expect(b.namespace).to.equal('urn:b');
        expect(childElements(b)[0]!.namespace).to.equal(null);
        expect(parseXml('<xml:a/>').namespace).to.equal('http://www.w3.org/XML/1998/namespace');
    });

    it('decodes predefined entities and character references, keeps CDATA literally and drops comments', () => {

        const root = parseXml('<a t="x&amp;y&#x9;z&#10;w&lt;&quot;">&lt;&gt;&amp;&quot;&apos;&#xD;&#13;&#x1F600;<![CDATA[<b>&amp;]]><!-- c -->end</a>');
        expect(root.children).to.equal(['<>&"\'\r\r😀<b>&amp;end']);
        expect(root.attributes.t).to.equal('x&y\tz\nw<"');
    });

    it('normalises line ends and attribute white space as XML 1.0 does', () => {

        const root = parseXml('<a t="1\t2\r\n3">x\r\ny\rz</a>');
        expect(root.attributes.t).to.equal('1 2 3');
        expect(textContent(root)).to.equal('x\ny\nz');
    });

    it('keeps the order of mixed children, without empty text', () => {

        const root = parseXml('<a> x <b/>y<c/><![CDATA[]]><d/> </a>');
        expect(root.children.map((child) => (typeof child === 'string' ? child : child.name))).to.equal([' x ', 'b', 'y', 'c', 'd', ' ']);
        expect(textContent(root)).to.equal(' x y ');
        expect(parseXml('<a><![CDATA[]]></a>').children).to.equal([]);
    });

    it('accepts a byte order mark, comments and white space around the root', () => {

        expect(parseXml('\uFEFF<?xml version="1.0"?><!-- x --> <a/> <!-- y -->\n').name).to.equal('a');
    });

    it('refuses a DOCTYPE, internal entities and external entities', () => {

        expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>')).to.throw(InvalidXml, 'XML with a DOCTYPE is not accepted');
        expect(() => parseXml('<!doctype a><a/>')).to.throw(InvalidXml, /DOCTYPE/);
        expect(() => parseXml('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>')).to.throw(InvalidXml, /DOCTYPE/);
        expect(() => parseXml('<a><!ENTITY x "y"></a>')).to.throw(InvalidXml, /markup declarations/);
        expect(() => parseXml('<a><!ELEMENT a ANY></a>')).to.throw(InvalidXml, /markup declarations/);
    });

    it('refuses undefined entity references and bare ampersands', () => {

        expect(() => parseXml('<a>&x;</a>')).to.throw(InvalidXml, /undefined entity reference/);
        expect(() => parseXml('<a>&nbsp;</a>')).to.throw(InvalidXml, /undefined entity reference/);
        expect(() => parseXml('<a t="&x;"/>')).to.throw(InvalidXml, /undefined entity reference/);
        expect(() => parseXml('<a>a & b</a>')).to.throw(InvalidXml);
    });

    it('refuses character references to characters IKS XML does not carry', () => {

        for (const ref of ['&#0;', '&#x1;', '&#xFFFE;', '&#xD800;', '&#x110000;', '&#x000000000041;', '&#x85;', '&#x2028;', '&#8233;']) {
            expect(() => parseXml(`<a>${ref}</a>`)).to.throw(InvalidXml, /character reference/);
        }
    });

    it('refuses processing instructions other than the XML declaration', () => {

        expect(() => parseXml('<?xml-stylesheet href="x"?><a/>')).to.throw(InvalidXml, 'XML processing instructions are not accepted');
        expect(() => parseXml('<a><?php x ?></a>')).to.throw(InvalidXml, 'XML processing instructions are not accepted');
        expect(() => parseXml('<a/><?xml version="1.0"?>')).to.throw(InvalidXml, 'XML processing instructions are not accepted');
        expect(() => parseXml(' <?xml version="1.0"?><a/>')).to.throw(InvalidXml, 'XML processing instructions are not accepted');
    });

    it('refuses input over the size limit, counting UTF-8 bytes', () => {

        expect(() => parseXml(`<a>${'x'.repeat(70_000)}</a>`)).to.throw(InvalidXml, 'XML input is larger than 65536 bytes');
        expect(() => parseXml(`<a>${'é'.repeat(30)}</a>`, { maxBytes: 60 })).to.throw(InvalidXml, 'XML input is larger than 60 bytes');
        expect(parseXml(`<a>${'é'.repeat(20)}</a>`, { maxBytes: 60 }).name).to.equal('a');
        expect(parseXml(`<a>${'x'.repeat(70_000)}</a>`, { maxBytes: 100_000 }).name).to.equal('a');
    });

    it('refuses nesting deeper than the limit', () => {

        const nested = (depth: number) => '<a>'.repeat(depth) + '</a>'.repeat(depth);
        expect(parseXml(nested(32)).name).to.equal('a');
        expect(() => parseXml(nested(33))).to.throw(InvalidXml, 'XML is nested deeper than 32 elements');
        expect(() => parseXml(nested(4), { maxDepth: 3 })).to.throw(InvalidXml, 'XML is nested deeper than 3 elements');
        expect(() => parseXml(nested(5000), { maxDepth: 10 })).to.throw(InvalidXml);
    });

    it('refuses characters XML 1.0 does not allow, and NEL, LS and PS, which no IKS document can carry', () => {

        expect(() => parseXml('<a>\u0000</a>')).to.throw(InvalidXml, 'XML input contains a character IKS XML does not carry (one XML 1.0 forbids, or NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR)');
        for (const bad of ['\uD800', '\u0085', '\u2028', '\u2029']) {
            expect(() => parseXml(`<a>x${bad}</a>`)).to.throw(InvalidXml, /does not carry/);
            expect(() => parseXml(`<a t="${bad}"/>`)).to.throw(InvalidXml, /does not carry/);
        }

        expect(parseXml('<a>\u0084\u2027\u202A\u{10FFFF}</a>').children).to.equal(['\u0084\u2027\u202A\u{10FFFF}']);
    });

    it('refuses malformed documents', () => {

        for (const bad of ['', 'text', '<a>', '<a></b>', '<a><b></a></b>', '<a b="1" b="2"/>', '<a b/>', '<a b=1/>', '<a/><b/>', '<a/>text', 'text<a/>', '<a/><!-- c -->text<!-- d -->', '<!-- only a comment -->']) {
            expect(() => parseXml(bad), bad).to.throw(InvalidXml);
        }
    });

    it('refuses "<" in attribute values and invalid or unbound names', () => {

        expect(() => parseXml('<a b="<"/>')).to.throw(InvalidXml, /contains "<"/);
        expect(() => parseXml('<p:a/>')).to.throw(InvalidXml, 'XML element "p:a" uses the undeclared prefix "p"');
        expect(() => parseXml('<a p:b="1"/>')).to.throw(InvalidXml, 'XML attribute "p:b" uses the undeclared prefix "p"');
        expect(() => parseXml('<a:b:c xmlns:a="urn:a"/>')).to.throw(InvalidXml, /not a valid qualified name/);
        expect(() => parseXml('<__proto__/>')).to.throw(InvalidXml, /could not be parsed/);
        expect(() => parseXml('<:a/>')).to.throw(InvalidXml, /not a valid qualified name/);
        expect(parseXml('<a xmlns:p="urn:p" p:b="1"/>').attributes).to.equal({ 'p:b': '1' });
    });

    it('refuses reserved namespace declarations and prefix undeclarations', () => {

        expect(() => parseXml('<a xmlns:xml="urn:x"/>')).to.throw(InvalidXml, /reserved namespace/);
        expect(() => parseXml('<a xmlns:p="http://www.w3.org/2000/xmlns/"/>')).to.throw(InvalidXml, /reserved namespace/);
        expect(() => parseXml('<a xmlns:xmlns="urn:x"/>')).to.throw(InvalidXml, /reserved namespace/);
        expect(() => parseXml('<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>')).to.throw(InvalidXml, /reserved namespace/);
        expect(() => parseXml('<a xmlns:p=""/>')).to.throw(InvalidXml, /undeclares the prefix "p"/);
    });

    it('refuses input that is not a string', () => {

        expect(() => parseXml(Buffer.from('<a/>') as unknown as string)).to.throw(InvalidXml, 'XML input must be a string');
    });
});

describe('screenXml()', () => {

    it('accepts ordinary documents and the XML declaration', () => {

        expect(() => screenXml('<?xml version="1.0"?>\n<a><![CDATA[x]]><!-- y --></a>')).to.not.throw();
    });
});
