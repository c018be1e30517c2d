/**
 * Reads a session description (RFC 8866 §5) as cameras and encoders write
 * it, which is often not as RFC 8866 says:
 *
 * - lines end in CRLF, LF or CR; spaces around them and empty lines are
 *   dropped, and so are NUL bytes after the end (some cameras send the C
 *   string terminator);
 * - lines may come in any order before the first `m=`, and `v=`, `o=`, `s=`,
 *   `t=` may be missing (a camera sent only `m=` and `a=` lines);
 * - `o=` and `c=` may lack fields (a VCP IPC sends `o=- 1001 1 IN`, a
 *   Uniview `c=IN`, a Hikvision OEM `c=IN c=IN IP4 0.0.0.0`): they are read
 *   as far as they go;
 * - `a=rtpmap`, `a=fmtp`, `a=framerate` or `b=` that do not parse, and
 *   unknown letters, are kept as they are.
 *
 * What does break the structure (a line that is not `<letter>=`, an `m=`
 * without port or protocol) is an {@link SdpSyntaxError}; so is exceeding the
 * bounds.
 *
 * @module
 */
import type {
  Sdp,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpDirection,
  SdpFmtp,
  SdpMedia,
  SdpOrigin,
  SdpRtpMap,
} from "./types.ts";

/** Options of {@link parseSdp}. */
export interface ParseSdpOptions {
  /** Longest description in bytes (or UTF-16 units for a string). @default {65536} */
  maxLength?: number;
  /** Most lines. @default {2048} */
  maxLines?: number;
  /** Most `m=` sections. @default {64} */
  maxMedia?: number;
}

/** An SDP text that cannot be read; `line` is 1-based (0: the whole text). */
export class SdpSyntaxError extends SyntaxError {
  /** 1-based; 0 when the whole text is refused (size, line count). */
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = "SdpSyntaxError";
    this.line = line;
  }
}

const LINE = /^([A-Za-z])=(.*)$/s;
const MEDIA = /^(\S+)\s+(\d{1,5})(?:\/(\d{1,5}))?\s+(\S+)(?:\s+(.*))?$/s;
const BANDWIDTH = /^([A-Za-z0-9_.+-]+):(\d{1,12})$/;
const TIMING = /^(\S+)\s+(\S+)$/;
const RTPMAP = /^(\d{1,3})\s+([^\s/]+)\/(\d{1,10})(?:\/(\d{1,3}))?$/;
const FMTP = /^(\d{1,3})(?:\s+(.*))?$/s;
const FRAMERATE = /^\d{1,6}(?:\.\d{1,9})?$/;
const MULTICAST_IP4 = /^([^/]+)\/(\d{1,3})(?:\/(\d{1,5}))?$/;
const MULTICAST_IP6 = /^([^/]+)\/(\d{1,5})$/;
const DIRECTIONS: ReadonlySet<string> = new Set([
  "sendrecv",
  "sendonly",
  "recvonly",
  "inactive",
]);

