/**
 * The Session header (RFC 2326 §12.37; RFC 7826 §18.49): an id the server
 * chose, and in replies the seconds of inactivity it tolerates.
 *
 * ```
 * Session: 47112344;timeout=60
 * ```
 *
 * Clients echo the id, some with the `;timeout=` part too (both are read);
 * a server answers an unknown id with 454 Session Not Found.
 *
 * @module
 */
import { quote, rtspError } from "../error.ts";
import { splitParams } from "./_params.ts";

/** A Session value. */
export interface Session {
  /** Chosen by the server; echoed by the client. */
  id: string;
  /** Seconds; RFC 2326 §12.37 makes 60 the default when absent. */
  timeout?: number;
}

/** RFC 7826 §20.2.3 allows 1–256 of ALPHA / DIGIT / `$-_.+`; cameras use a few more (`:`, `=`, `/`), so any visible character but the separators. */
const ID = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,256}$/;
const SECONDS = /^\d{1,9}$/;

/** The id and timeout of a Session value; a malformed id is a 400 {@link RtspError}. An unreadable timeout is left out. */
export function parseSession(value: string): Session {
  const semi = value.indexOf(";");
  const id = (semi < 0 ? value : value.slice(0, semi)).trim();
  if (!ID.test(id)) {
    throw rtspError(
      `parse session ${quote(value)}`,
      "malformed",
      `id ${quote(id)}`,
      400,
    );
  }
  const session: Session = { id };
  if (semi >= 0) {
    for (const p of splitParams(value.slice(semi + 1)) ?? []) {
      if (
        p.key === "timeout" && p.value !== undefined && SECONDS.test(p.value)
      ) {
        session.timeout = Number(p.value);
      }
    }
  }
  return session;
}

/** `id` or `id;timeout=N`. */
export function stringifySession(session: Session): string {
  if (!ID.test(session.id)) {
    throw new TypeError(`Cannot stringify session: id ${quote(session.id)}`);
  }
  return session.timeout === undefined
    ? session.id
    : `${session.id};timeout=${session.timeout}`;
}
