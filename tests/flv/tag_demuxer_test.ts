import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import { buildAvcc } from "../../lib/codec/h264/avcc.ts";
import { buildHvcc } from "../../lib/codec/h265/hvcc.ts";
import { H265_NAL_TYPE, h265NalType } from "../../lib/codec/h265/nal.ts";
import { splitAnnexB } from "../../lib/codec/nal_units.ts";
import { ProtocolError } from "../../lib/errors.ts";
import type { FlvEvent, FlvTag } from "../../lib/flv/tag.ts";
import { FlvDemuxer, FlvMuxer } from "../../lib/flv/file.ts";
import {
  FlvTagDemuxer,
  FlvTagDemuxerStream,
} from "../../lib/flv/tag_demuxer.ts";
import { FlvTagMuxer } from "../../lib/flv/tag_muxer.ts";
import type { Sink, StageCore } from "../../lib/stage.ts";
import type { AudioTrack, VideoTrack } from "../../lib/media/mod.ts";
import { ascii, collect, hex } from "../_util/bytes.ts";
import { mutated } from "../codec/_fuzz.ts";
import { checkStageContract } from "../_util/stage_contract.ts";
import { audio, eventsOf, split, tagsOf, testdata, video } from "./_util.ts";

function cat(...parts: (Uint8Array | string)[]): Uint8Array<ArrayBuffer> {
  const bytes = parts.map((p) => typeof p === "string" ? hex(p) : p);
  return new Uint8Array(bytes.flatMap((b) => Array.from(b)));
}

// H.264 §7.3.2.1.1 Baseline 176x144 (see tests/codec/h264_test.ts) and a PPS
const SPS = hex("67 42 00 0b ed 05 89 c8");
const PPS = hex("68 ce 38 80");
const AVCC = buildAvcc([SPS], [PPS]);
// FLV v10.1 §E.4.3.1: FrameType 1 | CodecID 7 | AVCPacketType 0 | CompositionTime 0 | avcC
const AVC_SEQUENCE_HEADER = cat("17 00 000000", AVCC);

const HEVC = (() => {
  const units = splitAnnexB(testdata("codec/h265_352x288.h265"));
  const of = (t: number) => units.filter((u) => h265NalType(u) === t);
  return {
    vps: of(H265_NAL_TYPE.VPS),
    sps: of(H265_NAL_TYPE.SPS),
    pps: of(H265_NAL_TYPE.PPS),
  };
})();
const HVCC = buildHvcc(HEVC);
const AV1C = hex("81 00 0c 00 | 0a 0b 00 00 00 04 3c ff bc da f9 00 40"); // libaom, 320x240
const VPCC = hex("00 14 82 02 02 02 0000"); // as ffmpeg's FLV muxer writes it

function videoTrack(events: FlvEvent[]): VideoTrack {
  const e = events.find((e) => e.kind === "track");
  assert.ok(e?.kind === "track" && e.track.kind === "video");
  return e.track;
}
function audioTrack(events: FlvEvent[]): AudioTrack {
  const e = events.find((e) => e.kind === "track");
  assert.ok(e?.kind === "track" && e.track.kind === "audio");
  return e.track;
}

// ---- legacy AVC, FLV v10.1 §E.4.3.1 ----

Deno.test("FlvTagDemuxer turns an AVC sequence header into an H.264 track", () => {
  const { events } = eventsOf([video(0, AVC_SEQUENCE_HEADER)]);
  assert.equal(events.length, 1);
  const track = videoTrack(events);
  assert.deepEqual(track, {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    width: 176,
    height: 144,
    parameterSets: { sps: [SPS], pps: [PPS] },
    record: AVCC,
  });
  assert.notEqual(track.record!.buffer, AVC_SEQUENCE_HEADER.buffer); // a copy that outlives the chunk
});

