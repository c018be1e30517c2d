/**
 * The Range header (RFC 2326 §12.29, §3.6; RFC 7826 §18.40, §4.4.2) in
 * normal play time, the one unit a live server needs:
 *
 * ```
 * Range: npt=0-            Range: npt=now-           Range: npt=12.5-30
 * Range: npt=0:01:02.5-    Range: npt=-30            Range: npt=0-;time=19970123T143720Z
 * ```
 *
 * SMPTE (`smpte=`, `smpte-25=`, `smpte-30-drop=`) is recognised and
 * refused with 457 Invalid Range. {@link parseRange} refuses absolute time
 * (`clock=`) the same way, without reading its times (live555 overflowed a
 * buffer parsing `clock=`, CVE-2020-24027), for streams that have no wall
 * clock; {@link parsePlayRange} also reads it, for files that have one
 * (recordings), with fixed-width fields and bounded fractions only:
 *
 * ```
 * Range: clock=20261204T101500Z-              Range: clock=20261204T101500.25Z-20261204T101600Z
 * Range: clock=-20261204T101600Z  (RFC 7826 §4.4.3: up to a time)
 * ```
 *
 * A server may catch the 457 and play live anyway.
 *
 * @module
 */
import { quote, rtspError } from "../error.ts";

/** A normal-play-time range in seconds. */
export interface NptRange {
  /** Normal play time (§3.6), the only unit read. */
  unit: "npt";
  /** `now` for a live position; absent in the `npt=-end` form. */
  start?: number | "now";
  /** Seconds; absent for an open end. */
  end?: number;
  /** The `;time=` parameter (when to start), as written. */
  time?: string;
}

/** An absolute-time range (RFC 2326 §3.7, RFC 7826 §4.4.3), UTC. */
export interface ClockRange {
  unit: "clock";
  /** ms since the Unix epoch (fractions of a ms kept); absent in the `clock=-end` form. */
  startMs?: number;
  /** ms since the Unix epoch; absent for an open end. */
  endMs?: number;
  /** The `;time=` parameter, as written. */
  time?: string;
}

const MAX_LENGTH = 256;
/** utc-date "T" utc-time "Z": YYYYMMDD T HHMMSS [.fraction] Z (RFC 2326 §3.7). */
const UTC_CLOCK =
  /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/i;
const SECONDS = /^(\d{1,10})(\.\d{0,9})?$/;
const CLOCK = /^(\d{1,10}):(\d{1,2}):(\d{1,2})(\.\d{0,9})?$/;
const TIME_PARAM = /^[0-9A-Za-z.:+-]{1,64}$/;

/** The range of a Range value; throws an {@link RtspError} with status 457. */
export function parseRange(value: string): NptRange {
  if (value.length > MAX_LENGTH) {
    throw fail(value, "malformed", `longer than ${MAX_LENGTH} characters`);
  }
  const [spec = "", ...params] = value.split(";");
  const eq = spec.indexOf("=");
  const unit = (eq < 0 ? spec : spec.slice(0, eq)).trim().toLowerCase();
  if (unit === "clock" || unit.startsWith("smpte")) {
    throw fail(value, "unsupported", `unit ${quote(unit)}: only npt is served`);
  }
  if (unit !== "npt" || eq < 0) {
    throw fail(value, "unsupported", `unit ${quote(unit)}`);
  }
  const times = spec.slice(eq + 1).trim().split("-");
  if (times.length !== 2) throw fail(value, "malformed", "not start-end");
  const [from, to] = times.map((t) => t.trim()) as [string, string];
  const range: NptRange = { unit: "npt" };
  if (from !== "") range.start = from === "now" ? "now" : npt(from, value);
  if (to !== "") range.end = npt(to, value);
  if (range.start === undefined && range.end === undefined) {
    throw fail(value, "malformed", "neither start nor end");
  }
  if (
    typeof range.start === "number" && range.end !== undefined &&
    range.end < range.start
  ) {
    throw fail(value, "malformed", "end before start");
  }
  const time = timeParam(params);
  if (time !== undefined) range.time = time;
  return range;
}

/** The `;time=` parameter among `params`, when it reads as a time. */
function timeParam(params: readonly string[]): string | undefined {
  let out: string | undefined;
  for (const p of params) {
    const [name = "", time] = p.split("=", 2).map((s) => s.trim());
    if (
      name.toLowerCase() === "time" && time !== undefined &&
      TIME_PARAM.test(time)
    ) out = time;
  }
  return out;
}

