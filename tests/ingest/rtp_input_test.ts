import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import { RtpOutput } from "../../lib/egress/rtp_output.ts";
import { type SdpTrack, tracksFromSdp } from "../../lib/format/tracks.ts";
import { RtpInput } from "../../lib/ingest/rtp_input.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import {
  decodeRtpPacket,
  encodeRtpPacket,
  type RtpPacket,
} from "../../lib/rtp/packet.ts";
import { encodeRtcp, msToNtp } from "../../lib/rtp/rtcp.ts";
import { parseSdp } from "../../lib/sdp/parse.ts";
import {
  encodeInterleaved,
  type InterleavedFrame,
  InterleavedFramer,
} from "../../lib/rtsp/interleaved.ts";
import { collect, hex } from "../_util/bytes.ts";
import {
  eventsOf,
  framesOf,
  ingestStage,
  type PublisherEvent,
  RecordingPublisher,
} from "../_util/ingest.ts";
import { checkStageContract } from "../_util/stage_contract.ts";
import { readCapture, readFramecrc } from "../rtp/_capture.ts";

// ---- sessions: the SDP of an ANNOUNCE, RTP and RTCP as they arrive ----

/** The local clock of every test: RtpInput reads time only through `now`. */
const NOW = Date.UTC(2025, 0, 1);

const SESSION = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const H264_MEDIA =
  "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n";
const H265_MEDIA = "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n";
const PCMA_MEDIA = "m=audio 0 RTP/AVP 8\r\n";

/** The `m=` section of an SDP ffmpeg wrote next to an audio capture. */
function audioMedia(name: string): string {
  const sdp = Deno.readTextFileSync(
    new URL(`../testdata/rtp_audio/${name}.sdp`, import.meta.url),
  );
  return sdp.slice(sdp.indexOf("m=")).replaceAll(/\r?\n/g, "\r\n");
}

/**
 * Fresh tracks of an ANNOUNCE with these media sections (RtpInput updates
 * its tracks when parameter sets arrive in-band: every run needs its own).
 */
function announce(...media: string[]): () => SdpTrack[] {
  return () =>
    tracksFromSdp(parseSdp(SESSION + media.join("")).media).map((t) => t!);
}

/** A track's RTP and RTCP datagrams in arrival order: `rtcp` marks RTCP. */
interface Datagram {
  track: number;
  rtcp: boolean;
  bytes: Uint8Array;
}

/** The packets of a video capture of tests/testdata/rtp/ (all RTP). */
function videoCapture(name: string, track = 0): Datagram[] {
  return readCapture(`${name}.rtp`).map((bytes) => ({
    track,
    rtcp: false,
    bytes,
  }));
}

/** The datagrams of an audio capture of tests/testdata/rtp_audio/ (RTP and RTCP). */
function audioCapture(name: string, track = 0): Datagram[] {
  const bytes = Deno.readFileSync(
    new URL(`../testdata/rtp_audio/${name}.rtp`, import.meta.url),
  );
  const out: Datagram[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    out.push({
      track,
      rtcp: bytes[at] === 1,
      bytes: bytes.subarray(at + 3, at + 3 + length),
    });
    at += 3 + length;
  }
  return out;
}

/**
 * RTSP over TCP (RFC 2326 §10.12): each datagram in a `$` frame, RTP of
 * track n on channel 2n and RTCP on 2n+1, as RECORD's SETUP assigns them.
 */
function interleave(datagrams: Datagram[]): Uint8Array {
  return concat(
    datagrams.map((d) =>
      encodeInterleaved(2 * d.track + (d.rtcp ? 1 : 0), d.bytes)
    ),
  );
}

/** Two lists merged alternately (then the rest of the longer). */
function alternate<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}

// ---- Sluice's side: InterleavedFramer → RtpInput → publisher ----

/**
 * The bytes of an RTSP connection in RECORD → what the hub gets. Channels
 * route as the server's do after SETUP: 2n to `rtp(n)` (a copy: the frames
 * keep views of it), 2n+1 to `rtcp(n)`; a channel no SETUP gave is dropped.
 */
