import assert from "node:assert/strict";
import { type Packet, PACKET_KIND } from "../../lib/egress/packet.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { AudioTrack, Track } from "../../lib/media/track.ts";
import { decodeRtpPacket } from "../../lib/rtp/packet.ts";
import { decodeRtcp, msToNtp, type RtcpPacket } from "../../lib/rtp/rtcp.ts";
import {
  type InterleavedRun,
  RtpOutput,
  type RtpPacketOut,
  type RtpReader,
} from "../../lib/egress/rtp_output.ts";
import type { OutputTick } from "../../lib/egress/tick.ts";
import { encodeInterleaved } from "../../lib/rtsp/interleaved.ts";
import { concat } from "@std/bytes";
import { hex } from "../_util/bytes.ts";
import { manualTick } from "../_util/manual_tick.ts";
import { step } from "../_util/steps.ts";
import fc from "fast-check";

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
  const out = new RtpOutput(() => []);
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

// ---- fan-out, RTP-Info, Sender Reports, BYE ----

// ISO/IEC 14496-3 §1.6.2.1: AAC LC, 48 kHz (index 3), 2 channels
const AAC: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 48000,
  sampleRate: 48000,
  channels: 2,
  config: hex("11 90"),
};

function delta(pts: number, size = 50): Frame {
  const slice = new Uint8Array(size).fill(2);
  slice[0] = 0x41;
  return { trackId: 0, dts: pts, pts, keyframe: false, units: [slice] };
}

function aac(pts: number): Frame {
  return {
    trackId: 1,
    dts: pts,
    pts,
    keyframe: true,
    units: [new Uint8Array(20).fill(0x21)],
  };
}

/**
 * An RtpOutput with what the hub would give it: `cached()` hands out the
 * output's packets of every frame from the last video keyframe on, as
 * Stream keeps them (tests/hub/stream_test.ts); `now` is the test's clock.
 */
function output(startMs = 1_000_000, tick?: OutputTick) {
  const clock = { now: startMs };
  let gop: RtpPacketOut[] | undefined; // nothing is cached before a video keyframe
  const out = new RtpOutput(() => [...gop ?? []], {
    now: () => clock.now,
    tick,
  });
  const write = (frame: Frame): readonly RtpPacketOut[] => {
    const packets = out.frame(frame);
    if (frame.trackId === 0 && frame.keyframe) gop = [];
    gop?.push(...packets);
    return packets;
  };
  return { out, write, clock };
}

interface Offered {
  trackId: number;
  packet: Packet;
  rtcp: boolean;
}

function reader() {
  const r: RtpReader & { offered: Offered[]; ended: number } = {
    offered: [],
    ended: 0,
    offer(trackId, packet, rtcp) {
      r.offered.push({ trackId, packet, rtcp });
    },
    onEnd() {
      r.ended++;
    },
  };
  return r;
}

/**
 * A reader that takes a tick's packets as one run, as an RTSP/TCP reader
 * on `channel(track)` does: it records the run's packets as offered, after
 * checking that the run's bytes are exactly those packets behind its
 * channels' interleaved headers.
 */
function runReader(channel: (trackId: number) => number | undefined) {
  const r = Object.assign(reader(), {
    runs: 0,
    offerRun(run: InterleavedRun): boolean {
      const bytes = run.bytesFor(channel);
      if (bytes === undefined) return false;
      const expected = run.packets.map((p) =>
        encodeInterleaved(channel(trackOfRun(p))!, p.bytes)
      );
      assert.deepEqual(bytes, concat(expected));
      for (const p of run.packets) {
        r.offered.push({ trackId: trackOfRun(p), packet: p, rtcp: false });
      }
      r.runs++;
      return true;
    },
  });
  return r;
}

/** The track of a run's packet (RTP packets out carry it). */
function trackOfRun(p: Packet): number {
  return (p as RtpPacketOut).trackId;
}

/** RTP payload bytes: what a Sender Report's octet count counts (RFC 3550 §6.4.1). */
function payloadBytes(packets: readonly Packet[]): number {
  return packets.reduce((n, p) => n + p.bytes.length - 12, 0);
}

