import assert from "node:assert/strict";
import { codecString } from "../../lib/mp4/mod.ts";
import {
  aacTrack,
  av1Track,
  h264Track,
  h265Track,
  rawAudioTrack,
  vp9Track,
} from "./_tracks.ts";

// RFC 6381 §3.3; ISO/IEC 14496-15 Annex E; AV1 and VP ISOBMFF bindings §5
Deno.test("codecString names each codec as HLS CODECS and MSE want it", () => {
  // High (0x64), no constraint flags, level 4.0 (0x28); Constrained Baseline 0x42 0xC0, level 3.1
  assert.equal(codecString(h264Track()), "avc1.640028");
  assert.equal(
    codecString(h264Track("h264_1280x720_baseline.h264")),
    "avc1.42C01F",
  );
  // Main: compatibility flags 1 and 2 (bit-reversed 0x6), level 2 (60), progressive + frame-only (0x90)
  assert.equal(codecString(h265Track().track), "hvc1.1.6.L60.90");
  assert.equal(codecString(av1Track()), "av01.0.00M.08");
  assert.equal(codecString(vp9Track()), "vp09.00.20.08");
  assert.equal(codecString(aacTrack()), "mp4a.40.2");
  // HE-AAC signalled explicitly: object type 5, 24 kHz core, stereo, 48 kHz extension, then LC
  assert.equal(
    codecString({
      ...aacTrack(),
      config: new Uint8Array([0x2b, 0x11, 0x88, 0x00]),
    }),
    "mp4a.40.5",
  );
  assert.equal(codecString(rawAudioTrack("MP3")), "mp4a.40.34");
  assert.equal(codecString(rawAudioTrack("OPUS")), "opus");
  assert.equal(codecString(rawAudioTrack("PCMA")), undefined);
  assert.equal(
    codecString({ kind: "video", id: 0, codec: "H264", clockRate: 90000 }),
    undefined,
  );
});