function recordStage(tracks: () => SdpTrack[], now: () => number = () => NOW) {
  return () => {
    const sdp = tracks();
    return ingestStage(
      new InterleavedFramer(),
      (publisher) =>
        new RtpInput(
          publisher,
          new Map(sdp.map((t, i) => [i, { sdp: t, udp: false }])),
          now,
        ),
      (input: RtpInput, f: InterleavedFrame) => {
        const track = f.channel >> 1;
        if (track >= sdp.length) return;
        if (f.channel & 1) input.rtcp(track, f.payload);
        else input.rtp(track, f.payload.slice());
      },
    );
  };
}

/** Every event of a RECORD session's bytes. */
function record(tracks: () => SdpTrack[], bytes: Uint8Array): PublisherEvent[] {
  const core = recordStage(tracks)();
  const out = collect<PublisherEvent>();
  core.push(bytes, out);
  core.end?.(out);
  return out.items;
}

/** An RtpInput on one track fed datagrams directly (UDP), with a clock the test moves. */
function udpInput(sdp: SdpTrack[], udp = true) {
  const publisher = new RecordingPublisher();
  const clock = { now: NOW };
  const input = new RtpInput(
    publisher,
    new Map(sdp.map((t, i) => [i, { sdp: t, udp }])),
    () => clock.now,
  );
  return { input, clock, events: () => publisher.pending };
}

/**
 * The egress side: what the hub got, sent again by RtpOutput (as an RTSP
 * client's RECORD or a server's PLAY does), each packet in its track's
 * interleaved frame.
 */
function resend(events: PublisherEvent[]): Uint8Array {
  const output = new RtpOutput(() => [], { now: () => NOW });
  const tracks = new Map<number, Track>();
  const parts: Uint8Array[] = [];
  for (const e of events) {
    if (e.kind === "tracks") {
      tracks.clear();
      for (const t of e.tracks) tracks.set(t.id, t);
      output.tracks([...tracks.values()]);
    } else if (e.kind === "track") {
      tracks.set(e.track.id, e.track);
      output.tracks([...tracks.values()].sort((a, b) => a.id - b.id));
    } else if (e.kind === "frame") {
      for (const p of output.frame(e.frame)) {
        parts.push(encodeInterleaved(2 * p.trackId, p.bytes));
      }
    }
  }
  return concat(parts);
}

/**
 * What RtpOutput and RtpInput agree on: each frame, its times from its
 * track's first frame, and each keyframe with the track it was written under.
 *
 * - Parameter sets travel in-band, and RtpOutput sends them with the next
 *   keyframe (the SDP it would announce is not part of this pair): a track
 *   update from sets that came in an access unit without a picture (a
 *   camera's SPS and PPS on their own, or here a mutated slice) reaches the
 *   other side with that keyframe, not before.
 * - Across tracks times agree only through Sender Reports, which RtpOutput
 *   sends on its own 5-second schedule and to readers only: a resent
 *   session lines its tracks up by arrival.
 * - G.711 is a stream of samples that RtpOutput cuts into 20 ms packets
 *   whatever the frames were: it is compared as runs of contiguous samples.
 */
function asSent(events: PublisherEvent[]): unknown {
  const tracks = new Map<number, Track>();
  const first = new Map<number, number>();
  const runs = new Map<number, { dts: number; parts: Uint8Array[] }[]>();
  const frames: unknown[] = [];
  for (const e of events) {
    if (e.kind === "tracks") { for (const t of e.tracks) tracks.set(t.id, t); }
    if (e.kind === "track") tracks.set(e.track.id, e.track);
    if (e.kind !== "frame") continue;
    const f = e.frame;
    const track = tracks.get(f.trackId);
    if (!first.has(f.trackId)) first.set(f.trackId, f.dts);
    const t0 = first.get(f.trackId)!;
    if (track?.codec === "PCMA" || track?.codec === "PCMU") {
      const list = runs.get(f.trackId) ?? [];
      runs.set(f.trackId, list);
      const last = list.at(-1);
      const end = last &&
        last.dts + last.parts.reduce((n, p) => n + p.length, 0);
      if (last !== undefined && end === f.dts - t0) last.parts.push(...f.units);
      else list.push({ dts: f.dts - t0, parts: [...f.units] });
      continue;
    }
    frames.push({
      track: f.keyframe ? track : undefined,
      frame: { ...f, dts: f.dts - t0, pts: f.pts - t0 },
    });
  }
  const samples = [...runs].map(([id, list]) => [
    id,
    tracks.get(id),
    list.map((r) => ({ dts: r.dts, samples: concat(r.parts) })),
  ]);
  return { frames, samples };
}