function rtcpOf(r: { offered: Offered[] }): [number, RtcpPacket][] {
  return r.offered.filter((o) => o.rtcp).flatMap((o) =>
    decodeRtcp(o.packet.bytes).map((p): [number, RtcpPacket] => [o.trackId, p])
  );
}

Deno.test("RtpOutput packetizes a frame once: every reader gets the same packets", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  const both = reader();
  const videoOnly = reader();
  out.addReader(both, new Set([0, 1]));
  out.addReader(videoOnly, new Set([0]));
  const big = keyframe(0);
  big.units = [new Uint8Array(3000).fill(1)]; // FU-A: several packets
  big.units[0]![0] = 0x65;
  const packets = [...write(big), ...write(aac(0))];
  assert.ok(packets.length > 3);
  const media = (r: { offered: Offered[] }) =>
    r.offered.filter((o) => !o.rtcp).map((o) => o.packet);
  // The very objects frame() returned, not copies.
  assert.deepEqual(media(both).length, packets.length);
  media(both).forEach((p, i) => assert.equal(p, packets[i]));
  // RtpOutput offers every track to every reader: the reader keeps its own tracks.
  assert.equal(media(videoOnly).length, packets.length);
  assert.deepEqual(
    packets.map((p) => [p.trackId, p.kind]),
    [
      ...packets.filter((p) => p.trackId === 0).map((_, i) => [
        0,
        i === 0 ? PACKET_KIND.KEY : PACKET_KIND.DELTA,
      ]),
      [1, PACKET_KIND.DELTA], // audio is no starting point beside video
    ],
  );
});

Deno.test("RtpOutput gives a new reader the cached GOP of its tracks only", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  write(keyframe(0));
  write(aac(0));
  write(delta(3600));
  const r = reader();
  out.addReader(r, new Set([0]));
  assert.deepEqual(
    r.offered.map((o) => [o.trackId, o.rtcp]),
    [[0, false], [0, false]],
  );
});

// RFC 2326 §12.33: rtptime is the RTP time of the Range's start, one instant on every track.
Deno.test("RtpOutput.rtpStarts names each track's first packet of the cached GOP and its RTP time of the earliest one, for RTP-Info", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  write(keyframe(0));
  write(delta(3600));
  const key = decodeRtpPacket(write(keyframe(7200))[0]!.bytes); // 80 ms
  const audio = decodeRtpPacket(write(aac(4800))[0]!.bytes); // 100 ms
  write(delta(10800));
  const starts = out.rtpStarts(new Set([0, 1]));
  assert.deepEqual(starts, [
    { trackId: 0, seq: key.sequenceNumber, rtptime: key.timestamp },
    {
      trackId: 1,
      seq: audio.sequenceNumber,
      rtptime: (audio.timestamp - 960) >>> 0, // 80 ms at 48 kHz
    },
  ]);
  // Alone, the audio starts at its own first packet.
  assert.deepEqual(out.rtpStarts(new Set([1])), [
    { trackId: 1, seq: audio.sequenceNumber, rtptime: audio.timestamp },
  ]);
});

Deno.test("RtpOutput.rtpStarts: ffmpeg's x264 over RTMP: audio cached after a keyframe but shown before it starts the RTP-Info instant", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  // B-frames: the keyframe is decoded at 2.000 s and shown at 2.080 s; the
  // AAC frames that follow it on the wire are stamped from 2.000 s. Before,
  // each track's own first packet made ffmpeg step that audio back 80 ms at
  // its first Sender Report.
  const key = write({ ...keyframe(187_200), dts: 180_000 });
  const audio = write(aac(96_000));
  write(aac(97_024));
  const v = decodeRtpPacket(key[0]!.bytes);
  const a = decodeRtpPacket(audio[0]!.bytes);
  assert.deepEqual(out.rtpStarts(new Set([0, 1])), [
    {
      trackId: 0,
      seq: v.sequenceNumber,
      rtptime: (v.timestamp - 7200) >>> 0, // 2.000 s, 80 ms before the keyframe
    },
    { trackId: 1, seq: a.sequenceNumber, rtptime: a.timestamp },
  ]);
});

