/**
 * The registering side of live555's REGISTER proxying: connect out to a
 * central RTSP server, ask it (with credentials) to proxy one of our
 * streams over this same connection, and hand the connection on, so that
 * our RTSP server answers the central server's DESCRIBE, SETUP and PLAY on
 * it. A camera behind NAT reaches a central server this way with no port
 * open.
 *
 * ```
 * REGISTER rtsp://192.168.1.20:8554/cam1 RTSP/1.0
 * CSeq: 1
 * Transport: reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=site/cam1
 * Authorization: Digest username="cam", realm="Sluice", nonce="…", uri="rtsp://192.168.1.20:8554/cam1", response="…"
 * ```
 *
 * The answer is read byte by byte up to its end: once the server says 200
 * it may send its first request at once, and those bytes belong to the
 * next owner of the connection.
 *
 * @module
 */

import { PrefixedConn } from "../../net/prefixed.ts";
import {
  closeQuietly,
  connectTcp,
  type StreamConn,
  writeAll,
} from "../../net/tcp.ts";
import { RtspFramer } from "../../rtsp/framer.ts";
import {
  type AuthChallenge,
  digestAuthorization,
  parseWwwAuthenticate,
  stringifyAuthorization,
} from "../../rtsp/headers/auth.ts";
import { stringifyRegisterTransport } from "../../rtsp/headers/register.ts";
import { encodeRequest, type RtspResponse } from "../../rtsp/message.ts";
import { withTimeout } from "../_timeout.ts";
import { RtspClientError } from "./error.ts";

/** Options of {@link registerStream}. */
export interface RegisterStreamOptions {
  /**
   * The URL of our stream, as the central server will request it
   * (`rtsp://<our address>:<our port>/<path>`); made from the connection's
   * local address when left out.
   */
  streamUrl?: (local: Deno.NetAddr) => string;
  /** The name the central server publishes the stream under. */
  proxyUrlSuffix?: string;
  /** The connect and the whole exchange must finish within this. @default {10000} */
  timeoutMs?: number;
}

/** A connection on which the central server now sends requests. */
export interface RegisteredLink {
  /** The connection, the bytes after the REGISTER answer still to read. */
  conn: StreamConn;
  /** The URL that was registered. */
  streamUrl: string;
}

/** Largest REGISTER answer read. */
const MAX_ANSWER_BYTES = 16 * 1024;

/**
 * Connects to `serverUrl` (`rtsp://[user:pass@]host[:port]/…`), REGISTERs
 * our stream with `reuse_connection` and interleaved delivery, answering a
 * 401 with the URL's credentials (Digest when offered), and returns the
 * connection once the server said 200.
 *
 * @throws {RtspClientError} when the server cannot be reached, refuses, or
 * does not answer within `timeoutMs`
 */
