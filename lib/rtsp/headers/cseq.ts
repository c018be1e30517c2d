/**
 * CSeq (RFC 2326 §12.17) and the method lists of Public (§12.28) and Allow
 * (§12.4).
 *
 * @module
 */
import { quote, rtspError } from "../error.ts";
import { TOKEN } from "../message.ts";

const CSEQ = /^\d{1,10}$/;

/** The sequence number of a CSeq value; anything but 1–10 digits up to 2^32 − 1 is a 400 {@link RtspError}. */
export function parseCSeq(value: string): number {
  const text = value.trim();
  const n = CSEQ.test(text) ? Number(text) : NaN;
  if (!(n <= 0xffffffff)) {
    throw rtspError("parse CSeq", "malformed", quote(value), 400);
  }
  return n;
}

/**
 * The methods of a Public or Allow value. Commas separate them (§12.28);
 * spaces are taken as separators too, and anything that is not a token is
 * skipped, as a client only asks whether a method is listed.
 */
export function parseMethodList(value: string): string[] {
  return value.split(/[\s,]+/).filter((m) => m !== "" && TOKEN.test(m));
}

/** `OPTIONS, DESCRIBE, …` as live555 and most servers write it. */
export function stringifyMethodList(methods: readonly string[]): string {
  return methods.join(", ");
}
