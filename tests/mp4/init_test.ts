import assert from "node:assert/strict";
import { avcc, encodeInitSegment, esds, mp4Tracks } from "../../lib/mp4/mod.ts";
import { fourCc } from "../../lib/mp4/box.ts";
import { parseHvcc } from "../../lib/codec/h265/hvcc.ts";
import { parseAudioSpecificConfig } from "../../lib/codec/aac/asc.ts";
import { ProtocolError } from "../../lib/errors.ts";
import { type Box, find, findAll, parseBoxes, viewOf } from "./_boxes.ts";
import {
  aacTrack,
  av1Track,
  h264Track,
  h265Track,
  rawAudioTrack,
  vp9Track,
} from "./_tracks.ts";
import type { Track } from "../../lib/media/mod.ts";

function init(tracks: Track[]): Box[] {
  return parseBoxes(encodeInitSegment(mp4Tracks(tracks)));
}

/** The sample entry of the only track. */
function entryOf(track: Track): Box {
  return find(init([track]), "moov/trak/mdia/minf/stbl/stsd").children[0]!;
}

// ISO/IEC 14496-12 §4.3, §8.2–§8.8.3; ISO/IEC 23000-19 §7.3
Deno.test("encodeInitSegment writes ftyp, then moov with mvhd, a trak per track and mvex/trex", () => {
  const boxes = init([h264Track(), aacTrack()]);
  assert.deepEqual(boxes.map((b) => b.type), ["ftyp", "moov"]);
  const ftyp = new TextDecoder().decode(boxes[0]!.payload);
  assert.equal(ftyp.slice(0, 4), "iso6");
  assert.ok(ftyp.includes("cmfc"), "CMAF brand");
  const moov = boxes[1]!;
  assert.deepEqual(moov.children.map((b) => b.type), [
    "mvhd",
    "trak",
    "trak",
    "mvex",
  ]);
  assert.equal(
    viewOf(find(boxes, "moov/mvhd")).getUint32(12),
    1000,
    "mvhd timescale",
  );
  assert.equal(
    viewOf(find(boxes, "moov/mvhd")).getUint32(96),
    3,
    "next_track_ID",
  );
  const traks = findAll(boxes, "moov/trak");
  const ids = traks.map((t) => viewOf(find(t.children, "tkhd")).getUint32(12));
  assert.deepEqual(ids, [1, 2]);
  const trex = findAll(boxes, "moov/mvex/trex").map((b) => viewOf(b));
  assert.deepEqual(trex.map((v) => [v.getUint32(4), v.getUint32(8)]), [[1, 1], [
    2,
    1,
  ]]);
  for (const [i, t] of traks.entries()) {
    assert.deepEqual(t.children.map((b) => b.type), ["tkhd", "mdia"]);
    assert.deepEqual(find(t.children, "mdia").children.map((b) => b.type), [
      "mdhd",
      "hdlr",
      "minf",
    ]);
    const minf = find(t.children, "mdia/minf");
    assert.deepEqual(minf.children.map((b) => b.type), [
      i === 0 ? "vmhd" : "smhd",
      "dinf",
      "stbl",
    ]);
    const stbl = find(minf.children, "stbl");
    assert.deepEqual(stbl.children.map((b) => b.type), [
      "stsd",
      "stts",
      "stsc",
      "stsz",
      "stco",
    ]);
    for (const table of stbl.children.slice(1)) {
      const v = viewOf(table);
      assert.equal(
        v.getUint32(table.type === "stsz" ? 8 : 4),
        0,
        `${table.type} is empty`,
      );
    }
    const hdlr = find(t.children, "mdia/hdlr");
    assert.equal(viewOf(hdlr).getUint32(8), fourCc(i === 0 ? "vide" : "soun"));
    const mdhd = viewOf(find(t.children, "mdia/mdhd"));
    assert.equal(
      mdhd.getUint32(12),
      i === 0 ? 90000 : 48000,
      "media timescale is the track clock",
    );
  }
  const tkhd = viewOf(find(traks[0]!.children, "tkhd"));
  assert.deepEqual([tkhd.getUint32(76) / 65536, tkhd.getUint32(80) / 65536], [
    1920,
    1080,
  ]);
});

// ISO/IEC 14496-15 §5.3.3.1.2: every profile but 66, 77 and 88 carries the 4-byte tail
Deno.test("avc1 carries an avcC with the high-profile tail read from the SPS", () => {
  const entry = entryOf(h264Track());
  assert.equal(entry.type, "avc1");
  const v = viewOf(entry);
  assert.deepEqual(
    [v.getUint16(24), v.getUint16(26)],
    [1920, 1080],
    "width and height from the SPS",
  );
  const record = find(entry.children, "avcC").payload;
  assert.equal(record[0], 1);
  assert.equal(record[1], 100, "High profile");
  assert.equal(record[4], 0xff, "4-byte NAL lengths");
  assert.deepEqual(
    [...record.subarray(-4)],
    [0xfd, 0xf8, 0xf8, 0x00],
    "4:2:0, 8-bit luma and chroma, no SPS ext",
  );
  const yuv444 =
    find(entryOf(h264Track("h264_854x480_yuv444.h264")).children, "avcC")
      .payload;
  assert.equal(yuv444[yuv444.length - 4], 0xff, "chroma_format 3");
  const baseline =
    find(entryOf(h264Track("h264_1280x720_baseline.h264")).children, "avcC")
      .payload;
  const sets = h264Track("h264_1280x720_baseline.h264").parameterSets!;
  assert.equal(
    baseline.length,
    7 + 4 + sets.sps[0]!.length + sets.pps[0]!.length,
    "no tail for Baseline",
  );
  assert.deepEqual(avcc(sets.sps, sets.pps).subarray(8), baseline);
});

