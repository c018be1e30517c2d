/**
 * Answers held in memory, written without a `Response`: what the hot routes
 * (HLS playlists, parts and segments) answer with.
 *
 * @module
 */

import {
  type ResponseTarget,
  sharedWhole,
  withoutBody,
  writeWhole,
} from "./_whole.ts";
import { writeAll } from "../tcp.ts";
import { sharedBytesResponse } from "./respond.ts";

const encoder = new TextEncoder();

/**
 * A response held in memory, written without a `Response`: what the hot
 * routes (HLS parts, segments and playlists) answer with, since a
 * `Response` and its `Headers` cost more than the answer itself at
 * thousands of requests a second. Header names are in lower case; the
 * framing fields (`content-length`, `connection`, `date`) are the
 * server's.
 */
export interface Answer {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** Shared bytes are written as they are, never copied or modified. */
  body: Uint8Array | string;
}

/** Writes `answer` (its head only for `HEAD`); resolves once written. */
export async function writeAnswer(
  conn: ResponseTarget,
  answer: Answer,
  options: { head: boolean; close: boolean },
): Promise<void> {
  const body = bytesOf(answer);
  const noBody = withoutBody(answer.status, options.head);
  if (body === answer.body) {
    const whole = sharedWhole(
      answer.status,
      answer.headers,
      body,
      noBody,
      options.close,
    );
    if (whole !== undefined) return await writeAll(conn, whole);
  }
  await writeWhole(conn, {
    status: answer.status,
    headers: Object.entries(answer.headers),
    body,
    noBody,
    close: options.close,
    shared: body === answer.body,
  });
}

/** `answer` as a `Response`, its bytes shared (see {@link sharedBytesResponse}). */
export function answerResponse(answer: Answer): Response {
  const body = bytesOf(answer);
  // The length stays in the headers for a `HEAD` answer made of this one.
  const headers = { ...answer.headers, "content-length": String(body.length) };
  return sharedBytesResponse(body, { status: answer.status, headers });
}

/** `res` as an {@link Answer}: its status, headers and whole body. */
export async function answerOf(res: Response): Promise<Answer> {
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

/** The body of `answer` as bytes: its own when it has them. */
function bytesOf(answer: Answer): Uint8Array {
  return typeof answer.body === "string"
    ? encoder.encode(answer.body)
    : answer.body;
}