/** Reads a session description; bytes are read as UTF-8 (RFC 8866 §5: `a=charset` aside). */
export function parseSdp(
  input: string | Uint8Array,
  options: ParseSdpOptions = {},
): Sdp {
  const maxLength = options.maxLength ?? 65536;
  const maxLines = options.maxLines ?? 2048;
  const maxMedia = options.maxMedia ?? 64;
  if (input.length > maxLength) {
    throw new SdpSyntaxError(
      `Cannot parse SDP: ${input.length} bytes exceeds ${maxLength}`,
      0,
    );
  }
  const text = typeof input === "string"
    ? input
    : new TextDecoder().decode(input);
  const lines = text.replace(/\0+$/, "").split(/\r\n|\n|\r/);
  if (lines.length > maxLines) {
    throw new SdpSyntaxError(
      `Cannot parse SDP: ${lines.length} lines exceeds ${maxLines}`,
      0,
    );
  }

  const sdp: Sdp = {
    version: 0,
    origin: {
      username: "-",
      sessionId: "0",
      sessionVersion: "0",
      netType: "IN",
      addrType: "IP4",
      address: "0.0.0.0",
    },
    sessionName: "",
    bandwidths: [],
    timing: [],
    attributes: [],
    other: [],
    media: [],
  };
  const seen = new Set<string>(); // single session lines already read
  let media: SdpMedia | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const number = i + 1;
    const m = LINE.exec(line);
    if (m === null) throw syntax(number, line, "not <letter>=<value>");
    const type = m[1]!;
    const value = m[2]!;

    if (type === "m") {
      if (sdp.media.length >= maxMedia) {
        throw syntax(number, line, `more than ${maxMedia} media sections`);
      }
      media = parseMedia(value, number, line);
      sdp.media.push(media);
      continue;
    }
    if (type === "a") {
      if (media === undefined) sessionAttribute(sdp, value);
      else mediaAttribute(media, value);
      continue;
    }
    if (media !== undefined) {
      if (type === "i" && media.information === undefined) {
        media.information = value;
      } else if (type === "c" && media.connection === undefined) {
        media.connection = parseConnection(value);
      } else if (type === "b" && addBandwidth(media.bandwidths, value)) {
        continue;
      } else media.other.push({ type, value });
      continue;
    }
    const first = !seen.has(type);
    seen.add(type);
    if (type === "v" && first && /^\d{1,3}$/.test(value)) {
      sdp.version = Number(value);
    } else if (type === "o" && first) sdp.origin = parseOrigin(value);
    else if (type === "s" && first) sdp.sessionName = value;
    else if (type === "i" && first) sdp.information = value;
    else if (type === "c" && first) sdp.connection = parseConnection(value);
    else if (type === "b" && addBandwidth(sdp.bandwidths, value)) continue;
    else if (type === "t" && TIMING.test(value)) {
      const [, start, stop] = TIMING.exec(value)!;
      sdp.timing.push({ start: start!, stop: stop!, repeats: [] });
    } else if (type === "r" && sdp.timing.length > 0) {
      sdp.timing[sdp.timing.length - 1]!.repeats.push(value);
    } else sdp.other.push({ type, value });
  }
  if (sdp.timing.length === 0) {
    sdp.timing.push({ start: "0", stop: "0", repeats: [] });
  }
  return sdp;
}

function parseMedia(value: string, number: number, line: string): SdpMedia {
  const m = MEDIA.exec(value);
  if (m === null) {
    throw syntax(number, line, "not <media> <port> <proto> <fmt> …");
  }
  const port = Number(m[2]);
  if (port > 65535) throw syntax(number, line, `port ${port}`);
  const media: SdpMedia = {
    type: m[1]!,
    port,
    protocol: m[4]!,
    formats: m[5] === undefined
      ? []
      : m[5].split(/\s+/).filter((f) => f !== ""),
    bandwidths: [],
    rtpmap: new Map(),
    fmtp: new Map(),
    attributes: [],
    other: [],
  };
  if (m[3] !== undefined) media.portCount = Number(m[3]);
  return media;
}

/** Up to six fields; the last takes whatever is left, missing ones are empty. */
function parseOrigin(value: string): SdpOrigin {
  const f = splitFields(value, 6);
  return {
    username: f[0] ?? "",
    sessionId: f[1] ?? "",
    sessionVersion: f[2] ?? "",
    netType: f[3] ?? "",
    addrType: f[4] ?? "",
    address: f[5] ?? "",
  };
}

function parseConnection(value: string): SdpConnection {
  const [netType = "", addrType = "", address = ""] = splitFields(value, 3);
  const c: SdpConnection = { netType, addrType, address };
  // §5.7: IP4 multicast is address/ttl[/count]; IP6 multicast address[/count].
  const ip4 = addrType.toUpperCase() === "IP4"
    ? MULTICAST_IP4.exec(address)
    : null;
  const ip6 = addrType.toUpperCase() === "IP6"
    ? MULTICAST_IP6.exec(address)
    : null;
  if (ip4 !== null) {
    c.address = ip4[1]!;
    c.ttl = Number(ip4[2]);
    if (ip4[3] !== undefined) c.count = Number(ip4[3]);
  } else if (ip6 !== null) {
    c.address = ip6[1]!;
    c.count = Number(ip6[2]);
  }
  return c;
}

