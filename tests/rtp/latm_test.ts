import assert from "node:assert/strict";
import {
  copyBits,
  parseStreamMuxConfig,
  readStreamMuxConfig,
} from "../../lib/codec/aac/latm.ts";
import { LatmDepacketizer, parseLatmFmtp } from "../../lib/rtp/latm.ts";
import type { Frame } from "../../lib/media/mod.ts";
import { hex } from "../_util/bytes.ts";
import {
  bitFields,
  checkDepacketizer,
  depacketize,
  loadCapture,
  pkt,
  plain,
} from "./_audio_fixtures.ts";

function frame(dts: number, au: number[] | Uint8Array): Frame {
  return {
    trackId: 0,
    dts,
    pts: dts,
    keyframe: true,
    units: [Uint8Array.from(au)],
  };
}

/** AudioSpecificConfig of AAC LC 44.1 kHz stereo: 00010 | 0100 | 0010 | 000. */
const ASC_LC_44K: [number, number] = [0x1210, 16];

/**
 * StreamMuxConfig fields (ISO/IEC 14496-3 §1.7.3.1), version 0: audioMuxVersion 0 |
 * allStreamsSameTimeFraming 1 | numSubFrames | numProgram 0 | numLayer 0 | ASC |
 * frameLengthType 0 | latmBufferFullness 0xFF | otherDataPresent 0 | crcCheckPresent 0
 */
function muxConfigFields(numSubFrames = 0): [number, number][] {
  return [
    [0, 1],
    [1, 1],
    [numSubFrames, 6],
    [0, 4],
    [0, 3],
    ASC_LC_44K,
    [0, 3],
    [0xff, 8],
    [0, 1],
    [0, 1],
  ];
}

Deno.test("parseStreamMuxConfig reads ffmpeg's config=400024203fc0 (44.1 kHz stereo LC)", () => {
  const c = parseStreamMuxConfig(hex("40 00 24 20 3f c0"));
  assert.equal(c.audioMuxVersion, 0);
  assert.equal(c.subFrames, 1);
  assert.equal(c.frameLengthType, 0);
  assert.equal(c.otherDataLenBits, 0);
  assert.deepEqual(c.audioSpecificConfig, hex("12 10"));
  assert.equal(c.asc.sampleRate, 44100);
  assert.equal(c.asc.channels, 2);
  assert.deepEqual(bitFields(...muxConfigFields()), hex("40 00 24 20 3f c0"));
});

Deno.test("readStreamMuxConfig reads audioMuxVersion 1 (LatmGetValue lengths, other data, CRC)", () => {
  const bytes = bitFields(
    [1, 1], // audioMuxVersion
    [0, 1], // audioMuxVersionA
    [0, 2],
    [0xff, 8], // taraBufferFullness: LatmGetValue, 1 byte
    [1, 1],
    [0, 6],
    [0, 4],
    [0, 3],
    [0, 2],
    [16, 8], // ascLen 16
    ASC_LC_44K,
    [0, 3],
    [0xff, 8],
    [1, 1],
    [0, 2],
    [8, 8], // otherDataPresent, otherDataLenBits 8
    [1, 1],
    [0xab, 8], // crcCheckPresent, crcCheckSum
  );
  const { config, bitLength } = readStreamMuxConfig(bytes, 0);
  assert.equal(bitLength, 1 + 1 + 10 + 14 + 10 + 16 + 11 + 11 + 9);
  assert.equal(config.audioMuxVersion, 1);
  assert.equal(config.otherDataLenBits, 8);
  assert.equal(config.crcCheckPresent, true);
  assert.deepEqual(config.audioSpecificConfig, hex("12 10"));
});

Deno.test("readStreamMuxConfig reads version-0 otherDataLenBits with escapes", () => {
  const fields = muxConfigFields();
  fields.splice(fields.length - 2, 1, [1, 1], [1, 1], [0x01, 8], [0, 1], [
    0x02,
    8,
  ]); // (1 << 8) + 2
  assert.equal(
    readStreamMuxConfig(bitFields(...fields), 0).config.otherDataLenBits,
    258,
  );
});

Deno.test("readStreamMuxConfig reads at a bit offset, and an HE-AAC config with explicit SBR", () => {
  // 1 stray bit, then the config with ASC 00101 | 0110 | 0010 | 0011 | 00010 | 000 (25 bits)
  const fields = muxConfigFields();
  fields.splice(5, 1, [0b00101_0110_0010_0011_00010_000, 25]);
  const { config, bitLength } = readStreamMuxConfig(
    bitFields([1, 1], ...fields),
    1,
  );
  assert.equal(bitLength, 15 + 25 + 13);
  assert.equal(config.asc.sampleRate, 24000);
  assert.equal(config.asc.sbr, true);
  assert.equal(config.asc.extensionSampleRate, 48000);
  assert.equal(config.audioSpecificConfig.length, 4);
});

