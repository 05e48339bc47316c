import { toXmlChars } from '../http/xml-text.js';

/**
 * HTML built from templates whose interpolated values are escaped unless they
 * are themselves `Html` (the output of another `html` template, or `trusted`).
 * Every page is assembled this way, so a value from a client (a parameter, a
 * RUNID, an error message) can never become markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A value that may be interpolated: text is escaped; Html goes in as is; lists are joined. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const SPECIALS = /[&<>"']/g;
const REFERENCES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for element content and quoted attribute values alike. Characters
 * no HTML (or XML) document may hold, such as NUL or a lone surrogate, become
 * U+FFFD, so the page stays well-formed whatever a client stored.
 */
export function escapeHtml(text: string): string {
  return toXmlChars(text).replace(SPECIALS, (c) => REFERENCES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** The tagged template: html`<p>${userText}</p>`. `false`, null and undefined render as nothing. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Markup written by this program (never client data), taken as is. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** An attribute that is present or absent: html`<input${flag("required", d.required)}>`. */
export function flag(name: string, on: boolean | undefined): Html {
  return new Html(on ? ` ${name}="${name}"` : '');
}