Deno.test("FlvTagDemuxer turns AVC NALU packets into frames at 90 kHz", () => {
  const key = cat("17 01 000000 | 00000005 65 88 84 00 21 | 00000002 06 05");
  const inter = cat("27 01 000050 | 00000003 41 9a 02"); // CompositionTime 80 ms
  const { events } = eventsOf([
    video(0, AVC_SEQUENCE_HEADER),
    video(1000, key),
    video(1040, inter),
  ]);
  const { frames } = split(events);
  assert.deepEqual(frames, [
    {
      trackId: 0,
      dts: 90000,
      pts: 90000,
      keyframe: true,
      units: [hex("65 88 84 00 21"), hex("06 05")],
    },
    {
      trackId: 0,
      dts: 93600,
      pts: 100800,
      keyframe: false,
      units: [hex("41 9a 02")],
    },
  ]);
  // one allocation per frame: the units share one copy, not the tag's buffer
  assert.equal(frames[0]!.units[0]!.buffer, frames[0]!.units[1]!.buffer);
  assert.notEqual(frames[0]!.units[0]!.buffer, key.buffer);
});

Deno.test("Ecamm Live: a negative composition time", () => {
  const { frames } = split(
    eventsOf([
      video(0, AVC_SEQUENCE_HEADER),
      video(200, cat("27 01 ffffd8 | 00000002 41 9a")),
    ]).events,
  );
  assert.equal(frames[0]!.dts, 18000);
  assert.equal(frames[0]!.pts, 14400); // (200 - 40) × 90
});

Deno.test("FlvTagDemuxer marks an IDR keyframe even when FrameType says inter", () => {
  const { frames } = split(
    eventsOf([
      video(0, AVC_SEQUENCE_HEADER),
      video(0, cat("27 01 000000 | 00000002 65 88")),
    ]).events,
  );
  assert.equal(frames[0]!.keyframe, true);
});

Deno.test("FlvTagDemuxer ignores end of sequence, command frames and a repeated sequence header", () => {
  const tags = [
    video(0, AVC_SEQUENCE_HEADER),
    video(0, AVC_SEQUENCE_HEADER.slice()),
    video(10, hex("17 02 000000")),
    video(10, hex("57 00")), // FrameType 5: video info/command frame
    video(10, new Uint8Array(0)),
  ];
  assert.equal(eventsOf(tags).events.length, 1);
});

Deno.test("FlvTagDemuxer drops and counts frames before their sequence header", () => {
  const { events, demuxer } = eventsOf([
    video(0, cat("27 01 000000 | 00000002 41 9a")),
    audio(0, hex("af 01 21 10")),
    video(40, AVC_SEQUENCE_HEADER),
    video(40, cat("17 01 000000 | 00000002 65 88")),
  ]);
  assert.equal(demuxer.dropped, 2);
  assert.deepEqual(events.map((e) => e.kind), ["track", "frame"]);
});

Deno.test("FlvTagDemuxer takes SPS and PPS sent in-band when no sequence header came", () => {
  const tag = cat(
    "17 01 000000 | 00000008",
    SPS,
    "00000004",
    PPS,
    "00000002 65 88",
  );
  const { events } = eventsOf([video(0, tag)]);
  assert.deepEqual(events.map((e) => e.kind), ["track", "frame"]);
  const track = videoTrack(events);
  assert.deepEqual([track.width, track.height, track.record], [176, 144, AVCC]);
});

Deno.test("FlvTagDemuxer reads an avcC with 2-byte NAL unit lengths", () => {
  const avcc = AVCC.slice();
  avcc[4] = 0xfd;
  const { frames } = split(
    eventsOf([
      video(0, cat("17 00 000000", avcc)),
      video(0, cat("17 01 000000 | 0002 65 88 | 0001 06")),
    ]).events,
  );
  assert.deepEqual(frames[0]!.units, [hex("65 88"), hex("06")]);
});

// ---- HEVC: codec id 12, codec id 7 with an hvcC, Enhanced RTMP 'hvc1' ----

Deno.test("Chinese CDNs and older OBS forks: HEVC as codec id 12", () => {
  const { events } = eventsOf([
    video(0, cat("1c 00 000000", HVCC)),
    video(40, cat("2c 01 000028 | 00000003 26 01 af")),
  ]);
  const track = videoTrack(events);
  assert.deepEqual([track.codec, track.width, track.height], [
    "H265",
    352,
    288,
  ]);
  assert.deepEqual(track.parameterSets, {
    vps: HEVC.vps,
    sps: HEVC.sps,
    pps: HEVC.pps,
  });
  const { frames } = split(events);
  assert.deepEqual(frames[0], {
    trackId: 0,
    dts: 3600,
    pts: 7200,
    keyframe: true,
    units: [hex("26 01 af")],
  });
});