const UNSUPPORTED = [
  { name: "two programs", at: 3, field: [1, 4] as [number, number] },
  { name: "frameLengthType 1", at: 6, field: [1, 3] as [number, number] },
  {
    name: "a program config element",
    at: 5,
    field: [0x1200, 16] as [number, number],
  },
];
for (const c of UNSUPPORTED) {
  Deno.test(`readStreamMuxConfig says unsupported for ${c.name}`, () => {
    const fields = muxConfigFields();
    fields[c.at] = c.field;
    assert.throws(() => parseStreamMuxConfig(bitFields(...fields, [0, 16])), {
      name: "ProtocolError",
      code: "unsupported",
    });
  });
}

Deno.test("copyBits copies unaligned bits onto fresh bytes", () => {
  assert.deepEqual(copyBits(hex("0f f0 ff"), 4, 16), hex("ff 0f"));
  assert.deepEqual(copyBits(hex("ff ff"), 3, 5), hex("f8"));
});

Deno.test("parseLatmFmtp reads ffmpeg's fmtp", () => {
  const f = parseLatmFmtp({
    "profile-level-id": "41",
    cpresent: "0",
    config: "400024203fc0",
  });
  assert.equal(f.cpresent, false);
  assert.equal(f.sampleRate, 44100);
  assert.equal(f.channels, 2);
  assert.deepEqual(f.config?.audioSpecificConfig, hex("12 10"));
  assert.equal(parseLatmFmtp({}).cpresent, true); // RFC 6416 §7.3: cpresent defaults to 1
  assert.throws(() => parseLatmFmtp({ cpresent: "0" }), {
    name: "ProtocolError",
    protocol: "sdp",
  });
});

const CONFIG = parseStreamMuxConfig(hex("40 00 24 20 3f c0"));
const AU_300 = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
const AU_255 = new Uint8Array(255).fill(7);

// RFC 6416 §4.1, cpresent=0: each payload is an AudioMuxElement: PayloadLengthInfo
// (bytes summed while 0xFF), PayloadMux.
const CASES = [
  {
    name: "one AU",
    packets: [pkt(1, 0, true, hex("03 | aabbcc"))],
    frames: [frame(0, [0xaa, 0xbb, 0xcc])],
  },
  {
    name: "a 300-byte AU: length 0xFF + 0x2D",
    packets: [pkt(1, 0, true, Uint8Array.from([0xff, 0x2d, ...AU_300]))],
    frames: [frame(0, AU_300)],
  },
  {
    name: "a 255-byte AU: length 0xFF + 0x00",
    packets: [pkt(1, 0, true, Uint8Array.from([0xff, 0x00, ...AU_255]))],
    frames: [frame(0, AU_255)],
  },
  {
    name: "two AudioMuxElements in one packet, 1024 samples apart",
    packets: [pkt(1, 0, true, hex("02 | 0102 | 01 | 03"))],
    frames: [frame(0, [1, 2]), frame(1024, [3])],
  },
  {
    name: "an element fragmented over two packets (the marker ends it)",
    packets: [
      pkt(1, 500, false, hex("05 | 0102")),
      pkt(2, 500, true, hex("030405")),
    ],
    frames: [frame(500, [1, 2, 3, 4, 5])],
  },
  {
    name:
      "INTEROP.md sender without marker bits: the timestamp change ends the element",
    packets: [
      pkt(1, 0, false, hex("02 | 0102")),
      pkt(2, 1024, false, hex("01 | 03")),
    ],
    frames: [frame(0, [1, 2])], // the last one waits for a marker or a new timestamp, then end() drops it
  },
];
for (const c of CASES) {
  Deno.test(`LatmDepacketizer reads ${c.name}`, () => {
    const frames = depacketize(
      new LatmDepacketizer({
        cpresent: false,
        config: CONFIG,
        clockRate: 44100,
      }),
      c.packets,
    );
    assert.deepEqual(plain(frames), plain(c.frames));
  });
}

Deno.test("LatmDepacketizer reads several subframes per element (numSubFrames 1)", () => {
  const config = parseStreamMuxConfig(bitFields(...muxConfigFields(1)));
  assert.equal(config.subFrames, 2);
  const frames = depacketize(
    new LatmDepacketizer({ cpresent: false, config }),
    [pkt(1, 0, true, hex("01 aa 02 bbcc"))],
  );
  assert.deepEqual(
    plain(frames),
    plain([frame(0, [0xaa]), frame(1024, [0xbb, 0xcc])]),
  );
});

