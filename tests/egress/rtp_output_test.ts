import assert from "node:assert/strict";
import type { Packet } from "../../lib/egress/packet.ts";
import type { Track } from "../../lib/media/track.ts";
import { decodeRtpPacket } from "../../lib/rtp/packet.ts";
import { RtpOutput } from "../../lib/egress/rtp_output.ts";
import { hex } from "../_util/bytes.ts";

const SPS_A = hex(
  "67 42 c0 0d d9 01 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 a4 80",
);
const SPS_B = hex(
  "67 42 c0 1e d9 00 a0 2f f9 70 11 00 00 03 00 01 00 00 03 00 32 0f 16 2e 48",
);
const PPS = hex("68 cb 83 cb 20");

function track(sps: Uint8Array): Track {
  return {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    parameterSets: { sps: [sps], pps: [PPS] },
  };
}

function keyframe(pts: number) {
  const idr = new Uint8Array(50).fill(1);
  idr[0] = 0x65;
  return { trackId: 0, dts: pts, pts, keyframe: true, units: [idr] };
}

Deno.test("RtpOutput: new parameter sets after a takeover go out, on the same RTP stream", () => {
  const out = new RtpOutput({ gopCache: false });
  const packets: Uint8Array[] = [];
  out.addReader({
    offer: (_id: number, p: Packet, rtcp: boolean) =>
      void (!rtcp && packets.push(p.bytes)),
    onEnd() {},
  }, new Set([0]));
  out.tracks([track(SPS_A)]);
  out.frame(keyframe(0));
  const before = packets.map(decodeRtpPacket);
  packets.length = 0;
  out.tracks([track(SPS_B)]); // a new publisher with another resolution
  out.frame(keyframe(3600));
  const after = packets.map(decodeRtpPacket);
  assert.equal(after[0]!.ssrc, before[0]!.ssrc, "same SSRC");
  assert.equal(
    after[0]!.sequenceNumber,
    (before.at(-1)!.sequenceNumber + 1) & 0xffff,
    "sequence goes on",
  );
  assert.equal(
    after[0]!.timestamp,
    (before[0]!.timestamp + 3600) >>> 0,
    "timestamps go on",
  );
  const payloads = after.map((p) => [...p.payload]);
  const carries = (sps: Uint8Array) =>
    payloads.some((p) => indexOf(p, [...sps]) >= 0);
  assert.ok(carries(SPS_B), "the new SPS precedes the keyframe");
  assert.ok(!carries(SPS_A), "the old one is gone");
});

function indexOf(hay: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
