import assert from "node:assert/strict";
import type { Track } from "../../lib/media/track.ts";
import {
  describeSession,
  describeTracks,
  tracksFromSdp,
} from "../../lib/format/tracks.ts";
import { parseSdp } from "../../lib/sdp/parse.ts";
import { stringifySdp } from "../../lib/sdp/stringify.ts";
import { hex } from "../_util/bytes.ts";

// 320x240 Constrained Baseline SPS and its PPS, as x264 writes them
const SPS = hex(
  "67 42 c0 0d d9 01 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 a4 80",
);
const PPS = hex("68 cb 83 cb 20");

const TRACKS: Track[] = [
  {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    parameterSets: { sps: [SPS], pps: [PPS] },
  },
  {
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 44100,
    sampleRate: 44100,
    channels: 2,
    config: hex("12 10"),
  },
  {
    kind: "audio",
    id: 2,
    codec: "PCMA",
    clockRate: 8000,
    sampleRate: 8000,
    channels: 1,
  },
  {
    kind: "audio",
    id: 3,
    codec: "OPUS",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
  },
  {
    kind: "audio",
    id: 4,
    codec: "MP3",
    clockRate: 44100,
    sampleRate: 44100,
    channels: 2,
  },
];

Deno.test("describeTracks writes what RTP can carry and tracksFromSdp reads it back", () => {
  const formats = describeTracks(TRACKS);
  assert.deepEqual(formats.map((f) => f.track.codec), [
    "H264",
    "AAC",
    "PCMA",
    "OPUS",
  ], "MP3 has no RTP format here");
  assert.deepEqual(
    formats.map((f) => f.payloadType),
    [96, 97, 8, 99],
    "static PT for G.711 (RFC 3551)",
  );
  const text = stringifySdp(describeSession(formats));
  assert.match(
    text,
    /a=fmtp:96 packetization-mode=1;profile-level-id=42c00d;sprop-parameter-sets=Z0LADdkBQfsBEAAAAwAQAAADAyDxQqSA,aMuDyyA=/,
  );
  assert.match(text, /a=rtpmap:97 MPEG4-GENERIC\/44100\/2/);
  assert.match(text, /a=rtpmap:8 PCMA\/8000/);
  assert.match(text, /a=rtpmap:99 opus\/48000\/2/);
  const back = tracksFromSdp(parseSdp(text).media).map((t) => t?.track);
  assert.equal(back.length, 4);
  const video = back[0]!;
  assert.ok(video.kind === "video");
  assert.deepEqual([video.codec, video.width, video.height], [
    "H264",
    320,
    240,
  ]);
  assert.deepEqual(video.parameterSets, { sps: [SPS], pps: [PPS] });
  const aac = back[1]!;
  assert.ok(aac.kind === "audio");
  assert.deepEqual([aac.codec, aac.sampleRate, aac.channels, aac.config], [
    "AAC",
    44100,
    2,
    hex("12 10"),
  ]);
  assert.deepEqual(back.slice(2).map((t) => t?.codec), ["PCMA", "OPUS"]);
});

Deno.test("tracksFromSdp: camera SDP without sprop gives a video track without size, filled in-band later", () => {
  const sdp = parseSdp(
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
      "a=fmtp:96 packetization-mode=1\r\na=control:track1\r\nm=application 0 RTP/AVP 107\r\na=control:track2\r\n",
  );
  const tracks = tracksFromSdp(sdp.media);
  assert.equal(tracks.length, 2);
  assert.equal(tracks[0]?.track.codec, "H264");
  assert.equal(
    tracks[0]?.track.kind === "video" && tracks[0].track.parameterSets,
    undefined,
  );
  assert.equal(
    tracks[1],
    undefined,
    "m=application without rtpmap is skipped, not an error",
  );
});

Deno.test("tracksFromSdp: broken sprop-parameter-sets do not fail the SDP (sets come in-band)", () => {
  const sdp = parseSdp(
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
      "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=!!notbase64!!\r\n",
  );
  const [t] = tracksFromSdp(sdp.media);
  assert.equal(t?.track.codec, "H264");
  assert.equal(t?.track.kind === "video" && t.track.parameterSets, undefined);
});