Deno.test("LatmDepacketizer skips otherData of each element", () => {
  const fields = muxConfigFields();
  fields.splice(fields.length - 2, 1, [1, 1], [0, 1], [16, 8]); // otherDataLenBits 16
  const config = parseStreamMuxConfig(bitFields(...fields));
  const frames = depacketize(
    new LatmDepacketizer({ cpresent: false, config }),
    [
      pkt(1, 0, true, hex("01 aa | eeee | 01 bb | eeee")),
    ],
  );
  assert.deepEqual(
    plain(frames),
    plain([frame(0, [0xaa]), frame(1024, [0xbb])]),
  );
});

Deno.test("LatmDepacketizer reads in-band StreamMuxConfigs (cpresent=1), at bit offsets", () => {
  const d = new LatmDepacketizer();
  // useSameStreamMux 0 | StreamMuxConfig | length 2 | AU, then byte_alignment
  const first = bitFields([0, 1], ...muxConfigFields(), [2, 8], [0xaa, 8], [
    0xbb,
    8,
  ]);
  // useSameStreamMux 1 | length 1 | AU
  const second = bitFields([1, 1], [1, 8], [0xcc, 8]);
  const frames = depacketize(d, [
    pkt(1, 0, true, first),
    pkt(2, 1024, true, second),
  ]);
  assert.deepEqual(
    plain(frames),
    plain([frame(0, [0xaa, 0xbb]), frame(1024, [0xcc])]),
  );
  assert.deepEqual(d.config?.audioSpecificConfig, hex("12 10"));
});

Deno.test("LatmDepacketizer drops elements before the first in-band config and counts them", () => {
  const d = new LatmDepacketizer();
  assert.deepEqual(
    depacketize(d, [pkt(1, 0, true, bitFields([1, 1], [1, 8], [0xcc, 8]))]),
    [],
  );
  assert.equal(d.droppedFrames, 1);
});

Deno.test("LatmDepacketizer drops an element with a sequence gap", () => {
  const d = new LatmDepacketizer({ cpresent: false, config: CONFIG });
  const frames = depacketize(d, [
    pkt(1, 0, false, hex("05 | 0102")),
    pkt(3, 0, true, hex("030405")), // packet 2 lost: this tail does not read as an element
    pkt(4, 1024, true, hex("01 | 09")),
  ]);
  assert.equal(d.droppedFrames, 2); // the start, and the tail that failed to read
  assert.deepEqual(plain(frames), plain([frame(1024, [9])]));
});

Deno.test("LatmDepacketizer rejects a length past the element and an element over the limit", () => {
  assert.throws(
    () =>
      depacketize(new LatmDepacketizer({ cpresent: false, config: CONFIG }), [
        pkt(1, 0, true, hex("09 | 0102")),
      ]),
    { name: "ProtocolError", code: "truncated" },
  );
  const d = new LatmDepacketizer({
    cpresent: false,
    config: CONFIG,
    maxElementSize: 4,
  });
  assert.throws(
    () =>
      depacketize(d, [
        pkt(1, 0, false, hex("0102")),
        pkt(2, 0, true, hex("030405")),
      ]),
    {
      name: "ProtocolError",
      code: "limit",
    },
  );
});

Deno.test("LatmDepacketizer reads ffmpeg's MP4A-LATM", () => {
  const cap = loadCapture("aac_latm_44k_stereo");
  assert.equal(cap.rtpmap, "MP4A-LATM/44100/2");
  const fmtp = parseLatmFmtp(cap.fmtp);
  const frames = depacketize(
    new LatmDepacketizer({
      cpresent: fmtp.cpresent,
      config: fmtp.config!,
      clockRate: 44100,
    }),
    cap.rtp,
  );
  assert.equal(frames.length, cap.rtp.length);
  frames.forEach((f, i) => {
    assert.equal(f.dts, cap.rtp[i]!.timestamp); // one AU per packet
    assert.equal(f.units[0]!.length + 1, cap.rtp[i]!.payload.length); // lengths under 255: one byte
  });
  assert.deepEqual([...frames[0]!.units[0]!.subarray(0, 4)], [
    0xde,
    0x02,
    0x00,
    0x4c,
  ]);
});

Deno.test("LatmDepacketizer keeps the stage contract on random and mutated packets", () => {
  const fixtures = loadCapture("aac_latm_44k_stereo").datagrams;
  checkDepacketizer(
    () => new LatmDepacketizer({ cpresent: false, config: CONFIG }),
    fixtures,
  );
  const inBand = [
    bitFields([0, 1], ...muxConfigFields(), [2, 8], [0xaa, 8], [0xbb, 8]),
  ];
  const withHeader = inBand.map((p) =>
    Uint8Array.from([0x80, 0xe0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, ...p])
  );
  checkDepacketizer(() => new LatmDepacketizer(), [...withHeader, ...fixtures]);
});
