/**
 * The SRTP keys an ANNOUNCE brings in its SDP (RFC 4567
 * `a=key-mgmt:mikey`). (The keys a DESCRIBE gives out are the stream's:
 * `withSrtpKeys` of the RTP output.)
 *
 * @module
 */

import type { Sdp } from "../../sdp/types.ts";
import { MikeyError, type MikeyMessage } from "../../srtp/mikey.ts";
import { parseKeyMgmt } from "../../srtp/mikey_decode.ts";

/**
 * The key of each media of an announced SDP: its own `a=key-mgmt`, else
 * the session's; a key Sluice cannot use is kept as its error, for the
 * SETUP of RTP/SAVP to quote.
 */
export function announcedKeys(
  sdp: Sdp,
): (MikeyMessage | MikeyError | undefined)[] {
  const keyMgmt = (attributes: { name: string; value?: string }[]) =>
    attributes.find((a) => a.name.toLowerCase() === "key-mgmt")?.value;
  const session = keyMgmt(sdp.attributes);
  return sdp.media.map((m) => {
    const value = keyMgmt(m.attributes) ?? session;
    if (value === undefined) return undefined;
    try {
      return parseKeyMgmt(value);
    } catch (e) {
      if (e instanceof MikeyError) return e;
      throw e;
    }
  });
}