Deno.test("Publishers flagging HEVC as codec id 7: an hvcC after an AVC header byte", () => {
  const { events } = eventsOf([
    video(0, cat("17 00 000000", HVCC)),
    video(0, cat("17 01 000000 | 00000003 26 01 af")),
  ]);
  assert.equal(videoTrack(events).codec, "H265");
  assert.equal(split(events).frames[0]!.keyframe, true);
});

// Enhanced RTMP v1: IsExHeader | FrameType (3) | PacketType (4) | FourCC | body
Deno.test("FlvTagDemuxer reads Enhanced RTMP 'hvc1' SequenceStart, CodedFrames and CodedFramesX", () => {
  const { events } = eventsOf([
    video(0, cat("90", ascii("hvc1"), HVCC)),
    video(0, cat("91", ascii("hvc1"), "000050 | 00000003 26 01 af")),
    video(40, cat("a3", ascii("hvc1"), "00000003 02 01 d0")), // composition time implied 0
    video(80, cat("a2", ascii("hvc1"))), // SequenceEnd
  ]);
  assert.equal(videoTrack(events).codec, "H265");
  assert.deepEqual(split(events).frames, [
    { trackId: 0, dts: 0, pts: 7200, keyframe: true, units: [hex("26 01 af")] },
    {
      trackId: 0,
      dts: 3600,
      pts: 3600,
      keyframe: false,
      units: [hex("02 01 d0")],
    },
  ]);
});

Deno.test("FlvTagDemuxer reads Enhanced RTMP 'avc1' with its composition time", () => {
  const { events } = eventsOf([
    video(0, cat("90", ascii("avc1"), AVCC)),
    video(0, cat("a1", ascii("avc1"), "000028 | 00000002 41 9a")),
  ]);
  assert.equal(videoTrack(events).codec, "H264");
  assert.equal(split(events).frames[0]!.pts, 3600);
});

Deno.test("FlvTagDemuxer reads Enhanced RTMP 'av01' and 'vp09'", () => {
  const tu = hex("12 00 32 05 10 aa bb cc dd");
  const av1 = eventsOf([
    video(0, cat("90", ascii("av01"), AV1C)),
    video(33, cat("91", ascii("av01"), tu)),
  ]).events;
  assert.deepEqual(
    [
      videoTrack(av1).codec,
      videoTrack(av1).width,
      videoTrack(av1).height,
      videoTrack(av1).record,
    ],
    ["AV1", 320, 240, AV1C],
  );
  assert.deepEqual(split(av1).frames, [{
    trackId: 0,
    dts: 2970,
    pts: 2970,
    keyframe: true,
    units: [tu],
  }]);
  const vp9 = eventsOf([
    video(0, cat("90", ascii("vp09"), VPCC)),
    video(0, cat("a1", ascii("vp09"), "86 00 11")),
  ]).events;
  assert.deepEqual([videoTrack(vp9).codec, videoTrack(vp9).record], [
    "VP9",
    VPCC,
  ]);
  assert.equal(split(vp9).frames[0]!.keyframe, false);
});

// Enhanced RTMP v2: ModEx { size-1 (8) | data | modExType (4) | packetType (4) }, Multitrack
Deno.test("FlvTagDemuxer skips a ModEx TimestampOffsetNano", () => {
  const { frames } = split(
    eventsOf([
      video(0, cat("90", ascii("hvc1"), HVCC)),
      video(
        0,
        cat("97 | 02 | 00 01 f4 | 03", ascii("hvc1"), "00000003 26 01 af"),
      ), // 500 ns, CodedFramesX
    ]).events,
  );
  assert.deepEqual(frames[0]!.units, [hex("26 01 af")]);
});