export async function registerStream(
  serverUrl: string,
  options: RegisterStreamOptions = {},
): Promise<RegisteredLink> {
  const u = new URL(serverUrl);
  if (u.protocol !== "rtsp:") {
    throw new TypeError(`Cannot register at "${u.origin}": expected rtsp://`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const hostname = u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port === "" ? 554 : Number(u.port);
  let conn: Deno.TcpConn;
  try {
    conn = await withTimeout(connectTcp(hostname, port), timeoutMs, "connect");
  } catch (e) {
    throw new RtspClientError(
      "connect",
      `${hostname}:${port}: ${e instanceof Error ? e.message : e}`,
    );
  }
  const local = conn.localAddr as Deno.NetAddr;
  const streamUrl = options.streamUrl?.(local) ??
    `rtsp://${hostForUrl(local.hostname)}:${local.port}/`;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  try {
    const rest = await withTimeout(
      exchange(conn, streamUrl, options.proxyUrlSuffix, { user, pass }),
      timeoutMs,
      "REGISTER",
    );
    return { conn: new PrefixedConn(conn, rest), streamUrl };
  } catch (e) {
    closeQuietly(conn);
    if (e instanceof RtspClientError) throw e;
    throw new RtspClientError(
      "REGISTER",
      e instanceof Error ? e.message : String(e),
    );
  }
}

/** REGISTER until 200 (a 401 answered at most twice); returns the bytes read past the answer. */
async function exchange(
  conn: Deno.TcpConn,
  streamUrl: string,
  suffix: string | undefined,
  creds: { user: string; pass: string },
): Promise<Uint8Array> {
  let challenge: AuthChallenge | undefined;
  let rest: Uint8Array = new Uint8Array(0);
  for (let cseq = 1; cseq <= 3; cseq++) {
    const headers: [string, string][] = [
      ["CSeq", String(cseq)],
      ["User-Agent", "Sluice"],
      [
        "Transport",
        stringifyRegisterTransport({
          reuseConnection: true,
          preferredDelivery: "interleaved",
          proxyUrlSuffix: suffix,
        }),
      ],
    ];
    if (challenge !== undefined) {
      headers.push([
        "Authorization",
        authorization(challenge, creds, streamUrl),
      ]);
    }
    await writeAll(
      conn,
      encodeRequest({ method: "REGISTER", url: streamUrl, headers }),
    );
    const answer = await readAnswer(conn, rest);
    rest = answer.rest;
    const r = answer.response;
    if (r.headers.get("CSeq")?.trim() !== String(cseq)) {
      throw new RtspClientError("REGISTER", "the answer has another CSeq");
    }
    if (r.status === 200) return rest;
    if (r.status !== 401) {
      throw new RtspClientError(
        "REGISTER",
        `server answered ${r.status} ${r.reason}`,
        r.status,
      );
    }
    if (creds.user === "") {
      throw new RtspClientError("REGISTER", "credentials required", 401);
    }
    const next = pickChallenge(r);
    const stale = next?.scheme === "Digest" && next.stale === true;
    if (next === undefined || (challenge !== undefined && !stale)) {
      throw new RtspClientError(
        "REGISTER",
        next === undefined
          ? "401 without a challenge Sluice can answer"
          : "wrong user name or password",
        401,
      );
    }
    challenge = next;
  }
  throw new RtspClientError("REGISTER", "wrong user name or password", 401);
}

/**
 * Reads one response, feeding the framer a byte at a time so that it stops
 * exactly at the answer's end; what follows is returned, not consumed.
 */
async function readAnswer(
  conn: StreamConn,
  pending: Uint8Array,
): Promise<{ response: RtspResponse; rest: Uint8Array }> {
  const framer = new RtspFramer({ maxBodySize: MAX_ANSWER_BYTES });
  let response: RtspResponse | undefined;
  const sink = {
    enqueue: (m: { kind: string }) => {
      if (m.kind === "response") response = m as RtspResponse;
      else throw new RtspClientError("REGISTER", "the server did not answer");
    },
  };
  let chunk = pending;
  let total = 0;
  const buf = new Uint8Array(4096);
  for (;;) {
    for (let i = 0; i < chunk.length; i++) {
      framer.push(chunk.subarray(i, i + 1), sink);
      if (response === undefined) continue;
      let rest = chunk.subarray(i + 1);
      // A CR ended the answer: the LF after it is the answer's too.
      if (chunk[i] === 0x0d && rest[0] === 0x0a) rest = rest.subarray(1);
      return { response, rest: rest.slice() };
    }
    total += chunk.length;
    if (total > MAX_ANSWER_BYTES) {
      throw new RtspClientError("REGISTER", "the answer is too long");
    }
    const n = await conn.read(buf);
    if (n === null) {
      throw new RtspClientError("REGISTER", "the server closed the connection");
    }
    chunk = buf.subarray(0, n);
  }
}

function pickChallenge(r: RtspResponse): AuthChallenge | undefined {
  const challenges = r.headers.getAll("WWW-Authenticate").flatMap((v) => {
    try {
      return parseWwwAuthenticate(v);
    } catch {
      return [];
    }
  });
  return challenges.find((c) => c.scheme === "Digest") ??
    challenges.find((c) => c.scheme === "Basic");
}

function authorization(
  c: AuthChallenge,
  creds: { user: string; pass: string },
  uri: string,
): string {
  if (c.scheme === "Basic") {
    return stringifyAuthorization({
      scheme: "Basic",
      username: creds.user,
      password: creds.pass,
    });
  }
  const cnonce = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return stringifyAuthorization(
    digestAuthorization(c, {
      username: creds.user,
      password: creds.pass,
      method: "REGISTER",
      uri,
      cnonce,
    }),
  );
}

function hostForUrl(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