Deno.test("RtpOutput.rtpStarts gives a track without a frame yet the RTP time of the others' start", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  // A reader joins between a keyframe at 1 s and the audio that follows it.
  const key = decodeRtpPacket(write(keyframe(90_000))[0]!.bytes);
  const [, audio] = out.rtpStarts(new Set([0, 1]));
  const next = decodeRtpPacket(write(aac(48_000))[0]!.bytes); // 1 s at 48 kHz
  assert.deepEqual(audio, {
    trackId: 1,
    seq: next.sequenceNumber,
    rtptime: next.timestamp,
  });
  assert.equal(out.rtpStarts(new Set([0]))[0]!.rtptime, key.timestamp);
});

Deno.test("RtpOutput.rtpStarts takes the instant from the cached tracks, not from one whose last frame came before the GOP", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  const early = decodeRtpPacket(write(aac(0))[0]!.bytes); // before any keyframe: not cached
  const key = decodeRtpPacket(write(keyframe(7200))[0]!.bytes); // 80 ms
  const [video, audio] = out.rtpStarts(new Set([0, 1]));
  assert.equal(video!.rtptime, key.timestamp);
  assert.equal(audio!.rtptime, (early.timestamp + 3840) >>> 0); // 80 ms at 48 kHz
});

Deno.test("RtpOutput.rtpStarts of a track with nothing cached names its next packet", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  const first = write(aac(960)); // audio before any video keyframe: not in the GOP
  const [start] = out.rtpStarts(new Set([1]));
  const next = decodeRtpPacket(write(aac(1920))[0]!.bytes);
  const last = decodeRtpPacket(first[0]!.bytes);
  assert.deepEqual(start, {
    trackId: 1,
    seq: next.sequenceNumber,
    rtptime: last.timestamp, // the time of the latest frame: where the reader joins
  });
  // A track without any frame yet starts at its next sequence number.
  const [video] = out.rtpStarts(new Set([0]));
  const sent = decodeRtpPacket(write(keyframe(0))[0]!.bytes);
  assert.equal(video!.seq, sent.sequenceNumber);
  assert.equal(video!.rtptime, sent.timestamp);
});

Deno.test("RtpOutput sends each track's Sender Report every 5 s of its clock, tied to one wall-clock anchor", () => {
  const { out, write, clock } = output(1_000_000);
  out.tracks([track(SPS_A), AAC]);
  const r = reader();
  out.addReader(r, new Set([0, 1]));
  const sent = [...write(keyframe(90000))]; // anchor: 1 s of media at 1 000 000 ms
  const video0 = decodeRtpPacket(sent[0]!.bytes);
  // The first frame sends the video track's report at once; audio has no frame yet.
  let reports = rtcpOf(r);
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0], [0, {
    kind: "sr",
    ssrc: video0.ssrc,
    ...msToNtp(1_000_000),
    rtpTimestamp: video0.timestamp,
    packetCount: sent.length,
    octetCount: payloadBytes(sent), // SPS and PPS in front of the IDR count too
    reports: [],
  }]);
  r.offered.length = 0;
  let audioPacket;
  for (let i = 1; i <= 125; i++) { // 5 s at 25 fps, with audio every frame
    clock.now = 1_000_000 + i * 40 - 1; // just under 5 s when the last frame goes
    sent.push(...write(delta(90000 + i * 3600)));
    audioPacket = decodeRtpPacket(write(aac(48000 + i * 1920))[0]!.bytes);
  }
  assert.deepEqual(rtcpOf(r), [], "no report before 5 s have passed");
  clock.now = 1_005_000;
  sent.push(...write(delta(90000 + 126 * 3600)));
  const last = decodeRtpPacket(sent.at(-1)!.bytes);
  reports = rtcpOf(r);
  assert.deepEqual(reports.map(([id]) => id), [0, 1]);
  const [[, v], [, a]] = reports as [
    [number, RtcpPacket],
    [number, RtcpPacket],
  ];
  assert.ok(v.kind === "sr" && a.kind === "sr");
  // Each report names its track's latest frame: the same instant on the wall clock
  // as the anchor's media time puts it, whatever the track's clock.
  assert.equal(v.rtpTimestamp, last.timestamp);
  assert.deepEqual(
    { s: v.ntpSeconds, f: v.ntpFraction },
    { s: msToNtp(1_005_040).ntpSeconds, f: msToNtp(1_005_040).ntpFraction },
  );
  assert.equal(a.rtpTimestamp, audioPacket!.timestamp);
  assert.deepEqual(
    { s: a.ntpSeconds, f: a.ntpFraction },
    { s: msToNtp(1_005_000).ntpSeconds, f: msToNtp(1_005_000).ntpFraction },
  );
  assert.equal(v.packetCount, sent.length);
  assert.equal(v.octetCount, payloadBytes(sent));
  assert.equal(a.packetCount, 125);
  assert.equal(a.octetCount, 125 * (4 + 20)); // AU header section + AU, no RTP header
  // Reports ride with the media: kept when a reader skips, but not flushed at once.
  const kinds = r.offered.filter((o) => o.rtcp).map((o) => o.packet.kind);
  assert.deepEqual(kinds, [PACKET_KIND.REPORT, PACKET_KIND.REPORT]);
});