Deno.test("FlvTagDemuxer takes the default track (id 0) of a multitrack message", () => {
  const { events } = eventsOf([
    video(0, cat("96 | 00", ascii("av01"), "00", AV1C)), // OneTrack, SequenceStart
    video(
      0,
      cat("96 | 11", ascii("av01"), "01 000002 aa bb | 00 000003 cc dd ee"),
    ), // ManyTracks, CodedFrames
    video(
      0,
      cat(
        "96 | 21",
        ascii("vp09"),
        "02 000001 ff",
        ascii("av01"),
        "00 000001 99",
      ),
    ), // ManyTracksManyCodecs
  ]);
  assert.equal(videoTrack(events).codec, "AV1");
  assert.deepEqual(split(events).frames.map((f) => f.units[0]), [
    hex("cc dd ee"),
    hex("99"),
  ]);
});

Deno.test("FlvTagDemuxer ignores Enhanced command frames and Metadata", () => {
  const { events } = eventsOf([
    video(0, cat("90", ascii("hvc1"), HVCC)),
    video(0, hex("d1 00")), // FrameType 5: one VideoCommand byte, no FourCC
    video(0, cat("84", ascii("hvc1"), "02 0009 636f6c6f72496e666f 05")), // "colorInfo" undefined
  ]);
  assert.equal(events.length, 1);
});

// ---- audio, FLV v10.1 §E.4.2.1 and Enhanced RTMP v2 ----

Deno.test("FlvTagDemuxer turns an AAC sequence header into a track and raw AAC into frames", () => {
  const { events } = eventsOf([
    audio(0, hex("af 00 12 10")),
    audio(1000, hex("af 01 21 1b 80")),
    audio(1023, hex("af 01 21")),
  ]);
  assert.deepEqual(audioTrack(events), {
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 44100,
    sampleRate: 44100,
    channels: 2,
    config: hex("12 10"),
  });
  assert.deepEqual(split(events).frames, [
    {
      trackId: 1,
      dts: 44100,
      pts: 44100,
      keyframe: true,
      units: [hex("21 1b 80")],
    },
    { trackId: 1, dts: 45114, pts: 45114, keyframe: true, units: [hex("21")] }, // round(1023 × 44.1)
  ]);
});

Deno.test("Publishers passing MPEG-TS AAC through: ADTS inside FLV, without a sequence header", () => {
  const adts = testdata("codec/aac_48k_stereo.adts");
  const frameLength = (at: number) =>
    ((adts[at + 3]! & 3) << 11) | (adts[at + 4]! << 3) | (adts[at + 5]! >> 5);
  const first = frameLength(0);
  const body = cat("af 01", adts.subarray(0, first + frameLength(first))); // two ADTS frames in one tag
  const { events, demuxer } = eventsOf([audio(100, body)]);
  const track = audioTrack(events);
  assert.deepEqual([
    track.codec,
    track.sampleRate,
    track.channels,
    track.config,
  ], ["AAC", 48000, 2, hex("11 90")]);
  const { frames } = split(events);
  assert.deepEqual(frames.map((f) => f.dts), [4800, 4800 + 1024]);
  assert.equal(frames[0]!.units[0]!.length, first - 7);
  assert.equal(demuxer.dropped, 0);
});

Deno.test("FlvTagDemuxer makes MP3 tracks from the frame header, anew when the format changes", () => {
  const mono22 = hex("2a | ff f3 40 c4 00 00");
  const stereo48 = hex("2f | ff fb 54 64 00 00"); // 48 kHz: the flags can only say 44
  const { events } = eventsOf([
    audio(0, mono22),
    audio(26, mono22),
    audio(52, stereo48),
  ]);
  const tracks = split(events).tracks as AudioTrack[];
  assert.deepEqual(
    tracks.map((t) => [t.codec, t.clockRate, t.sampleRate, t.channels]),
    [
      ["MP3", 22050, 22050, 1],
      ["MP3", 48000, 48000, 2],
    ],
  );
  assert.deepEqual(split(events).frames.map((f) => f.dts), [0, 573, 2496]);
  assert.deepEqual(events.map((e) => e.kind), [
    "track",
    "frame",
    "frame",
    "track",
    "frame",
  ]);
});