// ISO/IEC 14496-15 §8.4.1.1.2: hvc1, VPS/SPS/PPS arrays with array_completeness 1
Deno.test("H.265 is hvc1 (never hev1) with complete VPS, SPS and PPS arrays", () => {
  const { track } = h265Track();
  const entry = entryOf(track);
  assert.equal(entry.type, "hvc1");
  assert.deepEqual([viewOf(entry).getUint16(24), viewOf(entry).getUint16(26)], [
    352,
    288,
  ]);
  const record = find(entry.children, "hvcC").payload;
  const hvcc = parseHvcc(record);
  assert.deepEqual([hvcc.vps.length, hvcc.sps.length, hvcc.pps.length], [
    1,
    1,
    1,
  ]);
  assert.equal(hvcc.lengthSize, 4);
  assert.equal(record[22], 3, "three arrays");
  assert.equal(record[23]! & 0x80, 0x80, "array_completeness");
});

Deno.test("av01 carries the av1C and vp09 a version-1 vpcC FullBox", () => {
  const av1 = entryOf(av1Track());
  assert.equal(av1.type, "av01");
  assert.deepEqual([viewOf(av1).getUint16(24), viewOf(av1).getUint16(26)], [
    320,
    240,
  ], "size from the sequence header");
  assert.equal(find(av1.children, "av1C").payload[0], 0x81);
  const vp9 = entryOf(vp9Track());
  assert.equal(vp9.type, "vp09");
  const vpcc = find(vp9.children, "vpcC").payload;
  assert.deepEqual([...vpcc.subarray(0, 4)], [1, 0, 0, 0]);
  // ffmpeg's FLV muxer writes the record without version and flags: the box is the same
  const bare = vp9Track(0);
  bare.record = bare.record!.subarray(4);
  assert.deepEqual(find(entryOf(bare).children, "vpcC").payload, vpcc);
});

