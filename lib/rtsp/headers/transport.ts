/**
 * The Transport header (RFC 2326 §12.39; RFC 7826 §18.54): comma-separated
 * specs, each a transport protocol then `;`-separated parameters.
 *
 * ```
 * Transport: RTP/AVP;unicast;client_port=5000-5001
 * Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record
 * Transport: RTP/AVP;multicast;destination=224.2.0.1;port=3456-3457;ttl=16
 * ```
 *
 * RTP/AVP and RTP/SAVP (SRTP, RFC 3711) are carried, over UDP (`RTP/AVP`,
 * `RTP/AVP/UDP`, `RTP/SAVP` …) or TCP (`RTP/AVP/TCP`, `RTP/SAVP/TCP`);
 * other profiles (RTP/AVPF, RTP/SAVPF, RAW/RAW/UDP) are skipped, and a header offering nothing else is a 461 Unsupported
 * Transport. A malformed header (Kodi has sent such) is a 400; so is a
 * parameter given twice, which could otherwise be read one way here and
 * another way elsewhere.
 *
 * @module
 */
import { quote, rtspError } from "../error.ts";
import {
  quoteString,
  splitOutsideQuotes,
  splitParams,
  unquote,
} from "./_params.ts";

/** An RTP port or interleaved channel, and the RTCP one after it when given. */
export interface RtpPair {
  /** The RTP port or channel. */
  rtp: number;
  /** The RTCP one, when given (usually `rtp + 1`). */
  rtcp?: number;
}

/** One transport spec. */
export interface Transport {
  /** UDP for `RTP/AVP` and `RTP/AVP/UDP`, TCP for `RTP/AVP/TCP` (interleaved). */
  lowerTransport: "UDP" | "TCP";
  /** `SAVP` for SRTP (`RTP/SAVP…`); plain RTP/AVP when absent. */
  profile?: "SAVP";
  /** `unicast` or `multicast` as written; RFC 2326 makes multicast the default, real clients always say. */
  delivery?: "unicast" | "multicast";
  /** Where to send; a server must check it is the client's own address. */
  destination?: string;
  /** Where the server sends from. */
  source?: string;
  /** Channels of `$` frames (§10.12). */
  interleaved?: RtpPair;
  /** The client's UDP ports. */
  clientPort?: RtpPair;
  /** The server's UDP ports, in a reply. */
  serverPort?: RtpPair;
  /** Multicast ports. */
  port?: RtpPair;
  /** Multicast time to live. */
  ttl?: number;
  /** Multicast layers. */
  layers?: number;
  /** 32 bits, written as 8 hex digits. */
  ssrc?: number;
  /** `record` also for ffmpeg's older `mode=receive`. */
  mode?: "play" | "record";
  /** RECORD appends to an existing resource. */
  append?: boolean;
  /** Parameters not modelled above, as written (`RTCP-mux`, `x-dynamic-rate=1` …). */
  other?: string[];
}

