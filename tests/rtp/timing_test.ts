import assert from "node:assert/strict";
import fc from "fast-check";
import {
  randomRtpTimestamp,
  RtpTimestamper,
  RtpTimestampUnwrapper,
  SenderReportClock,
  SrSync,
} from "../../lib/rtp/timing.ts";
import {
  decodeRtcp,
  msToNtp,
  ntpToMs,
  type RtcpSenderReport,
} from "../../lib/rtp/rtcp.ts";
import { loadCapture } from "./_audio_fixtures.ts";

const T0 = Date.UTC(2025, 0, 1); // the sender's wall clock at its first Sender Report

/** The NTP and RTP times of a Sender Report (RFC 3550 §6.4.1). */
function sr(unixMs: number, rtpTimestamp: number) {
  return { ...msToNtp(unixMs), rtpTimestamp: rtpTimestamp >>> 0 };
}

Deno.test("RtpTimestampUnwrapper counts on across the 32-bit wrap and steps back small steps", () => {
  const u = new RtpTimestampUnwrapper(90000);
  assert.deepEqual(
    [0xffff_fff0, 0x10, 0x8, 0x7fff_0000, 0xf000_0000, 0x10].map((t) =>
      u.ticks(t)
    ),
    [
      0xffff_fff0,
      0x1_0000_0010,
      0x1_0000_0008,
      0x1_7fff_0000,
      0x1_f000_0000,
      0x2_0000_0010,
    ],
  );
});

Deno.test("RtpTimestampUnwrapper rescales to the track clock", () => {
  const u = new RtpTimestampUnwrapper(90000, 1000);
  assert.deepEqual([90000, 180000, 90].map((t) => u.ticks(t)), [1000, 2000, 1]);
});

Deno.test("RtpTimestamper starts at its offset, wraps at 2^32, takes negative ticks", () => {
  const s = new RtpTimestamper(48000, { initialTimestamp: 0xffff_ff00 });
  assert.deepEqual(
    [0, 0x100, 0x1_0000_0000 + 5, -0x100].map((t) => s.timestamp(t)),
    [0xffff_ff00, 0, 0xffff_ff05, 0xffff_fe00],
  );
  const ms = new RtpTimestamper(1000, {
    rtpClockRate: 90000,
    initialTimestamp: 0,
  });
  assert.equal(ms.timestamp(40), 3600);
});

Deno.test("RtpTimestamper starts at a random 32-bit timestamp (RFC 3550 §5.1)", () => {
  const starts = new Set(
    Array.from({ length: 8 }, () => new RtpTimestamper(90000).initialTimestamp),
  );
  assert.ok(starts.size > 1);
  for (let i = 0; i < 100; i++) {
    const t = randomRtpTimestamp();
    assert.ok(Number.isInteger(t) && t >= 0 && t <= 0xffff_ffff);
  }
});

Deno.test("RtpTimestamper → RtpTimestampUnwrapper returns the ticks, any offset, across wraps", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 50 }),
      (offset, steps) => {
        const s = new RtpTimestamper(48000, { initialTimestamp: offset });
        const u = new RtpTimestampUnwrapper(48000);
        const first = u.ticks(s.timestamp(0));
        assert.equal(first, offset);
        let ticks = 0;
        for (const step of steps) {
          ticks += step;
          assert.equal(u.ticks(s.timestamp(ticks)) - first, ticks);
        }
      },
    ),
  );
});

// RFC 3550 §6.4.1: an SR's NTP timestamp and RTP timestamp name the same instant.
Deno.test("SrSync puts audio and video captured at the same instant at the same time", () => {
  const sync = new SrSync();
  sync.addTrack(0, 90000);
  sync.addTrack(1, 48000);
  // Video RTP 5000 and audio RTP 0xFFFFFF00 both at T0; they arrive 30 ms later.
  sync.senderReport(0, sr(T0, 5000), T0 + 30);
  sync.senderReport(1, sr(T0, 0xffff_ff00), T0 + 30);
  const video = new RtpTimestampUnwrapper(90000);
  const audio = new RtpTimestampUnwrapper(48000);
  // Frames 2 s after T0: audio past the 32-bit wrap.
  const vDts = video.ticks(5000 + 2 * 90000);
  const aDts = audio.ticks((0xffff_ff00 + 2 * 48000) >>> 0);
  const vOff = sync.offset(0, vDts, T0 + 2040);
  const aOff = sync.offset(1, aDts, T0 + 2100);
  assert.equal((vDts + vOff) / 90000, 0); // the first frame mapped is the origin
  assert.equal((aDts + aOff) / 48000, 0);
  // 1 s later on both clocks: still together, and the offsets are fixed.
  const v2 = video.ticks(5000 + 3 * 90000);
  const a2 = audio.ticks((0xffff_ff00 + 3 * 48000) >>> 0);
  assert.equal((v2 + sync.offset(0, v2, 0)) / 90000, 1);
  assert.equal((a2 + sync.offset(1, a2, 0)) / 48000, 1);
});

Deno.test("SrSync lines up a track that starts later", () => {
  const sync = new SrSync();
  sync.addTrack(0, 90000);
  sync.addTrack(1, 48000);
  sync.senderReport(0, sr(T0, 1_000_000), T0 + 5);
  sync.senderReport(1, sr(T0 + 500, 7), T0 + 505); // audio's SR is half a second later
  const vOff = sync.offset(0, 1_000_000, T0 + 5); // video frame at T0
  const aOff = sync.offset(1, 7 + 48000, T0 + 1505); // audio frame at T0 + 1.5 s
  assert.equal(1_000_000 + vOff, 0);
  assert.equal(7 + 48000 + aOff, 1.5 * 48000);
});