Deno.test("RtpOutput: a reader that leaves as a packet goes out gets no later packet; one that joins then gets every later one", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A)]);
  const late = reader();
  const a = reader();
  let media = 0;
  const b: RtpReader & { offered: Offered[] } = {
    ...reader(),
    offer(trackId, packet, rtcp) {
      b.offered.push({ trackId, packet, rtcp });
      if (rtcp || ++media < 3) return;
      // leaves at its second packet of the big frame, and another takes its place
      out.removeReader(b);
      out.addReader(late, new Set([0]));
    },
  };
  out.addReader(a, new Set([0]));
  out.addReader(b, new Set([0]));
  write(keyframe(0));
  a.offered.length = b.offered.length = 0;
  const big = write(delta(3600, 5000)); // fragmented: several packets
  assert.ok(big.length > 2);
  const next = write(delta(7200));
  const sent = (r: { offered: Offered[] }) =>
    r.offered.filter((o) => !o.rtcp).map((o) => o.packet);
  assert.deepEqual(sent(a), [...big, ...next]);
  assert.deepEqual(sent(b), big.slice(0, 2));
  // the cached GOP first, then every packet after the one b left at
  const after = [...big.slice(2), ...next];
  assert.deepEqual(sent(late).slice(-after.length), after);
  assert.equal(
    sent(late).length,
    1 + after.length,
    "the cached GOP (the keyframe; the big frame was not cached yet) first",
  );
  assert.equal(out.readers, 2);
});

Deno.test("RtpOutput sends no Sender Report while it has no reader", () => {
  const { out, write, clock } = output();
  out.tracks([track(SPS_A)]);
  write(keyframe(0));
  clock.now += 10_000;
  write(delta(3600));
  const r = reader();
  out.addReader(r, new Set([0]));
  assert.deepEqual(rtcpOf(r), []);
  write(delta(7200)); // the first frame with a reader: 10 s since the last report
  assert.deepEqual(rtcpOf(r).map(([id, p]) => [id, p.kind]), [[0, "sr"]]);
});

Deno.test("RtpOutput end() sends every reader an RTCP BYE per track, then calls onEnd", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  const a = reader();
  const b = reader();
  out.addReader(a, new Set([0, 1]));
  out.addReader(b, new Set([0]));
  const ssrcs = [
    decodeRtpPacket(write(keyframe(0))[0]!.bytes).ssrc,
    decodeRtpPacket(write(aac(0))[0]!.bytes).ssrc,
  ];
  for (const r of [a, b]) r.offered.length = 0;
  let byesAtEnd = -1;
  a.onEnd = () => {
    a.ended++;
    byesAtEnd = a.offered.length;
  };
  out.end();
  for (const r of [a, b]) {
    assert.deepEqual(rtcpOf(r), [
      [0, { kind: "bye", ssrcs: [ssrcs[0]], reason: "stream ended" }],
      [1, { kind: "bye", ssrcs: [ssrcs[1]], reason: "stream ended" }],
    ]);
    assert.ok(r.offered.every((o) => o.packet.kind === PACKET_KIND.CONTROL));
    assert.equal(r.ended, 1);
  }
  assert.equal(byesAtEnd, 2, "the BYEs come before onEnd");
  assert.equal(out.readers, 0);
});