/** utc-date "T" utc-time "Z" (RFC 2326 §3.7) → ms since the Unix epoch. */
function utcClock(text: string, value: string): number {
  const m = UTC_CLOCK.exec(text);
  if (m === null) throw fail(value, "malformed", `clock time ${quote(text)}`);
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!);
  const back = new Date(ms);
  if (
    y! < 1900 || back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo! - 1 ||
    back.getUTCDate() !== d || h! > 23 || mi! > 59 || sec! > 59
  ) {
    throw fail(value, "malformed", `clock time ${quote(text)}`);
  }
  const fraction = m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0")) / 1e6;
  return ms + fraction;
}

/** ms since the Unix epoch → `YYYYMMDDTHHMMSS[.fraction]Z`, ms digits unless finer. */
function clockText(ms: number): string {
  if (
    !Number.isFinite(ms) || ms < Date.UTC(1900, 0, 1) || ms >= 253402300800000
  ) {
    throw new RangeError(`Cannot stringify range: clock ${ms} ms`);
  }
  const whole = Math.floor(ms / 1000) * 1000;
  const iso = new Date(whole).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const base = iso.slice(0, 19).replace(/[-:]/g, "");
  const nanos = Math.round((ms - whole) * 1e6);
  if (nanos === 0) return `${base}Z`;
  const digits = String(Math.min(nanos, 999_999_999)).padStart(9, "0");
  const fraction = digits.endsWith("000000")
    ? digits.slice(0, 3)
    : digits.replace(/0+$/, "");
  return `${base}.${fraction}Z`;
}

/**
 * The Range of a PLAY on a file: normal play time as {@link parseRange}
 * reads it, or absolute time (`clock=`); throws an {@link RtspError} with
 * status 457.
 */
export function parsePlayRange(value: string): NptRange | ClockRange {
  if (value.length > MAX_LENGTH) {
    throw fail(value, "malformed", `longer than ${MAX_LENGTH} characters`);
  }
  const [spec = "", ...params] = value.split(";");
  const eq = spec.indexOf("=");
  if (eq < 0 || spec.slice(0, eq).trim().toLowerCase() !== "clock") {
    return parseRange(value);
  }
  const times = spec.slice(eq + 1).trim().split("-");
  if (times.length !== 2) throw fail(value, "malformed", "not start-end");
  const [from, to] = times.map((t) => t.trim()) as [string, string];
  const range: ClockRange = { unit: "clock" };
  if (from !== "") range.startMs = utcClock(from, value);
  if (to !== "") range.endMs = utcClock(to, value);
  if (range.startMs === undefined && range.endMs === undefined) {
    throw fail(value, "malformed", "neither start nor end");
  }
  if (
    range.startMs !== undefined && range.endMs !== undefined &&
    range.endMs < range.startMs
  ) {
    throw fail(value, "malformed", "end before start");
  }
  const time = timeParam(params);
  if (time !== undefined) range.time = time;
  return range;
}

/** `npt=0.000-`, `clock=20261204T101500.250Z-` and the like. */
export function stringifyRange(range: NptRange | ClockRange): string {
  if (range.unit === "clock") {
    const from = range.startMs === undefined ? "" : clockText(range.startMs);
    const to = range.endMs === undefined ? "" : clockText(range.endMs);
    return `clock=${from}-${to}${
      range.time === undefined ? "" : `;time=${range.time}`
    }`;
  }
  const from = range.start === undefined
    ? ""
    : range.start === "now"
    ? "now"
    : seconds(range.start);
  const to = range.end === undefined ? "" : seconds(range.end);
  return `npt=${from}-${to}${
    range.time === undefined ? "" : `;time=${range.time}`
  }`;
}

/** npt-sec or npt-hhmmss (§3.6). */
function npt(text: string, value: string): number {
  let m = SECONDS.exec(text);
  if (m !== null) return Number(`${m[1]}${m[2] === "." ? "" : m[2] ?? ""}`);
  m = CLOCK.exec(text);
  if (m === null) throw fail(value, "malformed", `time ${quote(text)}`);
  const minutes = Number(m[2]);
  const secs = Number(m[3]);
  if (minutes > 59 || secs > 59) {
    throw fail(value, "malformed", `time ${quote(text)}`);
  }
  const fraction = m[4] === undefined || m[4] === "." ? 0 : Number(`0${m[4]}`);
  return Number(m[1]) * 3600 + minutes * 60 + secs + fraction;
}

/** Seconds with millisecond digits as live555 writes them, more only when needed. */
function seconds(n: number): string {
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(`Cannot stringify range: ${n} seconds`);
  }
  const ms = n.toFixed(3);
  return Number(ms) === n ? ms : n.toFixed(9).replace(/0+$/, "");
}

function fail(
  value: string,
  code: "malformed" | "unsupported",
  detail: string,
) {
  return rtspError(`parse range ${quote(value)}`, code, detail, 457);
}
