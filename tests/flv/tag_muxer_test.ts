import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import { buildAvcc } from "../../lib/codec/h264/avcc.ts";
import { buildHvcc } from "../../lib/codec/h265/hvcc.ts";
import {
  H265_NAL_TYPE,
  h265NalType,
  isH265Irap,
} from "../../lib/codec/h265/nal.ts";
import { splitAnnexB } from "../../lib/codec/nal_units.ts";
import { FlvMuxer } from "../../lib/flv/file.ts";
import type { FlvEvent, FlvTag } from "../../lib/flv/tag.ts";
import {
  audioSequenceHeader,
  audioTagBody,
  FlvTagMuxer,
  tagTimestampMs,
  videoSequenceHeader,
  videoTagBody,
} from "../../lib/flv/tag_muxer.ts";
import type { AudioTrack, Frame, VideoTrack } from "../../lib/media/mod.ts";
import { ascii, collect, hex } from "../_util/bytes.ts";
import { eventsOf, split, tagsOf, testdata } from "./_util.ts";

function cat(...parts: (Uint8Array | string)[]): Uint8Array {
  return concat(parts.map((p) => typeof p === "string" ? hex(p) : p));
}
function frame(
  dts: number,
  pts: number,
  keyframe: boolean,
  ...units: string[]
): Frame {
  return { trackId: 0, dts, pts, keyframe, units: units.map((u) => hex(u)) };
}

const SPS = hex("67 42 00 0b ed 05 89 c8");
const PPS = hex("68 ce 38 80");
const H264: VideoTrack = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  parameterSets: { sps: [SPS], pps: [PPS] },
};

// FLV v10.1 §E.4.3.1: FrameType | CodecID 7 | AVCPacketType | CompositionTime SI24 | data
Deno.test("videoSequenceHeader writes an AVC sequence header, building the avcC if needed", () => {
  const want = cat("17 00 000000", buildAvcc([SPS], [PPS]));
  assert.deepEqual(videoSequenceHeader(H264), want);
  const twoByteLengths = buildAvcc([SPS], [PPS]);
  twoByteLengths[4] = 0xfd;
  assert.deepEqual(
    videoSequenceHeader({ ...H264, record: twoByteLengths }),
    want,
  ); // we write 4-byte lengths
});

Deno.test("videoTagBody writes length-prefixed NAL units with a signed composition time", () => {
  assert.deepEqual(
    videoTagBody(H264, frame(9000, 12600, true, "65 88 84", "06 05")),
    hex("17 01 000028 | 00000003 65 88 84 | 00000002 06 05"),
  );
  assert.deepEqual(
    videoTagBody(H264, frame(9000, 5400, false, "41 9a")),
    hex("27 01 ffffd8 | 00000002 41 9a"),
  );
});

// Enhanced RTMP v1: IsExHeader | FrameType (3) | PacketType (4) | FourCC | body
Deno.test("videoSequenceHeader and videoTagBody write Enhanced RTMP for H.265, AV1 and VP9", () => {
  const units = splitAnnexB(testdata("codec/h265_352x288.h265"));
  const of = (t: number) => units.filter((u) => h265NalType(u) === t);
  const hvcc = buildHvcc({
    vps: of(H265_NAL_TYPE.VPS),
    sps: of(H265_NAL_TYPE.SPS),
    pps: of(H265_NAL_TYPE.PPS),
  });
  const h265: VideoTrack = {
    kind: "video",
    id: 0,
    codec: "H265",
    clockRate: 90000,
    record: hvcc,
  };
  assert.deepEqual(videoSequenceHeader(h265), cat("90", ascii("hvc1"), hvcc));
  assert.deepEqual(
    videoTagBody(h265, frame(0, 0, true, "26 01")),
    cat("93", ascii("hvc1"), "00000002 26 01"),
  );
  assert.deepEqual(
    videoTagBody(h265, frame(0, 3600, false, "02 01")),
    cat("a1", ascii("hvc1"), "000028 00000002 02 01"),
  );
  const av1: VideoTrack = {
    kind: "video",
    id: 0,
    codec: "AV1",
    clockRate: 90000,
    record: hex("81 00 0c 00"),
  };
  assert.deepEqual(
    videoSequenceHeader(av1),
    cat("90", ascii("av01"), "81 00 0c 00"),
  );
  assert.deepEqual(
    videoTagBody(av1, frame(0, 0, true, "12 00 32 01 aa")),
    cat("91", ascii("av01"), "12 00 32 01 aa"),
  );
  const vp9: VideoTrack = {
    kind: "video",
    id: 0,
    codec: "VP9",
    clockRate: 90000,
    record: hex("00 14 82 02 02 02 0000"),
  };
  assert.deepEqual(
    videoTagBody(vp9, frame(0, 0, false, "86 00")),
    cat("a1", ascii("vp09"), "86 00"),
  );
  assert.throws(
    () => videoSequenceHeader({ ...av1, record: undefined }),
    TypeError,
  );
});