/** Frames as [dts, pts, keyframe] in 1/25 s from the first frame's dts (the captures are 25 fps). */
function times(frames: Frame[]): [number, number, boolean][] {
  const t0 = frames[0]!.dts;
  const at = (ticks: number) => (ticks - t0) / 3600;
  return frames.map((f) => [at(f.dts), at(f.pts), f.keyframe]);
}

// ---- the stage contract ----

Deno.test("InterleavedFramer → RtpInput keeps the stage contract, RtpOutput sending its frames again", () => {
  const fixtures = [
    {
      name: "ffmpeg's H.264 with B-frames, parameter sets in-band (h264_bf2)",
      tracks: announce(H264_MEDIA),
      datagrams: videoCapture("h264_bf2"),
    },
    {
      name: "ffmpeg's H.265 with B-frames (h265_bf2)",
      tracks: announce(H265_MEDIA),
      datagrams: videoCapture("h265_bf2"),
    },
    {
      name:
        "ffmpeg's AAC-hbr, AUs fragmented over packets, a Sender Report first",
      tracks: announce(audioMedia("aac_hbr_fragmented")),
      datagrams: audioCapture("aac_hbr_fragmented"),
    },
    {
      name: "ffmpeg's Opus",
      tracks: announce(audioMedia("opus_48k_stereo")),
      datagrams: audioCapture("opus_48k_stereo"),
    },
    {
      name:
        "H.264 and G.711 A-law in one session, the audio with a Sender Report",
      tracks: announce(H264_MEDIA, PCMA_MEDIA),
      datagrams: alternate(
        videoCapture("h264_bf0"),
        audioCapture("pcma_8k_mono", 1),
      ),
    },
  ];
  for (const f of fixtures) {
    checkStageContract(recordStage(f.tracks), {
      fixtures: [{ name: f.name, bytes: interleave(f.datagrams) }],
      // RtpOutput packetizes in its own way (its SSRC, sequence numbers, random
      // timestamp base, payload types, packet sizes; SPS and PPS before each
      // keyframe, no access units of their own), and sends no Sender Report
      // here: the frames come back with their tracks, as asSent() says.
      encode: resend,
      roundTrip: "items",
      normalizeRoundTrip: asSent,
    });
  }
});

Deno.test("InterleavedFramer → RtpInput keeps the stage contract on MP4A-LATM, which Sluice does not send", () => {
  checkStageContract(recordStage(announce(audioMedia("aac_latm_44k_stereo"))), {
    fixtures: [{
      name: "ffmpeg's AAC in MP4A-LATM",
      bytes: interleave(audioCapture("aac_latm_44k_stereo")),
    }],
    // RtpOutput sends AAC as MPEG4-GENERIC: no encoder for this SDP.
  });
});

// ---- named cases ----

for (
  const [name, codec] of [["h264_bf2", "H264"], ["h265_bf2", "H265"]] as const
) {
  Deno.test(`RtpInput gives ffmpeg's ${name} rising decode times, the encoder's own, B-frames and all`, () => {
    const events = record(
      announce(codec === "H264" ? H264_MEDIA : H265_MEDIA),
      interleave(videoCapture(name)),
    );
    const frames = framesOf(events);
    for (let i = 1; i < frames.length; i++) {
      assert.ok(frames[i]!.dts > frames[i - 1]!.dts, `dts rises at frame ${i}`);
    }
    assert.ok(frames.every((f) => f.dts <= f.pts), "dts never after pts");
    // tests/testdata/rtp/README.md: framecrc holds ffmpeg's dts and pts.
    const ref = readFramecrc(`${name}.framecrc`).lines;
    const d0 = ref[0]!.dts;
    assert.deepEqual(
      times(frames).map(([dts, pts]) => [dts, pts]),
      ref.slice(0, frames.length).map((l) => [l.dts - d0, l.pts - d0]),
    );
    assert.equal(frames.length, 50);
  });
}