/** Longest Transport value read; real ones are under 200 characters. */
const MAX_LENGTH = 4096;
/** Most specs read from one header. */
const MAX_SPECS = 16;
const PROTOCOL = /^[A-Za-z0-9_.+-]+(?:\/[A-Za-z0-9_.+-]+){1,2}$/;
const NUMBER = /^\d{1,5}$/;
const HEX = /^[0-9A-Fa-f]{1,8}$/;
/** Printable ASCII but `"`, `,` and `;` (which would end the parameter). */
const ADDRESS = /^[!#-+\--:<-~]{1,255}$/;
const PARAM_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The supported specs of a Transport value, in the client's order of
 * preference; throws an {@link RtspError} with status 400 (malformed) or 461
 * (nothing supported).
 */
export function parseTransport(value: string): Transport[] {
  if (value.length > MAX_LENGTH) {
    throw fail(value, "malformed", `longer than ${MAX_LENGTH} characters`, 400);
  }
  const specs = splitOutsideQuotes(value, ",");
  if (specs === undefined) {
    throw fail(value, "malformed", "a quote is left open", 400);
  }
  if (specs.length > MAX_SPECS) {
    throw fail(value, "limit", `more than ${MAX_SPECS} specs`, 400);
  }
  const out: Transport[] = [];
  for (const spec of specs) {
    if (spec.trim() === "") continue;
    const parsed = parseSpec(spec.trim(), value);
    if (parsed !== undefined) out.push(parsed);
  }
  if (out.length === 0) {
    throw fail(
      value,
      "unsupported",
      "no RTP/AVP or RTP/SAVP spec over UDP or TCP",
      461,
    );
  }
  return out;
}

function parseSpec(spec: string, value: string): Transport | undefined {
  const semi = spec.indexOf(";");
  const protocol = (semi < 0 ? spec : spec.slice(0, semi)).trim();
  if (!PROTOCOL.test(protocol)) {
    throw fail(
      value,
      "malformed",
      `transport protocol ${quote(protocol)}`,
      400,
    );
  }
  const upper = protocol.toUpperCase();
  const m = /^RTP\/(S?)AVP(?:\/(UDP|TCP))?$/.exec(upper);
  if (m === null) return undefined; // RTP/AVPF, RTP/SAVPF …: another spec may fit
  const lowerTransport = m[2] === "TCP" ? "TCP" : "UDP";
  const params = splitParams(semi < 0 ? "" : spec.slice(semi + 1));
  if (params === undefined) {
    throw fail(value, "malformed", "a quote is left open", 400);
  }
  const transport: Transport = { lowerTransport };
  if (m[1] === "S") transport.profile = "SAVP";
  const seen = new Set<string>();
  for (const { name, key, value: raw } of params) {
    if (!PARAM_NAME.test(name)) {
      throw fail(value, "malformed", `parameter ${quote(name)}`, 400);
    }
    const group = key === "unicast" || key === "multicast" ? "delivery" : key;
    if (seen.has(group)) {
      throw fail(
        value,
        "malformed",
        `parameter ${quote(name)} given twice`,
        400,
      );
    }
    seen.add(group);
    const flag = () => {
      if (raw !== undefined) {
        throw fail(value, "malformed", `${name} takes no value`, 400);
      }
    };
    const text = () => {
      const v = raw === undefined ? undefined : unquote(raw);
      if (v === undefined || v === "") {
        throw fail(value, "malformed", `${name} without a value`, 400);
      }
      return v;
    };
    switch (key) {
      case "unicast":
      case "multicast":
        flag();
        transport.delivery = key;
        break;
      case "destination":
      case "source": {
        // RFC 2326 allows a bare `destination`: the request's source address, i.e. no change.
        if (raw === undefined) break;
        const address = text();
        if (!ADDRESS.test(address)) {
          throw fail(value, "malformed", `${name} ${quote(address)}`, 400);
        }
        transport[key] = address;
        break;
      }
      case "interleaved":
        transport.interleaved = pair(text(), 255, name, value);
        break;
      case "client_port":
        transport.clientPort = pair(text(), 65535, name, value);
        break;
      case "server_port":
        transport.serverPort = pair(text(), 65535, name, value);
        break;
      case "port":
        transport.port = pair(text(), 65535, name, value);
        break;
      case "ttl":
        transport.ttl = number(text(), 255, name, value);
        break;
      case "layers":
        transport.layers = number(text(), 255, name, value);
        break;
      case "ssrc": {
        const hex = text();
        if (!HEX.test(hex)) {
          throw fail(
            value,
            "malformed",
            `ssrc ${quote(hex)} is not 1–8 hex digits`,
            400,
          );
        }
        transport.ssrc = parseInt(hex, 16);
        break;
      }
      case "mode":
        transport.mode = mode(text(), value);
        break;
      case "append":
        flag();
        transport.append = true;
        break;
      default:
        if (raw !== undefined && unquote(raw) === undefined) {
          throw fail(
            value,
            "malformed",
            `parameter ${quote(name)} has a broken quoted value`,
            400,
          );
        }
        (transport.other ??= []).push(
          raw === undefined ? name : `${name}=${raw}`,
        );
    }
  }
  return transport;
}

/** `mode`: a quoted list of methods (§12.39); one of PLAY or RECORD, any case. */
function mode(text: string, value: string): "play" | "record" {
  const modes = text.split(",").map((m) => m.trim().toLowerCase());
  if (modes.length !== 1) {
    throw fail(
      value,
      "unsupported",
      `mode ${quote(text)} names several methods`,
      461,
    );
  }
  const m = modes[0]!;
  if (m === "play") return "play";
  // ffmpeg before 2013 (and some encoders since) write `receive`.
  if (m === "record" || m === "receive") return "record";
  throw fail(value, "unsupported", `mode ${quote(text)}`, 461);
}

function pair(text: string, max: number, name: string, value: string): RtpPair {
  const dash = text.indexOf("-");
  if (dash < 0) return { rtp: number(text, max, name, value) };
  return {
    rtp: number(text.slice(0, dash), max, name, value),
    rtcp: number(text.slice(dash + 1), max, name, value),
  };
}

function number(
  text: string,
  max: number,
  name: string,
  value: string,
): number {
  const t = text.trim();
  const n = NUMBER.test(t) ? Number(t) : NaN;
  if (!(n <= max)) {
    throw fail(
      value,
      "malformed",
      `${name} ${quote(text)} is not a number up to ${max}`,
      400,
    );
  }
  return n;
}

/** A Transport value of one or more specs. */
export function stringifyTransport(
  transport: Transport | readonly Transport[],
): string {
  const specs = Array.isArray(transport) ? transport : [transport as Transport];
  return specs.map(stringifySpec).join(",");
}

function stringifySpec(t: Transport): string {
  const profile = t.profile === "SAVP" ? "RTP/SAVP" : "RTP/AVP";
  const parts = [t.lowerTransport === "TCP" ? `${profile}/TCP` : profile];
  if (t.delivery !== undefined) parts.push(t.delivery);
  if (t.destination !== undefined) {
    parts.push(`destination=${address(t.destination)}`);
  }
  if (t.source !== undefined) parts.push(`source=${address(t.source)}`);
  if (t.interleaved !== undefined) {
    parts.push(`interleaved=${stringifyPair(t.interleaved)}`);
  }
  if (t.clientPort !== undefined) {
    parts.push(`client_port=${stringifyPair(t.clientPort)}`);
  }
  if (t.serverPort !== undefined) {
    parts.push(`server_port=${stringifyPair(t.serverPort)}`);
  }
  if (t.port !== undefined) parts.push(`port=${stringifyPair(t.port)}`);
  if (t.ttl !== undefined) parts.push(`ttl=${t.ttl}`);
  if (t.layers !== undefined) parts.push(`layers=${t.layers}`);
  if (t.ssrc !== undefined) {
    parts.push(
      `ssrc=${(t.ssrc >>> 0).toString(16).toUpperCase().padStart(8, "0")}`,
    );
  }
  if (t.mode !== undefined) parts.push(`mode=${t.mode}`);
  if (t.append === true) parts.push("append");
  if (t.other !== undefined) parts.push(...t.other);
  return parts.join(";");
}

/** An address needs quotes only if it holds what would end a parameter (it never should). */
function address(a: string): string {
  return ADDRESS.test(a) ? a : quoteString(a);
}

function stringifyPair(p: RtpPair): string {
  return p.rtcp === undefined ? `${p.rtp}` : `${p.rtp}-${p.rtcp}`;
}

function fail(
  value: string,
  code: "malformed" | "unsupported" | "limit",
  detail: string,
  status: number,
) {
  return rtspError(`parse transport ${quote(value)}`, code, detail, status);
}