// FLV v10.1 §E.4.2.1: SoundFormat (4) | SoundRate (2) | SoundSize (1) | SoundType (1)
Deno.test("audioSequenceHeader and audioTagBody write AAC with flags 0xAF", () => {
  const aac: AudioTrack = {
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 1,
  };
  assert.deepEqual(audioSequenceHeader(aac), hex("af 00 11 88")); // built from rate and channels
  assert.deepEqual(
    audioSequenceHeader({ ...aac, config: hex("13 08 56 e5 9d 48 80") }),
    hex("af 00 13 08 56 e5 9d 48 80"),
  );
  assert.deepEqual(
    audioTagBody(aac, {
      trackId: 1,
      dts: 0,
      pts: 0,
      keyframe: true,
      units: [hex("21 10")],
    }),
    hex("af 01 21 10"),
  );
});

Deno.test("audioTagBody writes the rate, size and type bits of MP3 and G.711", () => {
  const cases: [Partial<AudioTrack>, number][] = [
    [{ codec: "MP3", sampleRate: 44100, channels: 2 }, 0x2f],
    [{ codec: "MP3", sampleRate: 48000, channels: 2 }, 0x2f],
    [{ codec: "MP3", sampleRate: 22050, channels: 1 }, 0x2a],
    [{ codec: "MP3", sampleRate: 11025, channels: 1 }, 0x26],
    [{ codec: "MP3", sampleRate: 8000, channels: 1 }, 0xe2],
    [{ codec: "PCMA", sampleRate: 8000, channels: 1 }, 0x72],
    [{ codec: "PCMU", sampleRate: 8000, channels: 1 }, 0x82],
  ];
  for (const [partial, flags] of cases) {
    const track = {
      kind: "audio",
      id: 1,
      clockRate: partial.sampleRate,
      ...partial,
    } as AudioTrack;
    const body = audioTagBody(track, {
      trackId: 1,
      dts: 0,
      pts: 0,
      keyframe: true,
      units: [hex("aa bb")],
    });
    assert.deepEqual(
      body,
      new Uint8Array([flags, 0xaa, 0xbb]),
      `${track.codec} ${track.sampleRate}`,
    );
    assert.equal(audioSequenceHeader(track), undefined);
  }
});

// Enhanced RTMP v2: SoundFormat 9 | AudioPacketType | 'Opus'
Deno.test("audioSequenceHeader and audioTagBody write Enhanced RTMP Opus", () => {
  const opus: AudioTrack = {
    kind: "audio",
    id: 1,
    codec: "OPUS",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
  };
  assert.deepEqual(
    audioSequenceHeader(opus),
    cat("90", ascii("Opus"), "4f707573 48656164 01 02 0000 80bb0000 0000 00"),
  );
  assert.deepEqual(
    audioTagBody(opus, {
      trackId: 1,
      dts: 0,
      pts: 0,
      keyframe: true,
      units: [hex("fc ff")],
    }),
    cat("91", ascii("Opus"), "fc ff"),
  );
});

