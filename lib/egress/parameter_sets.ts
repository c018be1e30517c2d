/**
 * Whether a track that changed keeps its parameter sets: then its RTP
 * packetizer (sequence numbers, SSRC, SRTP roll-over counter) carries on.
 *
 * @module
 */

import { equals } from "@std/bytes";
import type { Track } from "../media/track.ts";

/** Whether `a` and `b` have the same VPS, SPS and PPS (always true for audio). */
export function sameParameterSets(a: Track, b: Track): boolean {
  if (a.kind !== "video" || b.kind !== "video") return true;
  const x = a.parameterSets;
  const y = b.parameterSets;
  if (x === y) return true;
  if (x === undefined || y === undefined) return false;
  const same = (p: Uint8Array[] | undefined, q: Uint8Array[] | undefined) =>
    (p?.length ?? 0) === (q?.length ?? 0) &&
    (p ?? []).every((u, i) => equals(u, q![i]!));
  return same(x.vps, y.vps) && same(x.sps, y.sps) && same(x.pps, y.pps);
}
