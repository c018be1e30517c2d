import assert from "node:assert/strict";
import { parseMp3Header } from "../../lib/codec/mp3/mod.ts";
import {
  buildOpusHead,
  opusPacketChannels,
  parseOpusHead,
} from "../../lib/codec/opus/mod.ts";
import { hex } from "../_util/bytes.ts";
import { checkParser } from "./_fuzz.ts";

// ISO/IEC 11172-3 §2.4.1.3, ISO/IEC 13818-3: headers of frames LAME wrote
// into tests/testdata/flv/h264_mp3.flv and mp3_44k.flv
const MP3_CASES = [
  {
    name: "MPEG-2 layer III 22.05 kHz mono 32 kbit/s",
    header: "ff f3 40 c4",
    want: {
      version: 2,
      layer: 3,
      sampleRate: 22050,
      channels: 1,
      bitrate: 32,
      samplesPerFrame: 576,
      frameSize: 104,
    },
  },
  {
    name: "MPEG-1 layer III 44.1 kHz joint stereo 64 kbit/s",
    header: "ff fb 50 64",
    want: {
      version: 1,
      layer: 3,
      sampleRate: 44100,
      channels: 2,
      bitrate: 64,
      samplesPerFrame: 1152,
      frameSize: 208,
    },
  },
  {
    name: "MPEG-2.5 layer III 8 kHz mono 8 kbit/s, padded",
    header: "ff e3 1a c4",
    want: {
      version: 2.5,
      layer: 3,
      sampleRate: 8000,
      channels: 1,
      bitrate: 8,
      samplesPerFrame: 576,
      frameSize: 73,
    },
  },
  {
    name: "MPEG-1 layer II 48 kHz stereo 192 kbit/s",
    header: "ff fd a4 04",
    want: {
      version: 1,
      layer: 2,
      sampleRate: 48000,
      channels: 2,
      bitrate: 192,
      samplesPerFrame: 1152,
      frameSize: 576,
    },
  },
];
for (const c of MP3_CASES) {
  Deno.test(`parseMp3Header reads ${c.name}`, () => {
    assert.deepEqual(parseMp3Header(hex(c.header)), c.want);
  });
}

Deno.test("parseMp3Header rejects no sync, reserved fields and a short header", () => {
  assert.throws(() => parseMp3Header(hex("ff 0b 50 64")), {
    code: "malformed",
  });
  assert.throws(() => parseMp3Header(hex("ff eb 50 64")), {
    code: "malformed",
  }); // version 01
  assert.throws(() => parseMp3Header(hex("ff fb fc 64")), {
    code: "malformed",
  }); // index 15, rate 3
  assert.throws(() => parseMp3Header(hex("ff fb 50")), { code: "truncated" });
});

// RFC 7845 §5.1: "OpusHead" | 1 | channels | pre-skip LE | rate LE | gain LE | family
Deno.test("parseOpusHead reads what buildOpusHead writes and a family-1 head", () => {
  const head = buildOpusHead(2, 312);
  assert.deepEqual(
    head,
    hex("4f707573 48656164 | 01 | 02 | 3801 | 80bb0000 | 0000 | 00"),
  );
  assert.deepEqual(parseOpusHead(head), {
    channels: 2,
    preSkip: 312,
    inputSampleRate: 48000,
    outputGain: 0,
    mappingFamily: 0,
  });
  const surround = hex(
    "4f707573 48656164 | 01 | 06 | 3801 | 80bb0000 | 0000 | 01 | 04 02 | 00 04 01 02 03 05",
  );
  assert.equal(parseOpusHead(surround).channels, 6);
  assert.throws(() => parseOpusHead(surround.subarray(0, 22)), {
    code: "truncated",
  });
  assert.throws(
    () => parseOpusHead(hex("4f707573 54616773 01 02 3801 80bb0000 0000 00")),
    { code: "malformed" },
  );
});

// RFC 7845 §5.1.1.1: family 0 allows 1 or 2 channels; FlvTagMuxer could not
// write a family-0 head with 3 back, so the track changed on the way through
Deno.test("parseOpusHead refuses more than two channels with mapping family 0", () => {
  assert.throws(
    () => parseOpusHead(hex("4f707573 48656164 01 03 3801 80bb0000 0000 00")),
    { name: "ProtocolError", code: "malformed" },
  );
});

// RFC 6716 §3.1: TOC byte config (5) | s (1) | c (2)
Deno.test("opusPacketChannels reads the stereo flag of the TOC byte", () => {
  assert.equal(opusPacketChannels(hex("fc ff fe")), 2);
  assert.equal(opusPacketChannels(hex("f8 ff fe")), 1);
});

Deno.test("parseMp3Header and parseOpusHead give output or a ProtocolError", () => {
  checkParser(parseMp3Header, MP3_CASES.map((c) => hex(c.header)));
  checkParser(parseOpusHead, [buildOpusHead(2)]);
});
