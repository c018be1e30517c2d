import assert from "node:assert/strict";
import {
  type MediaPlaylist,
  type PlaylistSegment,
  renderMediaPlaylist,
  renderMultivariantPlaylist,
} from "../../lib/hls/playlist.ts";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function segment(msn: number, extra: Partial<PlaylistSegment> = {}) {
  return {
    msn,
    duration: 1,
    uri: `s${msn}.mp4`,
    programDateTimeMs: T0 + msn * 1000,
    discontinuity: false,
    mapUri: "init0.mp4",
    parts: [0, 1, 2, 3, 4].map((i) => ({
      duration: 0.2,
      uri: `s${msn}.${i}.mp4`,
      independent: i === 0,
    })),
    ...extra,
  };
}

function window(count: number, from = 0): MediaPlaylist {
  const segments: PlaylistSegment[] = [];
  for (let i = 0; i < count; i++) segments.push(segment(from + i));
  segments.push(
    segment(from + count, {
      uri: undefined,
      duration: 0.4,
      parts: segment(from + count).parts.slice(0, 2),
    }),
  );
  return {
    targetDuration: 1,
    partTarget: 0.2,
    discontinuitySequence: 0,
    segments,
    preloadHint: `s${from + count}.2.mp4`,
  };
}

// draft-pantos-hls-rfc8216bis §4.4.3.7, §4.4.3.8, §4.4.4.9, §4.4.5.3
Deno.test("renderMediaPlaylist writes LL-HLS server control, parts and the preload hint", () => {
  const text = renderMediaPlaylist(window(2, 10));
  assert.equal(
    text,
    [
      "#EXTM3U",
      "#EXT-X-VERSION:9",
      "#EXT-X-TARGETDURATION:1",
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.0,PART-HOLD-BACK=0.6",
      "#EXT-X-PART-INF:PART-TARGET=0.2",
      "#EXT-X-MEDIA-SEQUENCE:10",
      "#EXT-X-DISCONTINUITY-SEQUENCE:0",
      '#EXT-X-MAP:URI="init0.mp4"',
      "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:10.000Z",
      '#EXT-X-PART:DURATION=0.2,URI="s10.0.mp4",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.2,URI="s10.1.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="s10.2.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="s10.3.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="s10.4.mp4"',
      "#EXTINF:1.0,",
      "s10.mp4",
      "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:11.000Z",
      '#EXT-X-PART:DURATION=0.2,URI="s11.0.mp4",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.2,URI="s11.1.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="s11.2.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="s11.3.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="s11.4.mp4"',
      "#EXTINF:1.0,",
      "s11.mp4",
      "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:12.000Z",
      '#EXT-X-PART:DURATION=0.2,URI="s12.0.mp4",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.2,URI="s12.1.mp4"',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s12.2.mp4"',
      "",
    ].join("\n"),
  );
});

Deno.test("renderMediaPlaylist lists parts only for the last three target durations", () => {
  const text = renderMediaPlaylist(window(7));
  const withParts = new Set(
    [...text.matchAll(/URI="s(\d+)\.\d\.mp4"/g)].map((m) => m[1]),
  );
  assert.deepEqual([...withParts], ["5", "6", "7"]);
  assert.equal(text.match(/#EXTINF/g)?.length, 7);
});

// §6.2.5.1: segments older than CAN-SKIP-UNTIL become EXT-X-SKIP
Deno.test("renderMediaPlaylist with skip replaces old segments by EXT-X-SKIP", () => {
  const p = window(9);
  const text = renderMediaPlaylist(p, { skip: true });
  assert.match(text, /#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n/);
  assert.ok(!text.includes("s2.mp4") && text.includes("s3.mp4"));
  // the MAP comes again before the first segment listed
  assert.match(text, /SKIPPED-SEGMENTS=3\n#EXT-X-MAP:URI="init0.mp4"\n/);
  assert.ok(!renderMediaPlaylist(p).includes("EXT-X-SKIP"));
});

Deno.test("renderMediaPlaylist marks a discontinuity and a new init segment", () => {
  const p = window(3);
  const segments = p.segments.map((s) =>
    s.msn >= 2 ? { ...s, discontinuity: s.msn === 2, mapUri: "init1.mp4" } : s
  );
  const text = renderMediaPlaylist({
    ...p,
    discontinuitySequence: 4,
    segments,
  });
  assert.match(text, /#EXT-X-DISCONTINUITY-SEQUENCE:4\n/);
  assert.match(
    text,
    /s1\.mp4\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init1\.mp4"\n#EXT-X-PROGRAM-DATE-TIME/,
  );
});

Deno.test("renderMediaPlaylist without a part target is plain HLS (MPEG-TS)", () => {
  const p = window(3);
  const text = renderMediaPlaylist({
    ...p,
    partTarget: undefined,
    segments: p.segments.map((s) => ({ ...s, mapUri: undefined })),
  });
  assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n/);
  for (const tag of ["PART", "SERVER-CONTROL", "PRELOAD-HINT", "MAP"]) {
    assert.ok(!text.includes(`#EXT-X-${tag}`), tag);
  }
  assert.equal(text.match(/#EXT-X-PROGRAM-DATE-TIME/g)?.length, 4);
});

Deno.test("renderMultivariantPlaylist names codecs, bandwidth and resolution", () => {
  assert.equal(
    renderMultivariantPlaylist({
      uri: "stream.m3u8",
      bandwidth: 812345.4,
      codecs: ["avc1.64000d", "mp4a.40.2"],
      width: 320,
      height: 240,
    }),
    "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
      '#EXT-X-STREAM-INF:BANDWIDTH=812345,CODECS="avc1.64000d,mp4a.40.2",RESOLUTION=320x240\n' +
      "stream.m3u8\n",
  );
});
