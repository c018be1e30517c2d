import assert from "node:assert/strict";
import {
  buildAudioSpecificConfig,
  isAdts,
  parseAdtsHeader,
  parseAudioSpecificConfig,
  splitAdts,
} from "../../lib/codec/aac/mod.ts";
import { hex } from "../_util/bytes.ts";
import { checkParser, testdata } from "./_fuzz.ts";

// ISO/IEC 14496-3 §1.6.2.1 AudioSpecificConfig
const ASC_CASES = [
  {
    name: "AAC LC 44.1 kHz stereo", // 00010 | 0100 | 0010 | 000
    config: "12 10",
    want: {
      objectType: 2,
      sampleRate: 44100,
      channels: 2,
      sbr: false,
      ps: false,
      frameLength: 1024,
    },
  },
  {
    name: "AAC LC with ffmpeg's 'no SBR' sync extension", // … | 0x2b7 | 00101 | sbrPresentFlag 0
    config: "12 10 56 e5 00",
    want: {
      objectType: 2,
      sampleRate: 44100,
      channels: 2,
      sbr: false,
      ps: false,
      frameLength: 1024,
    },
  },
  {
    name: "an explicit frequency (index 15)", // 00010 | 1111 | 44100 (24 bits) | 0010 | 000
    config: "17 80 56 22 10",
    want: {
      objectType: 2,
      sampleRate: 44100,
      channels: 2,
      sbr: false,
      ps: false,
      frameLength: 1024,
    },
  },
  {
    name: "HE-AAC, explicit hierarchical (object type 5)", // 00101 | 0110 | 0010 | 0011 | 00010 | 000
    config: "2b 11 88 00",
    want: {
      objectType: 2,
      sampleRate: 24000,
      channels: 2,
      sbr: true,
      ps: false,
      extensionSampleRate: 48000,
    },
  },
  {
    name: "HE-AAC v2, explicit hierarchical (object type 29)", // 11101 | 0110 | 0001 | 0011 | 00010 | 000
    config: "eb 09 88 00",
    want: {
      objectType: 2,
      sampleRate: 24000,
      channels: 1,
      sbr: true,
      ps: true,
      extensionSampleRate: 48000,
    },
  },
  {
    name: "HE-AAC v2, backward-compatible (0x2b7 and 0x548)", // LC 24k mono | 0x2b7 | 5 | 1 | 0011 | 0x548 | 1
    config: "13 08 56 e5 9d 48 80",
    want: {
      objectType: 2,
      sampleRate: 24000,
      channels: 1,
      sbr: true,
      ps: true,
      extensionSampleRate: 48000,
    },
  },
  {
    name: "channel configuration 0 with a program config element", // front CPE, back SCE, LFE
    config: "11 80 04 c4 05 00 20 10 00",
    want: {
      objectType: 2,
      sampleRate: 48000,
      channelConfig: 0,
      channels: 4,
      sbr: false,
    },
  },
  {
    name: "an escaped object type (31 → 32 + 10)",
    config: "f9 46 40",
    want: { objectType: 42, sampleRate: 48000, channels: 2 },
  },
];
for (const c of ASC_CASES) {
  Deno.test(`parseAudioSpecificConfig reads ${c.name}`, () => {
    const asc = parseAudioSpecificConfig(hex(c.config));
    for (const [k, v] of Object.entries(c.want)) {
      assert.equal(asc[k as keyof typeof asc], v, k);
    }
  });
}

Deno.test("parseAudioSpecificConfig rejects reserved indexes and cut configs", () => {
  assert.throws(() => parseAudioSpecificConfig(hex("16 90")), {
    name: "ProtocolError",
    code: "malformed",
  }); // index 13
  assert.throws(() => parseAudioSpecificConfig(hex("12 00")), {
    name: "ProtocolError",
    code: "truncated",
  }); // PCE cut
  assert.throws(() => parseAudioSpecificConfig(hex("12")), {
    name: "ProtocolError",
    code: "truncated",
  });
});

Deno.test("buildAudioSpecificConfig writes 2 bytes, or 5 with an explicit frequency", () => {
  assert.deepEqual(
    buildAudioSpecificConfig({ sampleRate: 44100, channels: 2 }),
    hex("12 10"),
  );
  assert.deepEqual(
    buildAudioSpecificConfig({ sampleRate: 48000, channels: 1 }),
    hex("11 88"),
  );
  assert.deepEqual(
    buildAudioSpecificConfig({ sampleRate: 44100, channels: 8 }),
    hex("12 38"),
  );
  assert.deepEqual(
    buildAudioSpecificConfig({ sampleRate: 44101, channels: 2 }),
    hex("17 80 56 22 90"),
  );
  const back = parseAudioSpecificConfig(
    buildAudioSpecificConfig({ sampleRate: 44101, channels: 2 }),
  );
  assert.equal(back.sampleRate, 44101);
  assert.throws(
    () => buildAudioSpecificConfig({ sampleRate: 44100, channels: 9 }),
    { code: "unsupported" },
  );
});

// ISO/IEC 14496-3 §1.A.2.2: ADTS written by ffmpeg (tests/testdata/codec/README.md)
Deno.test("splitAdts reads every frame of a real ADTS stream", () => {
  const data = testdata("codec/aac_48k_stereo.adts");
  assert.ok(isAdts(data));
  const frames = splitAdts(data);
  assert.ok(frames.length >= 10);
  let total = 0;
  for (const f of frames) {
    assert.deepEqual(
      {
        objectType: f.header.objectType,
        sampleRate: f.header.sampleRate,
        channels: f.header.channels,
      },
      { objectType: 2, sampleRate: 48000, channels: 2 },
    );
    assert.equal(f.payload.length, f.header.frameLength - f.header.headerSize);
    total += f.header.frameLength;
  }
  assert.equal(total, data.length);
});

Deno.test("parseAdtsHeader reads a header with CRC and rejects bad ones", () => {
  // FFF | ID 0 | layer 00 | protection_absent 0 | LC | 44.1k | 2 ch | length 11 | fullness 7FF | 0 blocks
  const h = parseAdtsHeader(hex("ff f0 50 80 01 7f fc | 00 00 | 21 00"));
  assert.deepEqual(h, {
    objectType: 2,
    sampleRate: 44100,
    channelConfig: 2,
    channels: 2,
    frameLength: 11,
    headerSize: 9,
  });
  assert.throws(() => parseAdtsHeader(hex("ff f6 50 80 01 7f fc")), {
    code: "malformed",
  }); // layer 3
  assert.throws(() => parseAdtsHeader(hex("ff f1 50 80 01 7f fd")), {
    code: "unsupported",
  }); // 2 raw blocks
  assert.throws(() => splitAdts(hex("ff f1 50 80 02 1f fc 21")), {
    code: "truncated",
  }); // 16 bytes promised
});

Deno.test("AAC parsers give output or a ProtocolError", () => {
  checkParser(
    parseAudioSpecificConfig,
    ASC_CASES.map((c) => hex(c.config)),
    500,
  );
  checkParser(splitAdts, [
    testdata("codec/aac_48k_stereo.adts").subarray(0, 400),
  ]);
});
