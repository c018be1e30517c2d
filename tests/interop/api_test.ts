/**
 * The REST API and the inspector with real clients: ffmpeg publishes
 * H.264 320x240 at 25 fps with AAC, ffmpeg plays; the API shows the tracks,
 * the publisher and the reader, the inspector measures the media, and
 * DELETE ends the player. Every answer is validated against the OpenAPI
 * description.
 */
import assert from "node:assert/strict";
import {
  playAndCount,
  type PlayResult,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { ApiClient, validated } from "../_util/openapi_check.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

/** The path's view once its player shows up as a reader (Sluice answered its request). */
// deno-lint-ignore no-explicit-any
async function pathWithReader(api: ApiClient, name: string): Promise<any> {
  let path = (await api.get(`/api/v1/paths/${name}`)).body;
  for (let i = 0; i < 200 && path.readerSessions.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    path = (await api.get(`/api/v1/paths/${name}`)).body;
  }
  return path;
}

/**
 * DELETEs the player's session: the player (320 wide) ends early, having
 * decoded `atLeast` frames and fewer than `below`, and its session is gone.
 */
async function kickPlayer(
  api: ApiClient,
  id: string,
  playing: Promise<PlayResult>,
  frames: { atLeast: number; below: number },
): Promise<void> {
  const del = await api.request("DELETE", `/api/v1/sessions/${id}`);
  assert.equal(del.status, 204);
  const played = await playing;
  assert.ok(played.video !== undefined, played.stderr);
  assert.equal(played.video.width, 320);
  assert.ok(played.video.frames >= frames.atLeast, String(played.video.frames));
  assert.ok(played.video.frames < frames.below, "the player ended early");
  assert.equal((await api.get(`/api/v1/sessions/${id}`)).status, 404);
}

Deno.test(
  "API: ffmpeg publishes RTMP, ffmpeg plays HTTP-FLV; tracks, publisher, reader, inspector, kick",
  opts,
  async () => {
    await using s = startTestSluice();
    const api = new ApiClient(`http://127.0.0.1:${s.sluice.httpPort}`);
    await using _pub = publishTestSignal(s.rtmpUrl("live/cam"), {
      seconds: 30,
      bFrames: 2,
    });
    await s.published("live/cam", { frames: 10 });

    const playing = playAndCount(s.flvUrl("live/cam"), {
      seconds: 25,
      timeoutMs: 40_000,
    });
    const path = await pathWithReader(api, "live/cam");
    const video = path.tracks.find((t: { kind: string }) => t.kind === "video");
    const audio = path.tracks.find((t: { kind: string }) => t.kind === "audio");
    assert.deepEqual(
      [video.codec, video.width, video.height, video.fps],
      ["H264", 320, 240, 25],
      JSON.stringify(path),
    );
    assert.match(video.profile, /High|Main|Baseline/);
    assert.deepEqual(
      [audio.codec, audio.sampleRate, audio.channels, audio.profile],
      ["AAC", 44100, 1, "LC"],
    );
    assert.equal(path.ready, true);
    assert.equal(path.publisher.protocol, "rtmp");
    assert.match(path.publisher.remoteAddress, /^127\.0\.0\.1:\d+$/);
    assert.ok(path.publisher.bytesIn > 0);
    assert.ok(path.publisher.bitrate > 0);
    assert.equal(path.readers, 1);
    const reader = path.readerSessions[0];
    assert.equal(reader.protocol, "flv");

    // the inspector samples ~3 s of media: 25 fps, one keyframe a second, B-frames
    const ins = (await api.get("/api/v1/paths/live/cam/inspect?wait=3000"))
      .body;
    const v = ins.tracks.find((t: { track: { kind: string } }) =>
      t.track.kind === "video"
    );
    assert.ok(v.frames >= 50, JSON.stringify(v));
    assert.ok(Math.abs(v.fpsReceived - 25) < 4, JSON.stringify(v));
    assert.equal(v.fpsTimestamps, 25);
    assert.equal(v.gop.meanFrames, 25, JSON.stringify(v.gop));
    assert.equal(v.gop.spreadSeconds, 0);
    assert.ok(v.reorderDepth >= 1, JSON.stringify(v));
    assert.ok(v.bitrate > 10_000, JSON.stringify(v));
    assert.equal(v.gaps, 0);
    assert.equal(v.codecConfig.sps[0].width, 320);
    assert.equal(v.codecConfig.pps[0].ppsId, 0);
    const a = ins.tracks.find((t: { track: { kind: string } }) =>
      t.track.kind === "audio"
    );
    assert.equal(a.codecConfig.audioSpecificConfig.sampleRate, 44100);
    assert.ok(typeof ins.avOffsetMs === "number");
    assert.ok(Math.abs(ins.avOffsetMs) < 1000, String(ins.avOffsetMs));

    const metrics = await (await fetch(
      `http://127.0.0.1:${s.sluice.httpPort}/metrics`,
    )).text();
    assert.match(
      metrics,
      /sluice_inspect_fps\{path="live\/cam",track="\d"\} \d/,
    );
    assert.match(
      metrics,
      /sluice_readers\{path="live\/cam",protocol="flv"\} 1/,
    );

    // the session list has both; DELETE ends the player early
    const sessions = (await api.get("/api/v1/sessions")).body;
    assert.equal(sessions.total, 2);
    const player = sessions.items.find((x: { id: string }) =>
      x.id === reader.id
    );
    assert.ok(player.bytesOut > 10_000, JSON.stringify(player));
    assert.ok(player.packetsOut >= 100, JSON.stringify(player)); // 3 s of video and audio
    assert.match(
      await (await fetch(`http://127.0.0.1:${s.sluice.httpPort}/metrics`))
        .text(),
      /sluice_media_packets_out_total\{path="live\/cam",protocol="flv"\} [1-9]\d\d/,
    );
    await kickPlayer(api, reader.id, playing, { atLeast: 50, below: 25 * 20 });
    assert.ok(validated.count >= 5, String(validated.count));
  },
);

Deno.test(
  "API: ffmpeg records over RTSP; the path shows an RTSP publisher with H.264 320x240",
  opts,
  async () => {
    await using s = startTestSluice();
    const api = new ApiClient(`http://127.0.0.1:${s.sluice.httpPort}`);
    await using _pub = publishTestSignal(s.rtspUrl("live/rec"), {
      seconds: 15,
      format: "rtsp",
      rtspTransport: "tcp",
    });
    await s.published("live/rec", { frames: 10 });
    const path = (await api.get("/api/v1/paths/live/rec")).body;
    assert.equal(path.publisher.protocol, "rtsp");
    const video = path.tracks.find((t: { kind: string }) => t.kind === "video");
    assert.deepEqual([video.codec, video.width, video.height], [
      "H264",
      320,
      240,
    ]);
    // any origin may read HTTP-FLV; no web page may read the API
    const cross = await fetch(
      `http://127.0.0.1:${s.sluice.httpPort}/api/v1/paths`,
      { headers: { Origin: "http://attacker.example" } },
    );
    await cross.body?.cancel();
    assert.equal(cross.headers.get("Access-Control-Allow-Origin"), null);
    const list = (await api.get("/api/v1/paths")).body;
    assert.equal(list.total, 1);
    assert.deepEqual(list.items[0].codecs, ["H264", "AAC"]);
    const sessions = (await api.get("/api/v1/sessions")).body;
    assert.equal(sessions.items[0].protocol, "rtsp");
    assert.equal(sessions.items[0].role, "publisher");
  },
);

Deno.test(
  "API: a pull relay shows running with its publisher; metrics show its state",
  opts,
  async () => {
    await using origin = startTestSluice();
    await using _pub = publishTestSignal(origin.rtmpUrl("live/cam"), {
      seconds: 20,
    });
    await origin.published("live/cam", { frames: 10 });
    await using edge = startTestSluice({
      paths: { mirror: { source: origin.rtmpUrl("live/cam") } },
    });
    await edge.published("mirror", { frames: 10 });
    const api = new ApiClient(`http://127.0.0.1:${edge.sluice.httpPort}`);
    const relays = (await api.get("/api/v1/relays")).body;
    assert.equal(relays.total, 1);
    assert.deepEqual(
      [relays.items[0].path, relays.items[0].kind, relays.items[0].state],
      ["mirror", "pull", "running"],
    );
    assert.equal(relays.items[0].lastError, null);
    const path = (await api.get("/api/v1/paths/mirror")).body;
    assert.equal(path.publisher.protocol, "pull");
    assert.equal(path.publisher.remoteAddress, origin.rtmpUrl("live/cam"));
    assert.deepEqual(
      path.tracks.map((t: { codec: string }) => t.codec),
      ["H264", "AAC"],
    );
    const metrics = await (await fetch(
      `http://127.0.0.1:${edge.sluice.httpPort}/metrics`,
    )).text();
    assert.match(
      metrics,
      /sluice_relay_state\{path="mirror",kind="pull",state="running"\} 1/,
    );
    // the origin lists the relay's connection as an RTMP reader
    const originApi = new ApiClient(
      `http://127.0.0.1:${origin.sluice.httpPort}`,
    );
    const readers = (await originApi.get("/api/v1/paths/live/cam")).body
      .readerSessions;
    assert.equal(readers.length, 1);
    assert.equal(readers[0].protocol, "rtmp");
    assert.equal(readers[0].state, "playing");
  },
);

Deno.test(
  "API: ffmpeg records H.265 over RTSP; the inspector decodes its VPS, SPS and PPS",
  opts,
  async () => {
    await using s = startTestSluice();
    const api = new ApiClient(`http://127.0.0.1:${s.sluice.httpPort}`);
    await using _pub = publishTestSignal(s.rtspUrl("live/hevc"), {
      seconds: 15,
      video: "hevc",
      audio: "none",
      format: "rtsp",
      rtspTransport: "tcp",
    });
    await s.published("live/hevc", { frames: 10 });
    const path = (await api.get("/api/v1/paths/live/hevc")).body;
    assert.deepEqual(
      [
        path.tracks[0].codec,
        path.tracks[0].profile,
        path.tracks[0].width,
        path.tracks[0].height,
      ],
      ["H265", "Main", 320, 240],
      JSON.stringify(path.tracks),
    );
    const ins = (await api.get("/api/v1/paths/live/hevc/inspect?wait=2000"))
      .body;
    const v = ins.tracks[0];
    assert.equal(v.codecConfig.vps[0].maxSubLayers, 1, JSON.stringify(v));
    assert.equal(v.codecConfig.sps[0].width, 320);
    assert.equal(v.codecConfig.pps[0].ppsId, 0);
    assert.ok(Math.abs(v.fpsReceived - 25) < 5, JSON.stringify(v));
    assert.equal(ins.avOffsetMs, null);
  },
);

Deno.test(
  "API: DELETE ends an RTSP player, then the RTMP publisher, each ffmpeg early",
  opts,
  async () => {
    await using s = startTestSluice();
    const api = new ApiClient(`http://127.0.0.1:${s.sluice.httpPort}`);
    const started = Date.now();
    await using pub = publishTestSignal(s.rtmpUrl("live/kick"), {
      seconds: 40,
    });
    await s.published("live/kick", { frames: 10 });
    const playing = playAndCount(s.rtspUrl("live/kick"), {
      inputArgs: ["-rtsp_transport", "tcp"],
      seconds: 30,
      timeoutMs: 50_000,
    });
    const reader = (await pathWithReader(api, "live/kick")).readerSessions[0];
    assert.equal(reader.protocol, "rtsp");
    // let the player decode a couple of seconds first
    await new Promise((r) => setTimeout(r, 2000));

    await kickPlayer(api, reader.id, playing, { atLeast: 25, below: 25 * 25 });

    const sessions = (await api.get("/api/v1/sessions")).body;
    const publisher = sessions.items.find((x: { role: string }) =>
      x.role === "publisher"
    );
    assert.equal(publisher.protocol, "rtmp", JSON.stringify(sessions));
    const kickPublisher = await api.request(
      "DELETE",
      `/api/v1/sessions/${publisher.id}`,
    );
    assert.equal(kickPublisher.status, 204);
    await pub.status;
    assert.ok(Date.now() - started < 35_000, "the publisher ended early");
    // the path goes with its publisher: nothing else names it
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      gone = (await api.get("/api/v1/paths/live/kick")).status === 404;
      if (!gone) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(gone, "the path still has its publisher");
    assert.equal(
      (await api.request("DELETE", `/api/v1/sessions/${publisher.id}`)).status,
      404,
    );
  },
);
