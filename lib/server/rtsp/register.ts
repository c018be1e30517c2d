/**
 * REGISTER and DEREGISTER (live555's RTSPServerWithREGISTERProxying): a
 * camera or another server asks Sluice to pull its `rtsp://` stream and
 * publish it on a path, and later to stop.
 *
 * ```
 * REGISTER rtsp://10.0.0.5:8554/cam1 RTSP/1.0
 * CSeq: 1
 * Transport: reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=site/cam1
 * ```
 *
 * The path is `proxy_url_suffix` when given, else the path of the URL; both
 * are read as any path from the wire is ({@link parsePath}). REGISTER and
 * DEREGISTER need the path's `publish` credentials, as ANNOUNCE does.
 *
 * - With `reuse_connection` the 200 is the last thing Sluice's server says
 *   on that connection: then its RTSP client speaks OPTIONS, DESCRIBE,
 *   SETUP and PLAY on it, RTP interleaved (the registering side sits behind
 *   NAT and has no port open). The registration ends with that connection.
 * - Without it Sluice connects out to the URL. Since that lets a peer make
 *   Sluice open connections, it is allowed only on paths with publish
 *   credentials configured (403 otherwise), and the REGISTER is answered
 *   once the URL answered OPTIONS: 502 when it refused, 504 when it stayed
 *   silent past the bounded wait.
 *
 * As live555 does, a REGISTER of a path already registered and a
 * DEREGISTER of one that is not are 451. A connection sends at most
 * {@link MAX_REGISTERS_PER_CONNECTION} of either; past that it is answered
 * 400 and closed.
 *
 * @module
 */

import { parsePath } from "../../path.ts";
import { parseRegisterTransport } from "../../rtsp/headers/register.ts";
import type { RtspRequest } from "../../rtsp/message.ts";
import { rtspPath } from "../../rtsp/url.ts";
import { authorize } from "./access.ts";
import type { ConnectionContext, Registrar, ServerContext } from "./context.ts";
import { answerOf, Refusal, type Reply } from "./reply.ts";

/** REGISTER and DEREGISTER requests one connection may send. */
export const MAX_REGISTERS_PER_CONNECTION = 8;
/** Registrations at once, over all connections. */
export const MAX_REGISTRATIONS = 256;

/** What the REGISTER methods need of the server. */
export type RegisterServer = Pick<
  ServerContext,
  "config" | "auth" | "authenticator" | "registrar"
>;

const attempts = new WeakMap<object, number>();

/** REGISTER: checks it, takes the path and starts the pull. */
export async function register(
  server: RegisterServer,
  conn: ConnectionContext,
  req: RtspRequest,
): Promise<Reply> {
  const flood = floodReply(server, conn);
  if (flood !== undefined) return flood;
  try {
    return await registerChecked(server, conn, req);
  } catch (e) {
    count(server, e);
    throw e;
  }
}

/** DEREGISTER: stops the pull of a registered path and frees it. */
export async function deregister(
  server: RegisterServer,
  conn: ConnectionContext,
  req: RtspRequest,
): Promise<Reply> {
  const flood = floodReply(server, conn);
  if (flood !== undefined) return flood;
  try {
    const { registrar, path } = await common(server, conn, req);
    if (!registrar.deregister(path)) {
      throw new Refusal(451, `${path} is not registered`);
    }
    registrar.stats.deregistered++;
    conn.log.info("deregistered", { path });
    return { status: 200 };
  } catch (e) {
    count(server, e);
    throw e;
  }
}