Deno.test("FlvTagDemuxer reads G.711 A-law and mu-law at 8 kHz", () => {
  const a = eventsOf([audio(20, hex("72 d5 d5 d5"))]).events;
  assert.deepEqual([
    audioTrack(a).codec,
    audioTrack(a).sampleRate,
    audioTrack(a).channels,
  ], ["PCMA", 8000, 1]);
  assert.deepEqual(split(a).frames[0], {
    trackId: 1,
    dts: 160,
    pts: 160,
    keyframe: true,
    units: [hex("d5 d5 d5")],
  });
  const u = eventsOf([audio(0, hex("82 ff ff"))]).events;
  assert.equal(audioTrack(u).codec, "PCMU");
});

// Enhanced RTMP v2: SoundFormat 9 | AudioPacketType (4) | FourCC | body
Deno.test("FlvTagDemuxer reads Enhanced RTMP 'Opus' and 'mp4a'", () => {
  const head = hex("4f707573 48656164 | 01 | 02 | 3801 | 80bb0000 | 0000 | 00");
  const opus = eventsOf([
    audio(0, cat("91", ascii("Opus"), "fc ff fe")), // before SequenceStart: dropped
    audio(0, cat("90", ascii("Opus"), head)),
    audio(0, cat("90", ascii("Opus"), ascii("OpusTags"), "00000000")), // comment header: ignored
    audio(20, cat("91", ascii("Opus"), "fc ff fe")),
  ]);
  assert.deepEqual([
    audioTrack(opus.events).codec,
    audioTrack(opus.events).clockRate,
  ], ["OPUS", 48000]);
  assert.deepEqual(split(opus.events).frames.map((f) => f.dts), [960]);
  assert.equal(opus.demuxer.dropped, 1);
  const aac = eventsOf([
    audio(0, cat("90", ascii("mp4a"), "11 90")),
    audio(0, cat("95 | 01", ascii("mp4a"), "00 21 10")),
  ]).events;
  assert.equal(audioTrack(aac).codec, "AAC");
  assert.deepEqual(split(aac).frames[0]!.units, [hex("21 10")]);
});

Deno.test("FlvTagDemuxer rejects unknown codecs as unsupported, naming them", () => {
  const cases: [FlvTag, RegExp][] = [
    [video(0, hex("22 00 00")), /video codec id 2/],
    [video(0, cat("90", ascii("vp08"), "00")), /video FourCC "vp08"/],
    [audio(0, hex("b2 00")), /sound format 11/],
    [audio(0, cat("90", ascii("fLaC"), "00")), /audio FourCC "fLaC"/],
  ];
  for (const [tag, message] of cases) {
    assert.throws(() => new FlvTagDemuxer().push(tag, collect()), {
      name: "ProtocolError",
      protocol: "flv",
      code: "unsupported",
      message,
    });
  }
});

Deno.test("FlvTagDemuxer rejects malformed bodies with an flv ProtocolError", () => {
  const configured = () => {
    const d = new FlvTagDemuxer();
    d.push(video(0, AVC_SEQUENCE_HEADER), collect());
    return d;
  };
  assert.throws(() => configured().push(video(0, hex("17 01 00")), collect()), {
    protocol: "flv",
    code: "truncated",
  });
  assert.throws(
    () => configured().push(video(0, hex("17 03 000000")), collect()),
    { protocol: "flv", code: "malformed" },
  );
  assert.throws(
    () =>
      configured().push(video(0, cat("17 01 000000 | 00000009 65")), collect()),
    { protocol: "flv", code: "truncated" },
  );
  assert.throws(
    () => configured().push(video(0, hex("17 00 000000 02 42")), collect()),
    { protocol: "flv", code: "malformed" },
  );
  assert.throws(
    () => configured().push(audio(0, hex("af 00 16 90")), collect()),
    { protocol: "flv", code: "malformed" },
  );
  assert.throws(
    () => configured().push(video(0, hex("9f 61 76 30 31")), collect()),
    { protocol: "flv", code: "malformed" },
  );
});

// ---- real files (tests/testdata/flv/README.md), counts from ffprobe -show_packets ----

