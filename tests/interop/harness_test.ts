/**
 * The interop harness proven without a server: ffmpeg writes files, ffmpeg
 * and ffprobe read them back, and a silent listener shows the time bound.
 */
import assert from "node:assert/strict";
import { playAndCount, probe, publishTestSignal } from "../_util/ffmpeg.ts";
import { requireTool, toolPath } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");

Deno.test({
  name: "publishTestSignal writes FLV that playAndCount decodes frame by frame",
  ignore,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_harness_" });
  try {
    const file = `${dir}/signal.flv`;
    const pub = publishTestSignal(file, { seconds: 2, realtime: false });
    const status = await pub.status;
    assert.equal(status.code, 0, pub.stderr());

    const play = await playAndCount(file, { timeoutMs: 20_000 });
    assert.equal(play.code, 0, play.stderr);
    assert.equal(play.timedOut, false);
    assert.ok(play.video, play.stderr);
    assert.equal(play.video.codec, "h264");
    assert.equal(play.video.width, 320);
    assert.equal(play.video.height, 240);
    assert.ok(
      Math.abs(play.video.frames - 25 * 2) <= 2,
      `${play.video.frames} video frames`,
    );
    assert.ok(play.audio, play.stderr);
    assert.equal(play.audio.codec, "aac");
    assert.equal(play.audio.sampleRate, 44100);
    assert.equal(play.audio.channels, 1);
    assert.ok(play.audio.frames > 0);

    const some = await playAndCount(file, { frames: 10, timeoutMs: 20_000 });
    assert.equal(some.video?.frames, 10, some.stderr);

    const probed = await probe(file, 20_000);
    assert.equal(probed.code, 0, probed.stderr);
    assert.deepEqual(
      probed.streams.map((s) => [s.codec_type, s.codec_name]),
      [["video", "h264"], ["audio", "aac"]],
    );
    assert.equal(probed.streams[0]?.width, 320);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "publishTestSignal makes HEVC with Opus, and H.264 with G.711",
  ignore,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_harness_" });
  try {
    const hevc = publishTestSignal(`${dir}/hevc.mkv`, {
      seconds: 1,
      fps: 10,
      video: "hevc",
      audio: "opus",
      realtime: false,
      extraArgs: ["-f", "matroska"], // FLV in this ffmpeg has no HEVC
    });
    assert.equal((await hevc.status).code, 0, hevc.stderr());
    const play = await playAndCount(`${dir}/hevc.mkv`, { timeoutMs: 20_000 });
    assert.equal(play.video?.codec, "hevc", play.stderr);
    assert.ok(
      Math.abs(play.video.frames - 10) <= 1,
      `${play.video.frames} video frames`,
    );
    assert.equal(play.audio?.codec, "opus");
    assert.equal(play.audio.sampleRate, 48000);

    const alaw = publishTestSignal(`${dir}/alaw.flv`, {
      seconds: 1,
      fps: 10,
      audio: "pcma",
      realtime: false,
    });
    assert.equal((await alaw.status).code, 0, alaw.stderr());
    const heard = await playAndCount(`${dir}/alaw.flv`, { timeoutMs: 20_000 });
    assert.equal(heard.audio?.codec, "pcm_alaw", heard.stderr);
    assert.equal(heard.audio.sampleRate, 8000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "playAndCount kills a player that hangs and reports the timeout",
  ignore,
}, async () => {
  // Accepts the TCP connection and never answers the RTMP handshake.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const started = Date.now();
  const play = await playAndCount(
    `rtmp://127.0.0.1:${listener.addr.port}/live/none`,
    {
      timeoutMs: 1000,
    },
  );
  const took = Date.now() - started;
  assert.equal(play.timedOut, true);
  assert.equal(play.video, undefined);
  assert.match(play.stderr, /killed after 1000 ms/);
  assert.ok(took < 1000 + 3000 + 1000, `took ${took} ms`);
  for (const conn of held) conn.close();
  listener.close();
  await accepting.catch(() => {});
});

Deno.test({
  name: "publishTestSignal stops a realtime publisher on request",
  ignore,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_harness_" });
  try {
    const started = Date.now();
    {
      await using pub = publishTestSignal(`${dir}/live.flv`, {
        seconds: 60,
        audio: "none",
      });
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.equal(pub.process.pid > 0, true);
    } // disposed here: SIGINT, and ffmpeg closes the file
    assert.ok(Date.now() - started < 5000);
    const play = await playAndCount(`${dir}/live.flv`, { timeoutMs: 20_000 });
    assert.ok((play.video?.frames ?? 0) > 0, play.stderr);
    assert.equal(play.audio, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requireTool skips a missing tool off CI and never in CI", async () => {
  const script = `
    import { requireTool, toolPath } from "./tests/_util/tools.ts";
    let message = "";
    try { toolPath("ffmpeg"); } catch (error) { message = error.message; }
    console.log(JSON.stringify({ ignore: requireTool("ffmpeg"), message }));`;
  const run = async (ci: string) => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", script],
      cwd: new URL("../..", import.meta.url),
      clearEnv: true,
      env: { PATH: "/nonexistent", CI: ci, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return JSON.parse(new TextDecoder().decode(stdout)) as {
      ignore: boolean;
      message: string;
    };
  };
  const off = await run("false");
  assert.equal(off.ignore, true);
  const on = await run("true");
  assert.equal(on.ignore, false);
  assert.match(
    on.message,
    /^Cannot run ffmpeg: not installed on this CI machine; .*ffmpeg/,
  );
});

Deno.test({
  name: "toolPath finds a python3 with GStreamer's RTSP server",
  ignore: requireTool("python3"),
}, async () => {
  const { code, stderr } = await new Deno.Command(toolPath("python3"), {
    args: ["-c", "from gi.repository import GstRtspServer"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
});

/** A port that was free a moment ago. */
function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

for (
  const c of [
    { format: "flv", scheme: "rtmp", listen: ["-listen", "1"] },
    { format: "rtsp", scheme: "rtsp", listen: ["-rtsp_flags", "listen"] },
  ] as const
) {
  Deno.test({
    name:
      `publishTestSignal publishes live over ${c.scheme} to a listening ffmpeg`,
    ignore,
  }, async () => {
    const url = `${c.scheme}://127.0.0.1:${freePort()}/live/harness`;
    const playing = playAndCount(url, {
      timeoutMs: 15_000,
      inputArgs: [...c.listen],
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // let it listen
    const pub = publishTestSignal(url, {
      seconds: 1,
      format: c.format,
      rtspTransport: "tcp",
    });
    assert.equal((await pub.status).code, 0, pub.stderr());
    const play = await playing;
    assert.equal(play.timedOut, false, play.stderr);
    assert.equal(play.video?.codec, "h264", play.stderr);
    assert.ok(
      Math.abs(play.video.frames - 25) <= 2,
      `${play.video.frames} video frames`,
    );
    assert.equal(play.audio?.codec, "aac");
    assert.ok(play.audio.frames > 0);
  });
}
