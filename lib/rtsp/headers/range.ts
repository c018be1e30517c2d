/**
 * The Range header (RFC 2326 §12.29, §3.6; RFC 7826 §18.40, §4.4.2) in
 * normal play time, the one unit a live server needs:
 *
 * ```
 * Range: npt=0-            Range: npt=now-           Range: npt=12.5-30
 * Range: npt=0:01:02.5-    Range: npt=-30            Range: npt=0-;time=19970123T143720Z
 * ```
 *
 * SMPTE (`smpte=`, `smpte-25=`, `smpte-30-drop=`) and absolute time
 * (`clock=`) are recognised and refused with 457 Invalid Range, without
 * reading their times: live555 overflowed a buffer parsing `clock=`
 * (CVE-2020-24027). A server may catch that error and play live anyway.
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

const MAX_LENGTH = 256;
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
  for (const p of params) {
    const [name = "", time] = p.split("=", 2).map((s) => s.trim());
    if (
      name.toLowerCase() === "time" && time !== undefined &&
      TIME_PARAM.test(time)
    ) range.time = time;
  }
  return range;
}

/** `npt=0.000-` and the like. */
export function stringifyRange(range: NptRange): string {
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