Deno.test("SrSync takes a Sender Report RTP time from before the wrap of the frames' line", () => {
  const sync = new SrSync();
  sync.addTrack(0, 48000);
  sync.addTrack(1, 90000);
  sync.senderReport(1, sr(T0, 0), T0);
  sync.offset(1, 0, T0); // video's frame at T0: the origin
  // Audio frames went past 2^32 long ago (their line is at 3 × 2^32 + 100); the SR says 0xFFFFFF00.
  sync.senderReport(0, sr(T0 + 1000, 0xffff_ff00), T0 + 1000);
  const dts = 3 * 0x1_0000_0000 + 100; // 0x100 + 100 ticks after the SR instant
  const off = sync.offset(0, dts, T0 + 5000);
  assert.equal(dts + off, 48000 + 0x100 + 100);
});

Deno.test("SrSync falls back to arrival times before any Sender Report", () => {
  const sync = new SrSync({ originMs: T0 });
  sync.addTrack(0, 90000);
  sync.addTrack(1, 48000);
  assert.equal(sync.hasSenderReport(0), false);
  assert.equal(123 + sync.offset(0, 123, T0 + 100), 9000); // 100 ms after the origin
  assert.equal(456 + sync.offset(1, 456, T0 + 200), 9600);
  assert.equal(sync.driftMs(0), undefined);
});

Deno.test("SrSync reports drift of a later Sender Report without moving the offset", () => {
  const sync = new SrSync();
  sync.addTrack(0, 48000);
  sync.senderReport(0, sr(T0, 0), T0);
  const off = sync.offset(0, 0, T0);
  sync.offset(0, 480000, T0 + 10_000);
  // The sender says RTP 480000 is T0 + 10.05 s: its RTP clock runs 0.5 % slow.
  sync.senderReport(0, sr(T0 + 10_050, 480000), T0 + 10_050);
  assert.equal(Math.round(sync.driftMs(0)!), 50);
  assert.equal(sync.offset(0, 480000, 0), off);
  assert.equal(sync.lockedOffset(0), off);
});

Deno.test("SrSync rejects tracks it was not told about", () => {
  const sync = new SrSync();
  assert.throws(() => sync.offset(9, 0, 0), RangeError);
  assert.throws(() => sync.addTrack(1, 0), RangeError);
});

Deno.test("SrSync reads ffmpeg's Sender Report: its first packet was sent before the report's instant", () => {
  const cap = loadCapture("aac_hbr_44k_stereo");
  const report = decodeRtcp(cap.rtcp[0]!).find((p): p is RtcpSenderReport =>
    p.kind === "sr"
  )!;
  const sync = new SrSync();
  sync.addTrack(0, 44100);
  sync.senderReport(0, report, ntpToMs(report.ntpSeconds, report.ntpFraction));
  const u = new RtpTimestampUnwrapper(44100);
  const first = u.ticks(cap.rtp[0]!.timestamp);
  const off = sync.offset(0, first, 0);
  const last = u.ticks(cap.rtp.at(-1)!.timestamp);
  assert.equal(first + off, 0);
  assert.equal(last + off, last - first);
  assert.ok(report.rtpTimestamp - cap.rtp[0]!.timestamp > 0); // ffmpeg stamps its SR at "now"
});

Deno.test("SenderReportClock gives the NTP and RTP times of the same instant for every track", () => {
  const clock = new SenderReportClock();
  const audio = new RtpTimestamper(48000, { initialTimestamp: 0xffff_0000 });
  const video = new RtpTimestamper(90000, { initialTimestamp: 77 });
  assert.equal(clock.report(T0, audio), undefined);
  clock.anchor(96000, 48000, T0); // audio at 2 s is being sent at T0
  clock.anchor(0, 90000, T0 + 999); // later anchors do not count
  assert.equal(clock.anchored, true);
  const a = clock.report(T0 + 1500, audio)!;
  const v = clock.report(T0 + 1500, video)!;
  assert.deepEqual(
    { ntpSeconds: a.ntpSeconds, ntpFraction: a.ntpFraction },
    msToNtp(T0 + 1500),
  );
  assert.equal(a.rtpTimestamp, audio.timestamp(3.5 * 48000));
  assert.equal(v.rtpTimestamp, video.timestamp(3.5 * 90000));
  clock.reset();
  assert.equal(clock.report(T0, audio), undefined);
});

Deno.test("SenderReportClock → SrSync: a receiver lines our tracks up again", () => {
  const clock = new SenderReportClock();
  const audio = new RtpTimestamper(48000);
  const video = new RtpTimestamper(90000);
  clock.anchor(0, 90000, T0);
  const sync = new SrSync();
  sync.addTrack(0, 90000);
  sync.addTrack(1, 48000);
  sync.senderReport(0, clock.report(T0 + 100, video)!, T0 + 110);
  sync.senderReport(1, clock.report(T0 + 300, audio)!, T0 + 310);
  // Frames at 5 s of our timeline, as the receiver unwraps them.
  const vDts = new RtpTimestampUnwrapper(90000).ticks(
    video.timestamp(5 * 90000),
  );
  const aDts = new RtpTimestampUnwrapper(48000).ticks(
    audio.timestamp(5 * 48000),
  );
  const v = (vDts + sync.offset(0, vDts, 0)) / 90000;
  const a = (aDts + sync.offset(1, aDts, 0)) / 48000;
  assert.ok(Math.abs(v - a) < 0.001, `${v} vs ${a}`);
});