/** Descriptors of an esds payload: tag, size, body; asserting each size fits. */
function descriptors(bytes: Uint8Array): { tag: number; body: Uint8Array }[] {
  const out = [];
  let at = 0;
  while (at < bytes.length) {
    const tag = bytes[at++]!;
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = bytes[at++]!;
      size = (size << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    assert.ok(
      at + size <= bytes.length,
      `descriptor ${tag} of ${size} bytes overruns`,
    );
    out.push({ tag, body: bytes.subarray(at, at + size) });
    at += size;
  }
  return out;
}

// ISO/IEC 14496-1 §7.2.6.5, §7.2.6.6; ISO/IEC 14496-14 §5.6
Deno.test("mp4a/esds: descriptor lengths add up, AAC is 0x40 with its AudioSpecificConfig, MP3 is 0x6B", () => {
  const entry = entryOf(aacTrack());
  assert.equal(entry.type, "mp4a");
  const v = viewOf(entry);
  assert.deepEqual(
    [v.getUint16(16), v.getUint16(18), v.getUint32(24) / 65536],
    [2, 16, 48000],
  );
  const box = find(entry.children, "esds");
  const [es] = descriptors(box.payload.subarray(4));
  assert.equal(es!.tag, 3);
  const inner = descriptors(es!.body.subarray(3));
  assert.deepEqual(inner.map((d) => d.tag), [4, 6]);
  const config = inner[0]!.body;
  assert.equal(config[0], 0x40);
  assert.equal(config[1], 0x15, "audio stream");
  const [dsi] = descriptors(config.subarray(13));
  assert.equal(dsi!.tag, 5);
  assert.deepEqual(dsi!.body, aacTrack().config);
  assert.equal(parseAudioSpecificConfig(dsi!.body).sampleRate, 48000);
  assert.deepEqual([...inner[1]!.body], [2]);

  const mp3 = entryOf(rawAudioTrack("MP3"));
  assert.equal(mp3.type, "mp4a");
  const mp3Es = descriptors(find(mp3.children, "esds").payload.subarray(4))[0]!;
  const mp3Config = descriptors(mp3Es.body.subarray(3))[0]!.body;
  assert.equal(mp3Config[0], 0x6b);
  assert.equal(mp3Config.length, 13, "no DecoderSpecificInfo");
  // a long AudioSpecificConfig takes a 2-byte size
  const long = descriptors(esds(0x40, new Uint8Array(200)).subarray(12))[0]!;
  assert.equal(long.body.length, 3 + 2 + 1 + 13 + 3 + 200 + 3);
});

// Encapsulation of Opus in ISOBMFF §4.3.2: big-endian, Version 0
Deno.test("Opus/dOps is version 0 and big-endian, from the OpusHead when there is one", () => {
  const entry = entryOf(rawAudioTrack("OPUS"));
  assert.equal(entry.type, "Opus");
  assert.equal(viewOf(entry).getUint32(24) / 65536, 48000);
  const dops = find(entry.children, "dOps").payload;
  assert.deepEqual([...dops], [0, 2, 0, 0, 0, 0, 0xbb, 0x80, 0, 0, 0]);
  const head = new Uint8Array([
    ...new TextEncoder().encode("OpusHead"),
    1,
    2,
    0x38,
    0x01,
    0x80,
    0xbb,
    0,
    0,
    0xfe,
    0xff,
    0,
  ]); // pre-skip 312, 48000 Hz, gain -2, little-endian as RFC 7845 has it
  const withHead = { ...rawAudioTrack("OPUS"), config: head };
  const fromHead = find(entryOf(withHead).children, "dOps").payload;
  assert.deepEqual([...fromHead], [
    0,
    2,
    0x01,
    0x38,
    0,
    0,
    0xbb,
    0x80,
    0xff,
    0xfe,
    0,
  ]);
});

Deno.test("G.711 is QuickTime ulaw/alaw at 8 kHz", () => {
  for (const [codec, type] of [["PCMU", "ulaw"], ["PCMA", "alaw"]] as const) {
    const entry = entryOf(rawAudioTrack(codec));
    assert.equal(entry.type, type);
    const v = viewOf(entry);
    assert.deepEqual([v.getUint16(16), v.getUint32(24) / 65536], [1, 8000]);
    assert.equal(entry.children.length, 0);
  }
});

Deno.test("mp4Tracks refuses tracks it cannot describe with a ProtocolError", () => {
  const bad: Track[] = [
    { kind: "video", id: 0, codec: "H264", clockRate: 90000 },
    {
      kind: "video",
      id: 0,
      codec: "H265",
      clockRate: 90000,
      parameterSets: { sps: [], pps: [] },
    },
    { kind: "video", id: 0, codec: "AV1", clockRate: 90000 },
    {
      kind: "video",
      id: 0,
      codec: "VP9",
      clockRate: 90000,
      record: new Uint8Array(3),
    },
    { ...aacTrack(), config: undefined },
    { ...rawAudioTrack("OPUS"), channels: 6 },
  ];
  for (const t of bad) {
    assert.throws(
      () => mp4Tracks([t]),
      (e) => e instanceof ProtocolError && e.protocol === "mp4",
      t.codec,
    );
  }
});

// ISO/IEC 14496-12 §8.8.2
Deno.test("encodeInitSegment writes a mehd of fixed size when asked, so a complete file can overwrite its start", () => {
  const tracks = mp4Tracks([h264Track(), aacTrack()]);
  const plain = parseBoxes(encodeInitSegment(tracks));
  assert.deepEqual(find(plain, "moov/mvex").children.map((b) => b.type), [
    "trex",
    "trex",
  ]);
  const empty = encodeInitSegment(tracks, { fragmentDurationMs: 0 });
  const full = encodeInitSegment(tracks, { fragmentDurationMs: 7_200_000 });
  assert.equal(empty.length, full.length);
  const mvex = find(parseBoxes(full), "moov/mvex");
  assert.deepEqual(mvex.children.map((b) => b.type), ["mehd", "trex", "trex"]);
  const mehd = viewOf(mvex.children[0]!);
  assert.equal(mehd.getUint8(0), 1, "version 1");
  assert.equal(mehd.getUint32(4) * 2 ** 32 + mehd.getUint32(8), 7_200_000);
});

// ISO/IEC 14496-12 §8.6.6: in a fragmented file's init segment, an edit of
// segment_duration 0 gives the offset from media to presentation time
Deno.test("encodeInitSegment writes one zero-length edit per track for presentationStartSeconds, none without", () => {
  const tracks = mp4Tracks([h264Track(), aacTrack()]);
  const hls = parseBoxes(encodeInitSegment(tracks));
  assert.throws(() => find(hls, "moov/trak/edts"));
  const rec = parseBoxes(
    encodeInitSegment(tracks, { presentationStartSeconds: 0.08 }),
  );
  const moov = find(rec, "moov");
  const times = moov.children.filter((b) => b.type === "trak").map((t) => {
    const elst = find(t.children, "edts/elst");
    const v = viewOf(elst);
    assert.equal(v.getUint32(0), 0x01000000, "version 1");
    assert.equal(v.getUint32(4), 1, "one edit");
    assert.equal(v.getBigUint64(8), 0n, "segment_duration 0");
    assert.equal(v.getUint32(24), 0x00010000, "media_rate 1");
    return Number(v.getBigInt64(16));
  });
  assert.deepEqual(times, [7200, Math.round(0.08 * aacTrack().clockRate)]);
});