Deno.test("RtpInput gives the track the size of the parameter sets it finds in-band", () => {
  const events = record(
    announce(H264_MEDIA),
    interleave(videoCapture("h264_bf0")),
  );
  assert.deepEqual(events.map((e) => e.kind).slice(0, 3), [
    "tracks",
    "track",
    "frame",
  ]);
  const [initial] = eventsOf(events, "tracks");
  const [updated] = eventsOf(events, "track");
  assert.deepEqual(initial!.tracks.map((t) => t.kind === "video" && t.width), [
    undefined,
  ]);
  assert.ok(updated!.track.kind === "video");
  assert.deepEqual([updated!.track.width, updated!.track.height], [320, 240]);
  assert.equal(updated!.track.parameterSets?.sps.length, 1);
  assert.equal(framesOf(events).length, 50);
  assert.ok(framesOf(events).every((f) => f.dts === f.pts)); // no B-frames: dts = pts
});

Deno.test("RtpInput takes parameter sets from the SDP: the track is sized at once, the same sets in-band change nothing", () => {
  // ffmpeg with -flags +global_header (tests/testdata/rtp/README.md): the sets of h264_bf2
  const sprop = "Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+CXLA=";
  const media =
    `m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets=${sprop}\r\n`;
  const events = record(announce(media), interleave(videoCapture("h264_bf2")));
  assert.deepEqual(events.map((e) => e.kind).slice(0, 2), ["tracks", "frame"]);
  assert.equal(eventsOf(events, "track").length, 0);
  const [track] = eventsOf(events, "tracks")[0]!.tracks;
  assert.ok(track?.kind === "video");
  assert.deepEqual([track.width, track.height], [320, 240]);
  // The SDP's SPS declares the reorder depth before any frame: the encoder's own times.
  const ref = readFramecrc("h264_bf2.framecrc").lines;
  assert.deepEqual(
    times(framesOf(events)).map(([dts, pts]) => [dts, pts]),
    ref.map((l) => [l.dts - ref[0]!.dts, l.pts - ref[0]!.dts]),
  );
});