const FILES = [
  {
    file: "h264_aac.flv",
    tracks: [["H264", 320, 240], ["AAC", 44100, 2]],
    video: 50,
    audio: 88,
    keyframes: 2,
  },
  {
    file: "h264_mp3.flv",
    tracks: [["H264", 176, 144], ["MP3", 22050, 1]],
    video: 15,
    audio: 41,
    keyframes: 1,
  },
  {
    file: "mp3_44k.flv",
    tracks: [["MP3", 44100, 2]],
    video: 0,
    audio: 40,
    keyframes: 0,
  },
  {
    file: "pcma.flv",
    tracks: [["PCMA", 8000, 1]],
    video: 0,
    audio: 8,
    keyframes: 0,
  },
  {
    file: "pcmu.flv",
    tracks: [["PCMU", 8000, 1]],
    video: 0,
    audio: 8,
    keyframes: 0,
  },
];
for (const c of FILES) {
  Deno.test(`FlvTagDemuxer reads ${c.file} end to end`, () => {
    const { events, demuxer } = eventsOf(tagsOf(testdata(`flv/${c.file}`)));
    const { tracks, frames, scripts } = split(events);
    assert.deepEqual(
      tracks.map((t) =>
        t.kind === "video"
          ? [t.codec, t.width, t.height]
          : [t.codec, t.sampleRate, t.channels]
      ),
      c.tracks,
    );
    const videoFrames = frames.filter((f) => f.trackId === 0);
    assert.equal(videoFrames.length, c.video);
    assert.equal(frames.filter((f) => f.trackId === 1).length, c.audio);
    assert.equal(videoFrames.filter((f) => f.keyframe).length, c.keyframes);
    assert.equal(scripts, 1);
    assert.equal(demuxer.dropped, 0);
  });
}

Deno.test("FlvTagDemuxer sees the B-frames of h264_aac.flv as pts ahead of dts", () => {
  const { frames } = split(
    eventsOf(tagsOf(testdata("flv/h264_aac.flv"))).events,
  );
  const video = frames.filter((f) => f.trackId === 0);
  assert.ok(video.some((f) => f.pts > f.dts));
  assert.ok(video.every((f, i) => i === 0 || f.dts > video[i - 1]!.dts));
});

Deno.test("FlvTagDemuxerStream carries events", async () => {
  const tags = tagsOf(testdata("flv/pcmu.flv"));
  const events: FlvEvent[] = [];
  for await (
    const e of ReadableStream.from(tags).pipeThrough(new FlvTagDemuxerStream())
  ) events.push(e);
  assert.equal(events.length, 1 + 1 + 8);
});

// ---- properties ----

const BODY_FIXTURES: FlvTag[] = [
  video(0, AVC_SEQUENCE_HEADER),
  video(0, cat("17 01 000000 | 00000005 65 88 84 00 21")),
  video(0, cat("1c 00 000000", HVCC)),
  video(0, cat("91", ascii("hvc1"), "000050 | 00000003 26 01 af")),
  video(0, cat("97 | 02 | 00 01 f4 | 03", ascii("hvc1"), "00000003 26 01 af")),
  video(
    0,
    cat("96 | 11", ascii("av01"), "01 000002 aa bb | 00 000003 cc dd ee"),
  ),
  video(0, cat("90", ascii("av01"), AV1C)),
  video(0, cat("90", ascii("vp09"), VPCC)),
  audio(0, hex("af 00 12 10 56 e5 00")),
  audio(0, hex("af 01 21 1b 80")),
  audio(
    0,
    cat("af 01", testdata("codec/aac_48k_stereo.adts").subarray(0, 300)),
  ),
  audio(0, hex("2f | ff fb 54 64 00 00")),
  audio(
    0,
    cat("90", ascii("Opus"), "4f707573 48656164 01 02 3801 80bb0000 0000 00"),
  ),
  audio(0, cat("95 | 01", ascii("mp4a"), "00 21 10")),
  { type: 18, timestamp: 0, data: hex("02 000a 6f6e4d65746144617461") },
];