async function registerChecked(
  server: RegisterServer,
  conn: ConnectionContext,
  req: RtspRequest,
): Promise<Reply> {
  const { registrar, path, url, transport, user } = await common(
    server,
    conn,
    req,
  );
  if (registrar.has(path)) {
    throw new Refusal(451, `${path} is already registered`);
  }
  if (server.config.paths?.[path]?.source !== undefined) {
    throw new Refusal(451, `${path} has a configured source`);
  }
  if (registrar.size >= MAX_REGISTRATIONS) {
    throw new Refusal(503, `${MAX_REGISTRATIONS} streams are registered`);
  }
  if (transport.reuseConnection) {
    if (conn.handOver === undefined) {
      throw new Refusal(455, "this connection cannot be reused");
    }
    if (conn.sessions.size > 0) {
      throw new Refusal(455, "reuse_connection on a connection with sessions");
    }
    const handOver = conn.handOver.bind(conn);
    let give!: (p: ReturnType<typeof handOver>) => void;
    const handed = new Promise<Awaited<ReturnType<typeof handOver>>>((r) => {
      give = r;
    });
    // The path is taken now; the pull starts once the 200 is on the wire.
    void registrar.register({
      path,
      url,
      transport: "tcp",
      conn: handed,
    })
      .catch(() => {});
    done(server, conn, path, url, true);
    return { status: 200, after: () => give(handOver()) };
  }
  // Anonymous publishers may not make Sluice connect out: a named user
  // (or the path's publishUser) must have allowed it.
  if (user === "any") {
    throw new Refusal(
      403,
      `connecting out for ${path} needs publish credentials on the path`,
    );
  }
  try {
    await registrar.register({
      path,
      url,
      transport: transport.preferredDelivery === "interleaved"
        ? "tcp"
        : "automatic",
    });
  } catch (e) {
    const status = (e as { status?: unknown }).status === 504 ? 504 : 502;
    throw new Refusal(
      status,
      `${redactUrl(url)} did not answer: ${e instanceof Error ? e.message : e}`,
    );
  }
  done(server, conn, path, url, false);
  return { status: 200 };
}

/** What both methods check first: the limit per connection, the URL, the path and the credentials. */
async function common(
  server: RegisterServer,
  conn: ConnectionContext,
  req: RtspRequest,
): Promise<{
  registrar: Registrar;
  path: string;
  url: string;
  transport: ReturnType<typeof parseRegisterTransport>;
  /** Who was allowed to publish: `any` when nobody logged in. */
  user: string;
}> {
  const registrar = server.registrar;
  if (registrar === undefined) {
    throw new Refusal(501, `${req.method} is not enabled`);
  }
  const url = registeredUrl(req.url);
  const transport = parseRegisterTransport(req.headers.getOne("Transport"));
  const path = registeredPath(url, transport.proxyUrlSuffix);
  const user = await authorize(server, conn, req, path, "publish");
  return { registrar, path, url, transport, user };
}

/** 400 and the end of the connection for one REGISTER too many. */
function floodReply(
  server: RegisterServer,
  conn: ConnectionContext,
): Reply | undefined {
  const n = (attempts.get(conn) ?? 0) + 1;
  attempts.set(conn, n);
  if (n <= MAX_REGISTERS_PER_CONNECTION) return undefined;
  if (server.registrar !== undefined) server.registrar.stats.refused++;
  if (n === MAX_REGISTERS_PER_CONNECTION + 1) {
    conn.log.warn("closing: REGISTER flood", {
      requests: n,
      limit: MAX_REGISTERS_PER_CONNECTION,
    });
  }
  return {
    status: 400,
    after: () => void conn.close("REGISTER flood"),
  };
}

/** The URL of a REGISTER: `rtsp://` with a host, else 400. */
function registeredUrl(text: string): string {
  if (!/^rtsp:\/\//i.test(text)) {
    throw new Refusal(400, "only an rtsp:// URL can be registered");
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Refusal(400, "the URL does not parse");
  }
  if (u.hostname === "") throw new Refusal(400, "the URL names no host");
  return text;
}

/** The path a registration publishes on: the suffix asked for, else the URL's path. */
function registeredPath(url: string, suffix: string | undefined): string {
  const path = suffix !== undefined ? parsePath(suffix) : rtspPath(url);
  if (path === undefined || path === "") {
    throw new Refusal(
      400,
      suffix !== undefined
        ? "proxy_url_suffix is not a valid path"
        : "the URL names no path and no proxy_url_suffix was given",
    );
  }
  return path;
}

function done(
  server: RegisterServer,
  conn: ConnectionContext,
  path: string,
  url: string,
  reuse: boolean,
): void {
  server.registrar!.stats.registered++;
  conn.log.info("registered", {
    path,
    url: redactUrl(url),
    connection: reuse ? "reused" : "new",
  });
}

function count(server: RegisterServer, e: unknown): void {
  if (answerOf(e) !== undefined && server.registrar !== undefined) {
    server.registrar.stats.refused++;
  }
}

function redactUrl(url: string): string {
  return url.replace(/^(rtsp:\/\/)[^@/]*@/i, "$1");
}