Deno.test("tagTimestampMs converts ticks to rounded milliseconds", () => {
  assert.equal(tagTimestampMs(H264, 3600), 40);
  assert.equal(tagTimestampMs(H264, 3645), 41);
  assert.equal(
    tagTimestampMs({
      kind: "audio",
      id: 1,
      codec: "AAC",
      clockRate: 44100,
      sampleRate: 44100,
      channels: 2,
    }, 45114),
    1023,
  );
});

// ---- round trips ----

const END_OF_SEQUENCE = (t: FlvTag) =>
  t.type === 9 && t.data[1] === 2 && (t.data[0]! & 0x80) === 0;

for (
  const file of [
    "h264_aac.flv",
    "h264_mp3.flv",
    "mp3_44k.flv",
    "pcma.flv",
    "pcmu.flv",
  ]
) {
  Deno.test(`FlvTagDemuxer → FlvTagMuxer gives back the tags of ${file}`, () => {
    const tags = tagsOf(testdata(`flv/${file}`));
    const { events } = eventsOf(tags);
    const muxer = new FlvTagMuxer();
    const out = collect<FlvTag>();
    for (const e of events) muxer.push(e, out);
    // the end-of-sequence tag carries nothing the model keeps
    const want = tags.filter((t) => !END_OF_SEQUENCE(t)).map((t) => ({
      ...t,
      data: t.data.slice(),
    }));
    assert.deepEqual(out.items, want);
  });
}

Deno.test("H.265 from x265 survives frames → Enhanced RTMP FLV file → frames", () => {
  const units = splitAnnexB(testdata("codec/h265_352x288.h265"));
  const of = (t: number) => units.filter((u) => h265NalType(u) === t);
  const track: VideoTrack = {
    kind: "video",
    id: 0,
    codec: "H265",
    clockRate: 90000,
    width: 352,
    height: 288,
    parameterSets: {
      vps: of(H265_NAL_TYPE.VPS),
      sps: of(H265_NAL_TYPE.SPS),
      pps: of(H265_NAL_TYPE.PPS),
    },
  };
  // one slice per picture: each VCL unit (type < 32) closes an access unit
  const frames: Frame[] = [];
  let pending: Uint8Array[] = [];
  for (const u of units) {
    pending.push(u);
    const type = h265NalType(u);
    if (type < 32) {
      const dts = frames.length * 3600;
      frames.push({
        trackId: 0,
        dts,
        pts: dts + 7200,
        keyframe: isH265Irap(type),
        units: pending,
      });
      pending = [];
    }
  }
  assert.equal(frames.length, 12);
  const tagMuxer = new FlvTagMuxer();
  const tags = collect<FlvTag>();
  tagMuxer.push({ kind: "track", track }, tags);
  for (const f of frames) tagMuxer.push({ kind: "frame", frame: f }, tags);
  const fileMuxer = new FlvMuxer({ hasAudio: false });
  const bytes = collect<Uint8Array>();
  for (const t of tags.items) fileMuxer.push(t, bytes);
  const { events } = eventsOf(tagsOf(concat(bytes.items)));
  const back = split(events);
  assert.equal(back.tracks.length, 1);
  const got = back.tracks[0] as VideoTrack;
  assert.deepEqual([got.codec, got.width, got.height, got.parameterSets], [
    "H265",
    352,
    288,
    track.parameterSets,
  ]);
  assert.deepEqual(back.frames, frames);
  assert.equal(back.frames.filter((f) => f.keyframe).length, 2); // keyint 6 over 12 frames
});

Deno.test("FlvTagMuxer drops and counts frames of a track it was never told about", () => {
  const muxer = new FlvTagMuxer();
  const out = collect<FlvTag>();
  const events: FlvEvent[] = [{
    kind: "frame",
    frame: frame(0, 0, true, "65 88"),
  }];
  for (const e of events) muxer.push(e, out);
  assert.equal(out.items.length, 0);
  assert.equal(muxer.dropped, 1);
});
