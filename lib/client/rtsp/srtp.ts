/**
 * SRTP of the RTSP client (RFC 3711, keys in SDP as RFC 4567 MIKEY): which
 * tracks of a DESCRIBE to set up as RTP/SAVP, and the SDP an ANNOUNCE gives
 * its keys in.
 *
 * @module
 */

import type { Sdp } from "../../sdp/types.ts";
import { MikeyError, type MikeyMessage } from "../../srtp/mikey.ts";
import { parseKeyMgmt } from "../../srtp/mikey_decode.ts";
import { SrtpContext } from "../../srtp/context.ts";
import { RtspClientError } from "./connection.ts";

/**
 * When the client uses SRTP: `automatic` pulls with SRTP when the server's
 * SDP gives a key (RTSPS servers do) and pushes with SRTP to `rtsps://`;
 * `always` requires it (and pushes with it over plain RTSP too); `never`
 * sets up RTP/AVP only.
 */
export type RtspSrtpChoice = "automatic" | "always" | "never";

/**
 * The key `a=key-mgmt:mikey` gives media `index` of `sdp` (its own, else the
 * session's). A key Sluice cannot use (live555 sends one with an MKI) is no
 * key, unless `required`, when it is an error.
 */
export function mediaKey(
  sdp: Sdp,
  index: number,
  required = false,
): MikeyMessage | undefined {
  const find = (attributes: { name: string; value?: string }[]) =>
    attributes.find((a) => a.name.toLowerCase() === "key-mgmt")?.value;
  const value = find(sdp.media[index]?.attributes ?? []) ??
    find(sdp.attributes);
  if (value === undefined) return undefined;
  try {
    return parseKeyMgmt(value);
  } catch (e) {
    if (!(e instanceof MikeyError)) throw e;
    if (!required) return undefined;
    throw new RtspClientError("DESCRIBE", `the SDP's key: ${e.message}`);
  }
}

/** The receiving and sending contexts of a pulled SRTP track: its RTP in, our receiver reports out. */
export interface PullSrtp {
  input: SrtpContext;
  reports: SrtpContext;
}

/** SRTP contexts for a track pulled with `key` (the ROCs of its SSRC map). */
export function pullSrtp(key: MikeyMessage): PullSrtp {
  return {
    input: new SrtpContext(key.master, {
      rocs: new Map(key.sessions.map((c) => [c.ssrc, c.roc])),
      maxSsrcs: 4,
    }),
    // Receiver reports go out under the server's key: Sluice's server (and
    // most) read them only as a sign of life.
    reports: new SrtpContext(key.master, { maxSsrcs: 1 }),
  };
}
