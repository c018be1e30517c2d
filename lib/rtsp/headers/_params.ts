/**
 * Pieces shared by the header parsers: quoted strings (RFC 2616 §2.2, which
 * RFC 2326 §15.1 builds on) and splitting at separators outside them.
 *
 * @module
 */

/** Splits at `separator` outside double-quoted strings; `undefined` if a quote is left open. */
export function splitOutsideQuotes(
  text: string,
  separator: string,
): string[] | undefined {
  const out: string[] = [];
  let from = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      out.push(text.slice(from, i));
      from = i + 1;
    }
  }
  if (quoted) return undefined;
  out.push(text.slice(from));
  return out;
}

/** The content of `"…"` with quoted-pairs undone, or `text` itself when it is not quoted; `undefined` if malformed. */
export function unquote(text: string): string | undefined {
  if (!text.startsWith('"')) return text.includes('"') ? undefined : text;
  if (text.length < 2 || !text.endsWith('"')) return undefined;
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    let c = text[i]!;
    if (c === "\\") {
      if (i + 1 >= text.length - 1) return undefined;
      c = text[++i]!;
    } else if (c === '"') return undefined;
    out += c;
  }
  return out;
}

/** `text` as a quoted-string. */
export function quoteString(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&")}"`;
}

/** A `name[=value]` parameter as written; the name is lower-cased for matching. */
export interface Param {
  name: string;
  key: string;
  value: string | undefined;
}

/** Parameters after the first `;` of a Transport spec or Session value; `undefined` if a quote is open. */
export function splitParams(text: string): Param[] | undefined {
  const parts = splitOutsideQuotes(text, ";");
  if (parts === undefined) return undefined;
  const out: Param[] = [];
  for (const part of parts) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const eq = trimmed.indexOf("=");
    const name = (eq < 0 ? trimmed : trimmed.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : trimmed.slice(eq + 1).trim();
    out.push({ name, key: name.toLowerCase(), value });
  }
  return out;
}
