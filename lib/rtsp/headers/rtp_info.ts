/**
 * The RTP-Info header of a PLAY reply (RFC 2326 §12.33; RFC 7826 §18.45):
 * per stream, its URL and the sequence number and RTP time of its first
 * packet, so a client can map RTP time to the play range.
 *
 * ```
 * RTP-Info: url=rtsp://h/live/trackID=0;seq=45102;rtptime=12345678,url=rtsp://h/live/trackID=1;seq=30211
 * ```
 *
 * URLs may hold `,` and `;` (Dahua `…?channel=1&subtype=0/trackID=0`), so a
 * new entry starts only at `,url=` and a parameter only at `;seq=`,
 * `;rtptime=` or `;ssrc=`; RFC 7826 servers quote the URL instead.
 *
 * @module
 */
import { quote, rtspError } from "../error.ts";
import { unquote } from "./_params.ts";

/** One stream of an RTP-Info value. */
export interface RtpInfo {
  /** As written: absolute, or relative to the request URL. Empty if left out. */
  url: string;
  /** Sequence number of the first packet (16 bits). */
  seq?: number;
  /** RTP timestamp of the first packet (32 bits). */
  rtptime?: number;
}

const MAX_LENGTH = 8192;
const MAX_ENTRIES = 64;
const DIGITS = /^\d{1,10}$/;
const PARAM = /^\s*(seq|rtptime|ssrc)\s*=/i;

/** The streams of an RTP-Info value; a malformed number is an {@link RtspError}. */
export function parseRtpInfo(value: string): RtpInfo[] {
  if (value.length > MAX_LENGTH) {
    throw fail(value, `longer than ${MAX_LENGTH} characters`);
  }
  const entries = /(^|,)\s*url\s*=/i.test(value)
    ? value.split(/,(?=\s*url\s*=)/i)
    : value.split(",");
  if (entries.length > MAX_ENTRIES) {
    throw fail(value, `more than ${MAX_ENTRIES} entries`);
  }
  const out: RtpInfo[] = [];
  for (const entry of entries) {
    if (entry.trim() === "") continue;
    const parts = entry.split(";");
    const urlParts: string[] = [];
    const info: RtpInfo = { url: "" };
    for (const part of parts) {
      const m = PARAM.exec(part);
      if (m === null) {
        urlParts.push(part);
        continue;
      }
      const key = m[1]!.toLowerCase();
      const text = part.slice(m[0].length).trim();
      if (key === "ssrc") continue; // RFC 7826 adds it; RTCP tells the SSRC anyway
      if (!DIGITS.test(text)) throw fail(value, `${key} ${quote(text)}`);
      const n = Number(text);
      if (key === "seq") {
        if (n > 0xffff) throw fail(value, `seq ${n} exceeds 65535`);
        info.seq = n;
      } else {
        if (n > 0xffffffff) throw fail(value, `rtptime ${n} exceeds 2^32 - 1`);
        info.rtptime = n;
      }
    }
    const urlText = urlParts.join(";").trim();
    if (urlText !== "") {
      const m = /^url\s*=\s*/i.exec(urlText);
      if (m === null) {
        throw fail(value, `entry ${quote(entry)} does not start with url=`);
      }
      const url = unquote(urlText.slice(m[0].length));
      if (url === undefined) throw fail(value, `url ${quote(urlText)}`);
      info.url = url;
    }
    out.push(info);
  }
  return out;
}

/** `url=…;seq=…;rtptime=…` entries joined by commas. */
export function stringifyRtpInfo(entries: readonly RtpInfo[]): string {
  return entries.map((e) => {
    let s = `url=${e.url}`;
    if (e.seq !== undefined) s += `;seq=${e.seq}`;
    if (e.rtptime !== undefined) s += `;rtptime=${e.rtptime >>> 0}`;
    return s;
  }).join(",");
}

function fail(value: string, detail: string) {
  return rtspError(`parse RTP-Info ${quote(value)}`, "malformed", detail);
}