Deno.test("RtpOutput leaves each packet where its packetizer wrote it: the interleaved header's room is in the same buffer", () => {
  const { out, write } = output();
  out.tracks([track(SPS_A), AAC]);
  const packets = [
    ...write(keyframe(0)),
    ...write(delta(3600, 5000)),
    ...write(aac(0)),
  ];
  assert.ok(packets.length > 3);
  for (const p of packets) {
    assert.equal(p.framed.buffer, p.bytes.buffer, "no copy of the packet");
    assert.equal(p.framed.byteOffset + 4, p.bytes.byteOffset);
    assert.equal(p.framed.length, p.bytes.length + 4);
  }
});

Deno.test("RtpOutput on a tick offers the packets made since the last tick at the tick, oldest first, SRTP protected once", () => {
  const tick = manualTick();
  const { out, write } = output(1_000_000, tick);
  out.tracks([track(SPS_A), AAC]);
  const plain = reader();
  const a = Object.assign(reader(), { srtp: true });
  const b = Object.assign(reader(), { srtp: true });
  for (const r of [plain, a, b]) out.addReader(r, new Set([0, 1]));
  const sent = [...write(keyframe(0)), ...write(aac(0))];
  assert.equal(plain.offered.length, 0, "nothing before the tick");
  tick.run();
  const rtp = (r: typeof plain) => r.offered.filter((o) => !o.rtcp);
  assert.deepEqual(rtp(plain).map((o) => o.packet), sent);
  assert.deepEqual(rtcpOf(plain).map(([id, p]) => [id, p.kind]), [[0, "sr"]]);
  assert.equal(rtp(a).length, sent.length);
  for (let i = 0; i < a.offered.length; i++) {
    assert.notEqual(a.offered[i]!.packet.bytes, plain.offered[i]!.packet.bytes);
    assert.equal(a.offered[i]!.packet, b.offered[i]!.packet, "protected once");
  }
});

type RtpStep =
  | { op: "video"; key: boolean; size: number }
  | { op: "audio" }
  | { op: "join"; tracks: number; small: boolean }
  | { op: "leave"; which: number }
  | { op: "later"; ms: number }
  | { op: "tick" };

const RTP_STEP: fc.Arbitrary<RtpStep> = fc.oneof(
  // past one packet from 1400 bytes: fragments
  step("video", 6, {
    key: fc.boolean(),
    size: fc.integer({ min: 10, max: 3000 }),
  }),
  step("audio", 4),
  // small: a budget that makes the output hand over before the tick
  step("join", 2, {
    tracks: fc.integer({ min: 1, max: 3 }),
    small: fc.boolean(),
  }),
  step("leave", 1, { which: fc.nat(20) }),
  step("later", 1, { ms: fc.integer({ min: 0, max: 6000 }) }), // Sender Reports every 5 s
  step("tick", 3),
);

