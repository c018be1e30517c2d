/**
 * The request paths of RTMPT (RTMP tunnelled in HTTP), as Flash Player,
 * Flash Media Server and ffmpeg's `rtmpt://` (libavformat/rtmphttp.c) use
 * them: `POST /fcs/ident2` (a probe; clients go on after a 404), `POST
 * /open/1` (answered with the new session's id), then `/send/<id>/<seq>`,
 * `/idle/<id>/<seq>` and `/close/<id>/<seq>` with the sequence number
 * counting up by one per request from 0.
 *
 * @module
 */

/** An RTMPT request, as its path says. */
export type RtmptRequest =
  | { command: "ident" }
  | { command: "open" }
  | {
    command: "send" | "idle" | "close";
    /** The session id `/open` answered. */
    id: string;
    /** The request's sequence number. */
    seq: number;
  };

/** Longest session id accepted; ffmpeg keeps the id in 64 bytes with its NUL. */
export const MAX_ID_LENGTH = 63;
/** Largest sequence number: ffmpeg counts in a C `int`. */
export const MAX_SEQ = 0x7fffffff;

const ID = /^[A-Za-z0-9]+$/;
const SEQ = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * The RTMPT request of a path as sent (no query, no dot-segments resolved),
 * or `undefined` when the path is none: the caller answers 404 then.
 *
 * @example A send request
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRtmptPath } from "./rtmpt_path.ts";
 *
 * assert.deepEqual(parseRtmptPath("/send/a1b2/7"), {
 *   command: "send",
 *   id: "a1b2",
 *   seq: 7,
 * });
 * assert.equal(parseRtmptPath("/send/a1b2/-1"), undefined);
 * ```
 */
export function parseRtmptPath(path: string): RtmptRequest | undefined {
  if (path === "/fcs/ident2") return { command: "ident" };
  if (path === "/open/1") return { command: "open" };
  const parts = path.split("/");
  if (parts.length !== 4 || parts[0] !== "") return undefined;
  const [, command, id, seqText] = parts as [string, string, string, string];
  if (command !== "send" && command !== "idle" && command !== "close") {
    return undefined;
  }
  if (id.length > MAX_ID_LENGTH || !ID.test(id)) return undefined;
  if (!SEQ.test(seqText)) return undefined;
  const seq = Number(seqText);
  if (seq > MAX_SEQ) return undefined;
  return { command, id, seq };
}