Deno.test("RtpInput over UDP puts reordered packets back in order", () => {
  const packets = readCapture("h264_bf0.rtp");
  const run = (order: Uint8Array[]) => {
    const { input, clock, events } = udpInput(announce(H264_MEDIA)());
    order.forEach((p, i) => {
      clock.now = NOW + i; // within the 50 ms the reorder buffer waits
      input.rtp(0, p);
    });
    return { frames: framesOf(events()), stats: input.stats };
  };
  const inOrder = run(packets);
  const swapped = [...packets];
  [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
  [swapped[30], swapped[33]] = [swapped[33]!, swapped[30]!];
  const reordered = run(swapped);
  assert.equal(inOrder.frames.length, 50);
  assert.deepEqual(reordered.frames, inOrder.frames);
  assert.deepEqual(reordered.stats, { packets: 56, frames: 50, dropped: 0 });
});

/** Which frames of ffmpeg's h264_bf0 a lost packet costs: the sequence numbers of each frame's packets. */
function framePackets(packets: RtpPacket[]): number[][] {
  const frames: number[][] = [[]];
  for (const p of packets) {
    frames.at(-1)!.push(p.sequenceNumber);
    if (p.marker) frames.push([]);
  }
  return frames.filter((f) => f.length > 0);
}

for (const udp of [true, false]) {
  Deno.test(`RtpInput over ${udp ? "UDP" : "TCP"} drops the frame a lost packet belongs to, and the rest until the next keyframe`, () => {
    const wires = readCapture("h264_bf0.rtp");
    const packets = wires.map(decodeRtpPacket);
    const perFrame = framePackets(packets);
    assert.equal(perFrame.length, 50);
    const lostFrame = perFrame.findIndex((f, i) => i > 5 && f.length === 1);
    const lostSeq = perFrame[lostFrame]![0]!;
    const { input, clock, events } = udpInput(announce(H264_MEDIA)(), udp);
    wires.forEach((w, i) => {
      clock.now = NOW + i * 20; // the reorder buffer gives up on the gap after 50 ms
      if (packets[i]!.sequenceNumber !== lostSeq) input.rtp(0, w);
    });
    const all = framesOf(
      record(announce(H264_MEDIA), interleave(videoCapture("h264_bf0"))),
    );
    const got = framesOf(events());
    // Frames before the loss, then from the next keyframe (frame 25) on.
    const want = [...all.slice(0, lostFrame), ...all.slice(25)];
    assert.deepEqual(
      got.map((f) => f.pts - got[0]!.pts),
      want.map((f) => f.pts - all[0]!.pts),
    );
    assert.ok(got[lostFrame]!.keyframe, "resynced at a keyframe");
    assert.equal(input.stats.packets, 55);
    assert.equal(input.stats.frames, want.length);
  });
}

Deno.test({
  // A frame the depacketizer drops for a lost packet counts as dropped too.
  name: "RtpInput counts the frame a lost packet cost in stats.dropped",
  fn() {
    const wires = readCapture("h264_bf0.rtp");
    const { input } = udpInput(announce(H264_MEDIA)(), false);
    wires.forEach((w, i) => i !== 20 && input.rtp(0, w));
    assert.ok(input.stats.frames < 50);
    assert.ok(input.stats.dropped >= 1, `dropped ${input.stats.dropped}`);
  },
});

// ---- Sender Reports: one timeline for all tracks ----

/** An RTP packet of one single-NAL-unit H.264 frame, or of 20 ms of G.711 A-law. */
function rtp(
  kind: "idr" | "p" | "pcma",
  sequenceNumber: number,
  timestamp: number,
): Uint8Array {
  const payload = kind === "pcma"
    ? new Uint8Array(160).fill(0xd5)
    : hex(kind === "idr" ? "65 88 84 00 33" : "41 9a 02 0c");
  return encodeRtpPacket({
    padding: 0,
    marker: true,
    payloadType: kind === "pcma" ? 8 : 96,
    sequenceNumber: sequenceNumber & 0xffff,
    timestamp: timestamp >>> 0,
    ssrc: kind === "pcma" ? 0xa0d10 : 0x71de0,
    csrcs: [],
    payload,
  });
}

/** RFC 3550 §6.4.1: a Sender Report tying `rtpTimestamp` to the sender's wall clock `senderMs`. */
function senderReport(ssrc: number, senderMs: number, rtpTimestamp: number) {
  return encodeRtcp([{
    kind: "sr",
    ssrc,
    ...msToNtp(senderMs),
    rtpTimestamp,
    packetCount: 0,
    octetCount: 0,
    reports: [],
  }]);
}

/**
 * A camera's video (track 0, 90 kHz, 25 fps) and audio (track 1, 8 kHz, 20 ms
 * packets) captured together from sender time `T`, each RTP clock from its
 * own random base; the audio reaches Sluice `audioLateMs` after the video.
 */
function camera(withReports: boolean, audioLateMs: number) {
  const T = Date.UTC(2024, 5, 1, 12);
  const videoBase = 0x12345678;
  const audioBase = 0xfedcba98;
  const { input, clock, events } = udpInput(
    announce(H264_MEDIA, PCMA_MEDIA)(),
    false,
  );
  const arrivals: [number, () => void][] = [];
  if (withReports) {
    arrivals.push([
      0,
      () => input.rtcp(0, senderReport(0x71de0, T, videoBase)),
    ]);
    arrivals.push([
      0,
      () => input.rtcp(1, senderReport(0xa0d10, T, audioBase)),
    ]);
  }
  for (let k = 0; k < 10; k++) {
    arrivals.push([
      10 + 40 * k,
      () => input.rtp(0, rtp(k === 0 ? "idr" : "p", k, videoBase + 3600 * k)),
    ]);
  }
  for (let k = 0; k < 20; k++) {
    arrivals.push([
      10 + audioLateMs + 20 * k,
      () => input.rtp(1, rtp("pcma", 100 + k, audioBase + 160 * k)),
    ]);
  }
  arrivals.sort((a, b) => a[0] - b[0]);
  for (const [ms, arrive] of arrivals) {
    clock.now = NOW + ms;
    arrive();
  }
  /** Seconds on the stream's timeline of each track's frames. */
  const seconds = (track: number, rate: number) =>
    framesOf(events()).filter((f) => f.trackId === track).map((f) =>
      f.dts / rate
    );
  return { video: seconds(0, 90000), audio: seconds(1, 8000) };
}

Deno.test("RtpInput lines audio up with video by their Sender Reports, however late the audio arrives", () => {
  const { video, audio } = camera(true, 200);
  assert.equal(video.length, 10);
  assert.equal(audio.length, 20);
  // Captured at the same instant: video frame k and audio packet 2k (40 ms = 2 × 20 ms).
  for (let k = 0; k < 10; k++) {
    assert.ok(
      Math.abs(video[k]! - audio[2 * k]!) < 1e-9,
      `frame ${k}: video ${video[k]} s, audio ${audio[2 * k]} s`,
    );
  }
});

Deno.test("RtpInput without Sender Reports lines tracks up by arrival", () => {
  const { video, audio } = camera(false, 200);
  assert.ok(
    Math.abs(audio[0]! - video[0]! - 0.2) < 1e-9,
    `${audio[0]} vs ${video[0]}`,
  );
});

// ---- 32-bit RTP timestamps ----

/** The capture with every RTP timestamp moved so that frame `at` is the first after the 2^32 wrap. */
function wrapped(wires: Uint8Array[], at: number): Uint8Array[] {
  const packets = wires.map(decodeRtpPacket);
  const tsOfFrame = [...new Set(packets.map((p) => p.timestamp))];
  const shift = 0x1_0000_0000 - tsOfFrame[at]!;
  return packets.map((p) =>
    encodeRtpPacket({ ...p, timestamp: (p.timestamp + shift) >>> 0 })
  );
}

for (const name of ["h264_bf0", "h264_bf2"]) {
  Deno.test(`RtpInput carries ${name}'s timestamps across the 32-bit RTP wrap`, () => {
    const plain = readCapture(`${name}.rtp`);
    const dg = (wires: Uint8Array[]) =>
      wires.map((bytes) => ({ track: 0, rtcp: false, bytes }));
    const want = framesOf(record(announce(H264_MEDIA), interleave(dg(plain))));
    const got = framesOf(
      record(announce(H264_MEDIA), interleave(dg(wrapped(plain, 12)))),
    );
    assert.deepEqual(times(got), times(want));
    assert.ok(got.length > 40);
  });
}

// ---- what a RECORD connection must survive ----

Deno.test("RtpInput ignores garbage: on a channel no SETUP gave, as RTP and as RTCP of a track", () => {
  const clean = videoCapture("h264_bf0");
  const garbage = hex("de ad be ef 00 01 02 03 04 05 06 07 08");
  const bytes = concat([
    interleave(clean.slice(0, 2)), // the keyframe's STAP-A and first FU-A: it goes on after
    encodeInterleaved(9, garbage), // track 4: never set up
    encodeInterleaved(0, garbage), // not RTP version 2
    encodeInterleaved(1, garbage), // not RTCP
    encodeInterleaved(0, hex("80 60 00")), // shorter than an RTP header
    interleave(clean.slice(2)),
  ]);
  const want = record(announce(H264_MEDIA), interleave(clean));
  const core = recordStage(announce(H264_MEDIA))();
  const out = collect<PublisherEvent>();
  core.push(bytes, out);
  core.end?.(out);
  assert.deepEqual(out.items, want);
});

Deno.test("RtpInput counts an RTP packet it cannot decode as dropped", () => {
  const { input } = udpInput(announce(H264_MEDIA)(), false);
  input.rtp(0, hex("de ad be ef 00 01 02 03 04 05 06 07"));
  input.rtp(0, hex("80 60"));
  assert.deepEqual(input.stats, { packets: 2, frames: 0, dropped: 2 });
});

Deno.test("RtpInput ignores RTP and broken RTCP for a track it does not have", () => {
  const { input, events } = udpInput(announce(H264_MEDIA)(), false);
  input.rtp(3, rtp("idr", 0, 0));
  input.rtcp(3, hex("de ad be ef"));
  assert.deepEqual(input.stats, { packets: 0, frames: 0, dropped: 0 });
  assert.deepEqual(events().map((e) => e.kind), ["tracks"]);
});

Deno.test({
  // An announced track Sluice cannot read is set up but has no input: its
  // RTCP (ffmpeg sends it for every stream) must not end the RECORD session.
  name: "RtpInput ignores a Sender Report for a track it does not have",
  fn() {
    const { input } = udpInput(announce(H264_MEDIA)(), false);
    input.rtcp(1, senderReport(0x5eed, Date.UTC(2024, 0, 1), 1234));
  },
});