Deno.test("FlvTagDemuxer gives events or an flv ProtocolError for random and mutated bodies", () => {
  const bodies = BODY_FIXTURES.map((t) => t.data);
  const tag = fc.record({
    type: fc.constantFrom(8 as const, 9 as const, 18 as const),
    timestamp: fc.nat({ max: 2 ** 40 }),
    data: fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated(bodies)),
  });
  fc.assert(
    fc.property(fc.array(tag, { maxLength: 6 }), (random) => {
      const demuxer = new FlvTagDemuxer();
      const out = collect<FlvEvent>();
      // configured first, so frame paths run too
      for (
        const t of [
          ...BODY_FIXTURES.slice(0, 1),
          ...BODY_FIXTURES.slice(8, 9),
          ...random,
        ]
      ) {
        const copy = t.data.slice();
        try {
          demuxer.push(t, out);
        } catch (e) {
          if (!(e instanceof ProtocolError) || e.protocol !== "flv") {
            throw new assert.AssertionError({
              message: `threw ${(e as Error)?.name}: ${(e as Error)?.message}`,
            });
          }
        }
        assert.deepEqual(t.data, copy, "input changed");
        for (const e of out.items) {
          if (e.kind === "frame") {
            for (const u of e.frame.units) {
              assert.notEqual(u.buffer, t.data.buffer);
            }
          }
        }
      }
    }),
    { numRuns: 1000 },
  );
});

/** An FLV file of `tags`, as FlvMuxer writes it. */
function fileOf(tags: FlvTag[]): Uint8Array {
  const muxer = new FlvMuxer();
  const out = collect<Uint8Array>();
  for (const tag of tags) muxer.push(tag, out);
  muxer.end(out);
  return concat(out.items);
}

/** FLV file bytes through FlvDemuxer and FlvTagDemuxer: a byte stage of events. */
function fileEvents(): StageCore<Uint8Array, FlvEvent> {
  const file = new FlvDemuxer();
  const tags = new FlvTagDemuxer();
  const forward = (out: Sink<FlvEvent>) => ({
    enqueue: (tag: FlvTag) => tags.push(tag, out),
  });
  return {
    push: (chunk, out) => file.push(chunk, forward(out)),
    end: () => file.end(),
  };
}

/** Milliseconds modulo 2^32: the times an FLV tag can carry. */
function tagMs(ticks: number, clockRate: number): number {
  const ms = Math.round((ticks * 1000) / clockRate) % 2 ** 32;
  return ms < 0 ? ms + 2 ** 32 : ms;
}

/**
 * Events as they can come back through FlvTagMuxer: records announce 4-byte
 * NAL unit lengths (avcC byte 4, hvcC byte 21), as videoTagBody writes them;
 * frame times are tag times. Tags that make no event (sequence headers,
 * script data) still move the demuxer's 2^32 ms unwrapping but carry no
 * time in the events, so only times modulo 2^32 ms can be compared.
 */
function asMuxed(events: FlvEvent[]): unknown[] {
  const rates = new Map<number, number>();
  return events.map((e) => {
    if (e.kind === "frame") {
      const rate = rates.get(e.frame.trackId) ?? 1000;
      return {
        ...e.frame,
        dts: tagMs(e.frame.dts, rate),
        pts: tagMs(e.frame.pts, rate),
      };
    }
    if (e.kind !== "track") return e;
    rates.set(e.track.id, e.track.clockRate);
    if (e.track.kind !== "video") return e;
    const at = e.track.codec === "H264"
      ? 4
      : e.track.codec === "H265"
      ? 21
      : -1;
    const record = e.track.record;
    if (record === undefined || at < 0 || at >= record.length) return e;
    const four = record.slice();
    four[at] = four[at]! | 0x03;
    return { kind: "track", track: { ...e.track, record: four } };
  });
}

Deno.test("FlvDemuxer and FlvTagDemuxer keep the stage contract, FlvTagMuxer and FlvMuxer returning the events", () => {
  checkStageContract(fileEvents, {
    fixtures: [
      ...FILES.map((c) => ({
        name: `ffmpeg's ${c.file}`,
        bytes: testdata(`flv/${c.file}`),
      })),
      { name: "every codec's bodies", bytes: fileOf(BODY_FIXTURES) },
    ],
    // §E.4: the muxer writes its own flags and headers (AAC as 44 kHz stereo,
    // no end-of-sequence tag): the events come back, not the bytes
    encode: (events) => {
      const muxer = new FlvTagMuxer();
      const out = collect<FlvTag>();
      for (const e of events) muxer.push(e, out);
      return fileOf(out.items);
    },
    roundTrip: "items",
    normalizeRoundTrip: asMuxed,
  });
});
