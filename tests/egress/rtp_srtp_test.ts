/**
 * SRTP in the RTSP output: a packet is protected once, the first time an
 * SRTP reader needs it, and every SRTP reader gets the very same bytes;
 * plain readers get plain RTP; RTCP goes out as SRTCP to SRTP readers;
 * the MIKEY offer's key, SSRC and ROC read what was sent.
 */
import assert from "node:assert/strict";
import type { Packet } from "../../lib/egress/packet.ts";
import { RtpOutput, type RtpPacketOut } from "../../lib/egress/rtp_output.ts";
import { streamSrtpKey } from "../../lib/egress/rtp_srtp.ts";
import type { Track } from "../../lib/media/track.ts";
import { decodeRtpPacket } from "../../lib/rtp/packet.ts";
import { decodeRtcp } from "../../lib/rtp/rtcp.ts";
import { SrtpContext } from "../../lib/srtp/mod.ts";
import { hex } from "../_util/bytes.ts";

const VIDEO: Track = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  parameterSets: {
    sps: [
      hex(
        "67 42 c0 0d d9 01 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 a4 80",
      ),
    ],
    pps: [hex("68 cb 83 cb 20")],
  },
};

function frame(pts: number, keyframe: boolean) {
  const unit = new Uint8Array(3000).fill(pts & 0xff);
  unit[0] = keyframe ? 0x65 : 0x41;
  return { trackId: 0, dts: pts, pts, keyframe, units: [unit] };
}

/** A reader that keeps what it was offered. */
function reader(srtp: boolean) {
  const rtp: Packet[] = [];
  const rtcp: Packet[] = [];
  return {
    srtp,
    rtp,
    rtcp,
    offer: (_id: number, p: Packet, isRtcp: boolean) =>
      void (isRtcp ? rtcp : rtp).push(p),
    onEnd() {},
  };
}

Deno.test("RtpOutput protects each packet once for all SRTP readers, and plain readers get RTP", () => {
  let clock = 0;
  const gop: RtpPacketOut[] = [];
  const out = new RtpOutput(() => gop, { now: () => clock });
  out.tracks([VIDEO]);
  const a = reader(true);
  const b = reader(true);
  const plain = reader(false);
  for (const r of [a, b, plain]) out.addReader(r, new Set([0]));
  for (let i = 0; i < 10; i++) {
    clock = i * 1000; // Sender Reports every 5 s
    gop.push(...out.frame(frame(i * 3600, i === 0)));
  }
  assert.equal(a.rtp.length, plain.rtp.length);
  for (const [i, p] of a.rtp.entries()) {
    assert.equal(p, b.rtp[i], "the same object for every SRTP reader");
    assert.equal(p.bytes.length, plain.rtp[i]!.bytes.length + 10);
  }
  // A late joiner gets the GOP cache's packets in the same protected form.
  const late = reader(true);
  out.addReader(late, new Set([0]));
  assert.deepEqual(late.rtp.map((p) => p.bytes), a.rtp.map((p) => p.bytes));
  // What MIKEY offers decrypts it.
  const offer = out.srtpOffer(0)!;
  const rx = new SrtpContext(offer.master, {
    rocs: new Map([[offer.ssrc, offer.roc]]),
  });
  for (const [i, p] of a.rtp.entries()) {
    assert.deepEqual(rx.unprotectRtp(p.bytes), plain.rtp[i]!.bytes);
  }
  assert.equal(decodeRtpPacket(plain.rtp[0]!.bytes).ssrc, offer.ssrc);
  // Sender Reports: SRTCP once for SRTP readers, RTCP for plain ones.
  assert.ok(a.rtcp.length > 0);
  assert.equal(a.rtcp[0], b.rtcp[0]);
  const sr = rx.unprotectRtcp(a.rtcp[0]!.bytes);
  assert.deepEqual(sr, plain.rtcp[0]!.bytes);
  assert.equal(decodeRtcp(sr)[0]!.kind, "sr");
});

Deno.test("RtpOutput counts the ROC at each sequence wrap for MIKEY and for protection", () => {
  const out = new RtpOutput(() => []);
  out.tracks([VIDEO]);
  const r = reader(true);
  out.addReader(r, new Set([0]));
  const start = decodeRtpPacket(out.frame(frame(0, true))[0]!.bytes)
    .sequenceNumber;
  // 3000-byte frames are 3 packets: enough frames to cross one wrap.
  const frames = Math.ceil((0x10000 - start) / 3) + 5;
  for (let i = 1; i <= frames; i++) out.frame(frame(i * 3600, false));
  assert.equal(out.srtpOffer(0)!.roc, 1);
  // A receiver that started at ROC 0 follows every packet across the wrap.
  const offer = out.srtpOffer(0)!;
  const rx = new SrtpContext(offer.master);
  for (const p of r.rtp) rx.unprotectRtp(p.bytes);
  assert.equal(rx.roc(offer.ssrc), 1);
});

Deno.test("streamSrtpKey keeps one key per stream and track", () => {
  const stream = {};
  assert.equal(streamSrtpKey(stream, 0), streamSrtpKey(stream, 0));
  assert.notDeepEqual(streamSrtpKey(stream, 0), streamSrtpKey(stream, 1));
  assert.notDeepEqual(streamSrtpKey({}, 0), streamSrtpKey(stream, 0));
});