function splitFields(value: string, count: number): string[] {
  const out: string[] = [];
  let rest = value.trim();
  while (rest !== "" && out.length < count - 1) {
    const m = /^(\S+)\s*/.exec(rest)!;
    out.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  if (rest !== "") out.push(rest);
  return out;
}

function addBandwidth(list: SdpBandwidth[], value: string): boolean {
  const m = BANDWIDTH.exec(value);
  if (m === null) return false;
  list.push({ type: m[1]!, value: Number(m[2]) });
  return true;
}

function splitAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(":");
  return colon < 0
    ? { name: value }
    : { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

function sessionAttribute(sdp: Sdp, text: string): void {
  const a = splitAttribute(text);
  if (
    a.name === "control" && a.value !== undefined && sdp.control === undefined
  ) sdp.control = a.value.trim();
  else if (
    a.name === "range" && a.value !== undefined && sdp.range === undefined
  ) sdp.range = a.value.trim();
  else if (
    DIRECTIONS.has(a.name) && a.value === undefined &&
    sdp.direction === undefined
  ) {
    sdp.direction = a.name as SdpDirection;
  } else sdp.attributes.push(a);
}

function mediaAttribute(media: SdpMedia, text: string): void {
  const a = splitAttribute(text);
  const v = a.value?.trim();
  if (a.name === "rtpmap" && v !== undefined) {
    const rtpmap = parseRtpMap(v);
    if (rtpmap !== undefined && !media.rtpmap.has(rtpmap[0])) {
      media.rtpmap.set(rtpmap[0], rtpmap[1]);
      return;
    }
  } else if (a.name === "fmtp" && v !== undefined) {
    const m = FMTP.exec(v);
    const pt = m === null ? NaN : Number(m[1]);
    if (pt <= 127 && !media.fmtp.has(pt)) {
      media.fmtp.set(pt, fmtpOf(m![2]?.trim() ?? ""));
      return;
    }
  } else if (
    a.name === "control" && v !== undefined && media.control === undefined
  ) {
    media.control = v;
    return;
  } else if (
    a.name === "framerate" && v !== undefined && FRAMERATE.test(v) &&
    media.framerate === undefined
  ) {
    media.framerate = Number(v);
    return;
  } else if (
    DIRECTIONS.has(a.name) && a.value === undefined &&
    media.direction === undefined
  ) {
    media.direction = a.name as SdpDirection;
    return;
  }
  media.attributes.push(a);
}

function parseRtpMap(value: string): [number, SdpRtpMap] | undefined {
  const m = RTPMAP.exec(value);
  if (m === null || Number(m[1]) > 127) return undefined;
  const rtpmap: SdpRtpMap = { encoding: m[2]!, clockRate: Number(m[3]) };
  if (m[4] !== undefined) rtpmap.channels = Number(m[4]);
  return [Number(m[1]), rtpmap];
}

/** Format parameters from their text: `;`-separated `key=value`, split at the first `=` (base64 ends in `=`). */
export function fmtpOf(raw: string): SdpFmtp {
  const params: Record<string, string> = {};
  for (const part of raw.split(";")) {
    const p = part.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    const key = (eq < 0 ? p : p.slice(0, eq)).trim();
    if (key === "" || Object.hasOwn(params, key)) continue;
    Object.defineProperty(params, key, {
      value: eq < 0 ? "" : p.slice(eq + 1).trim(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { params, raw };
}

/** A format parameter looked up without regard to case (`SizeLength` = `sizelength`). */
export function fmtpParam(
  fmtp: SdpFmtp | undefined,
  name: string,
): string | undefined {
  if (fmtp === undefined) return undefined;
  if (Object.hasOwn(fmtp.params, name)) return fmtp.params[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(fmtp.params)) {
    if (key.toLowerCase() === lower) return fmtp.params[key];
  }
  return undefined;
}

function syntax(number: number, line: string, detail: string): SdpSyntaxError {
  const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
  return new SdpSyntaxError(
    `Cannot parse SDP line ${number} ${JSON.stringify(shown)}: ${detail}`,
    number,
  );
}
