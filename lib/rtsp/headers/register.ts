/**
 * The Transport header of live555's REGISTER and DEREGISTER requests, the
 * extension by which a camera (or a server behind NAT) asks another RTSP
 * server to proxy its stream. Not in any RFC: this is what live555's
 * `RTSPRegisterSender` writes and `RTSPServerWithREGISTERProxying` reads.
 *
 * ```
 * REGISTER rtsp://10.0.0.5:8554/cam1 RTSP/1.0
 * Transport: reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=cam1
 *
 * DEREGISTER rtsp://10.0.0.5:8554/cam1 RTSP/1.0
 * Transport: proxy_url_suffix=cam1
 * ```
 *
 * - `reuse_connection`: the server pulls the stream over the very TCP
 *   connection the REGISTER came on (roles reverse after the 200), so a
 *   camera behind NAT needs no port open;
 * - `preferred_delivery_protocol`: `interleaved` (RTP in the RTSP
 *   connection) or `udp`;
 * - `proxy_url_suffix`: the name the server publishes the stream under.
 *
 * Parameter names are matched in any case (live555 writes
 * `proxy_url_suffix`, its documentation `proxy_URL_suffix`); unknown ones
 * are skipped, as live555 does. A value too long, an open quote or a
 * parameter given twice is a 400.
 *
 * @module
 */
import { quote, rtspError } from "../error.ts";
import { splitParams, unquote } from "./_params.ts";

/** The parameters of a REGISTER or DEREGISTER Transport header. */
export interface RegisterTransport {
  /** Pull over the connection the REGISTER came on. */
  reuseConnection: boolean;
  /** How the registering side wants RTP delivered, when it said. */
  preferredDelivery?: "interleaved" | "udp";
  /** The name to publish under, as written (still to be checked as a path). */
  proxyUrlSuffix?: string;
}

/** Longest Transport value read; live555's are under 150 characters. */
const MAX_LENGTH = 2048;
/** Most parameters read. */
const MAX_PARAMS = 16;

/**
 * The REGISTER parameters of a Transport value (`undefined`: no header,
 * nothing asked for).
 *
 * @throws {RtspError} 400 for a value too long, an open quote, a parameter
 * given twice, or a `preferred_delivery_protocol` other than `interleaved`
 * or `udp`
 */
export function parseRegisterTransport(
  value: string | undefined,
): RegisterTransport {
  const out: RegisterTransport = { reuseConnection: false };
  if (value === undefined) return out;
  const action = `parse REGISTER transport ${quote(value)}`;
  if (value.length > MAX_LENGTH) {
    throw rtspError(action, "limit", `longer than ${MAX_LENGTH}`, 400);
  }
  const params = splitParams(value);
  if (params === undefined) {
    throw rtspError(action, "malformed", "a quote is left open", 400);
  }
  if (params.length > MAX_PARAMS) {
    throw rtspError(action, "limit", `more than ${MAX_PARAMS} parameters`, 400);
  }
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.key)) {
      throw rtspError(action, "malformed", `${quote(p.name)} twice`, 400);
    }
    seen.add(p.key);
    const v = p.value === undefined ? undefined : unquote(p.value);
    if (p.value !== undefined && v === undefined) {
      throw rtspError(action, "malformed", `value of ${quote(p.name)}`, 400);
    }
    if (p.key === "reuse_connection") {
      out.reuseConnection = true;
    } else if (p.key === "preferred_delivery_protocol") {
      const d = v?.toLowerCase();
      if (d !== "interleaved" && d !== "udp") {
        throw rtspError(
          action,
          "malformed",
          `preferred_delivery_protocol ${quote(v ?? "")}`,
          400,
        );
      }
      out.preferredDelivery = d;
    } else if (p.key === "proxy_url_suffix") {
      if (v === undefined || v === "") {
        throw rtspError(action, "malformed", "empty proxy_url_suffix", 400);
      }
      out.proxyUrlSuffix = v;
    }
  }
  return out;
}

/**
 * The Transport value of a REGISTER (or, with only a suffix, a
 * DEREGISTER), written as live555 writes it.
 *
 * @throws {TypeError} when the suffix holds a character that would end the
 * parameter or the header
 */
export function stringifyRegisterTransport(t: RegisterTransport): string {
  const parts: string[] = [];
  if (t.reuseConnection) parts.push("reuse_connection");
  if (t.preferredDelivery !== undefined) {
    parts.push(`preferred_delivery_protocol=${t.preferredDelivery}`);
  }
  if (t.proxyUrlSuffix !== undefined) {
    // deno-lint-ignore no-control-regex
    if (/[;,"\s\x00-\x1f\x7f]/.test(t.proxyUrlSuffix)) {
      throw new TypeError(
        `Cannot stringify proxy_url_suffix ${quote(t.proxyUrlSuffix)}`,
      );
    }
    parts.push(`proxy_url_suffix=${t.proxyUrlSuffix}`);
  }
  return parts.join("; ");
}
