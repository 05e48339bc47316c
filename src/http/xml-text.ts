/**
 * Escaping for the XML documents. XML 1.0 cannot carry every string: control
 * characters other than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF are
 * not characters of the language at all, not even as character references
 * (XML-12). Parameter values holding them go by reference (PAR-2); any other
 * text has them replaced by U+FFFD, so the document stays well-formed.
 */

// The complement of the XML 1.0 `Char` production. With the `u` flag, a paired
// surrogate is one code point and does not match; a lone one does.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NOT_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Whether `text` can appear in an XML 1.0 document (escaped as needed). */
export function isXmlRepresentable(text: string): boolean {
  return !NOT_XML_CHAR.test(text);
}

/** `text` with every character XML 1.0 cannot hold replaced by U+FFFD. */
export function toXmlChars(text: string): string {
  return NOT_XML_CHAR.test(text) ? text.replace(NOT_XML_CHARS, '\uFFFD') : text;
}

const TEXT_SPECIAL = /[&<>\r]/;
const TEXT_SPECIALS = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<>"'\t\n\r]/;
const ATTR_SPECIALS = /[&<>"'\t\n\r]/g;

const REFERENCES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Parsers turn a literal CR into LF, and tab/LF in attributes into spaces:
  // character references keep the value exactly as it was given.
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

/** Element content: `& < >` escaped (so `]]>` cannot occur), CR kept as a reference. */
export function escapeText(text: string): string {
  const safe = toXmlChars(text);
  return TEXT_SPECIAL.test(safe) ? safe.replace(TEXT_SPECIALS, (c) => REFERENCES[c]!) : safe;
}

/** A double-quoted attribute value, whitespace preserved through attribute normalisation. */
export function escapeAttribute(text: string): string {
  const safe = toXmlChars(text);
  return ATTR_SPECIAL.test(safe) ? safe.replace(ATTR_SPECIALS, (c) => REFERENCES[c]!) : safe;
}

// An NCName that does not start with "xml" (reserved) and needs no escaping.
const ELEMENT_NAME = /^(?![Xx][Mm][Ll])[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Whether `name` can be used as it is as an unqualified element name. */
export function isSimpleElementName(name: string): boolean {
  return name.length <= 200 && ELEMENT_NAME.test(name);
}