Deno.test("RtpOutput on a tick offers every reader the same packets, reports and BYE, in the same order, as one that offers each packet at once (runs included)", () => {
  fc.assert(
    fc.property(fc.array(RTP_STEP, { maxLength: 60 }), (steps) => {
      const tick = manualTick();
      const sides = [output(1_000_000, tick), output(1_000_000)].map((o) => {
        o.out.tracks([track(SPS_A), AAC]);
        return { ...o, made: new Map<Packet, number>() };
      });
      /** What a reader was offered, in words both outputs share (SSRCs and sequence numbers are random). */
      const words = (side: typeof sides[0], r: ReturnType<typeof reader>) =>
        r.offered.map((o) =>
          o.rtcp
            ? decodeRtcp(o.packet.bytes).map((p) =>
              `${o.trackId} ${p.kind} ${
                p.kind === "sr" ? `${p.packetCount} ${p.octetCount}` : ""
              }`
            ).join()
            : `${o.trackId} #${side.made.get(o.packet)} ${o.packet.kind}`
        );
      const pairs: ReturnType<typeof reader>[][] = [];
      const joined: typeof pairs = [];
      let pts = 0;
      for (const s of steps) {
        if (s.op === "video" || s.op === "audio") {
          pts += 3600;
          const f = s.op === "video"
            ? { ...(s.key ? keyframe(pts) : delta(pts)), units: [unit(s)] }
            : aac(pts);
          for (const side of sides) {
            for (const p of side.write(f)) side.made.set(p, side.made.size);
          }
        } else if (s.op === "join") {
          const ids = new Set([0, 1].filter((id) => s.tracks & (1 << id)));
          const pair = sides.map((side, i) => {
            // the tick's side takes runs where it can, as RTSP/TCP readers do
            const r = Object.assign(
              i === 0
                ? runReader((id) => ids.has(id) ? 2 * id : undefined)
                : reader(),
              { maxBytes: s.small ? 4000 : undefined },
            );
            side.out.addReader(r, ids);
            return r;
          });
          pairs.push(pair);
          joined.push(pair);
        } else if (s.op === "leave" && joined.length > 0) {
          const [pair] = joined.splice(s.which % joined.length, 1);
          sides.forEach((side, i) => side.out.removeReader(pair![i]!));
        } else if (s.op === "later") {
          for (const side of sides) side.clock.now += s.ms;
        } else if (s.op === "tick") tick.run();
      }
      for (const side of sides) side.out.end();
      for (const [a, b] of pairs) {
        assert.deepEqual(words(sides[0]!, a!), words(sides[1]!, b!));
        assert.equal(a!.ended, b!.ended);
      }
    }),
    { numRuns: 200 },
  );
});

/** A video frame's one NAL unit of `size` bytes, a keyframe's or not. */
function unit(s: { key: boolean; size: number }): Uint8Array {
  const nal = new Uint8Array(s.size).fill(3);
  nal[0] = s.key ? 0x65 : 0x41;
  return nal;
}

Deno.test("RtpOutput on a tick hands RTSP/TCP readers one run per tick, joined once for every reader on the same channels", () => {
  const tick = manualTick();
  const { out, write, clock } = output(1_000_000, tick);
  out.tracks([track(SPS_A), AAC]);
  const usual = (id: number) => [0, 2][id];
  const a = runReader(usual);
  const b = runReader(usual);
  const other = runReader((id) => [4, 6][id]); // set up other channels
  const videoOnly = runReader((id) => id === 0 ? 0 : undefined);
  const both = new Set([0, 1]);
  for (const r of [a, b, other]) out.addReader(r, both);
  out.addReader(videoOnly, new Set([0]));
  write(keyframe(0));
  tick.run(); // the first tick: the output's first Sender Reports go with it
  for (const r of [a, b, other, videoOnly]) r.offered.length = 0;
  const sent = [
    ...write(delta(3600)),
    ...write(aac(1024)),
    ...write(delta(7200)),
  ];
  clock.now += 100;
  tick.run();
  assert.equal(a.runs, 1);
  assert.equal(b.runs, 1);
  assert.deepEqual(a.offered.map((o) => o.packet), sent);
  assert.deepEqual(b.offered.map((o) => o.packet), sent);
  // The packets are framed for channels 0 and 2 now: the reader on 4 and 6
  // takes them one by one, as does the reader of video alone.
  assert.equal(other.runs, 0);
  assert.deepEqual(other.offered.map((o) => o.packet), sent);
  assert.equal(videoOnly.runs, 0);
  // (a reader leaves out what is not of its tracks: TcpReader by its channels)
  assert.deepEqual(videoOnly.offered.map((o) => o.packet), sent);
});

Deno.test("RtpOutput offers no run for a tick that holds RTCP: Sender Reports have no header room", () => {
  const tick = manualTick();
  const { out, write, clock } = output(1_000_000, tick);
  out.tracks([track(SPS_A), AAC]);
  const r = runReader((id) => 2 * id);
  out.addReader(r, new Set([0, 1]));
  write(keyframe(0));
  write(aac(0));
  tick.run();
  assert.equal(r.runs, 0, "the first tick holds Sender Reports");
  assert.ok(r.offered.some((o) => o.rtcp));
  write(delta(3600));
  write(aac(1024));
  tick.run();
  assert.equal(r.runs, 1);
  clock.now += 5000;
  write(delta(7200));
  write(aac(2048));
  tick.run();
  assert.equal(r.runs, 1, "Sender Reports again: one by one");
});
