/**
 * The characters IKS XML may carry, in what we sign and in what we accept: XML 1.0 §2.2
 * Char without NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029).
 * Those three are XML 1.0 characters, but @xmldom/xmldom (inside xml-crypto) turns them
 * into line feeds as XML 1.1 does, so a verifier would digest other text than the signer
 * did. One set for both directions: a request could otherwise store text that no document
 * can render, and every later document of its name would fail to sign.
 */
export const FORBIDDEN_CHARACTER = /[^\t\n\r\u0020-\u0084\u0086-\u2027\u202A-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
