/**
 * Hot reload with real clients: an ffmpeg player keeps decoding a path
 * through a reload that adds a path and moves another's relay source; and
 * server.ts reloads on a changed file and on SIGHUP, refusing an invalid
 * file while the running configuration stays.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { spawn } from "../_util/process.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { LOOPBACK_ARGS, startServerProcess } from "../_util/server_process.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

function framesIn(s: TestSluice, path: string): number {
  return s.sluice.hub.stream(path)?.stats.framesIn ?? 0;
}

function why(...instances: TestSluice[]): string {
  return instances.map((s, i) =>
    `--- instance ${i}: relays ${JSON.stringify(s.sluice.relays.states())}\n${
      s.logs.join("\n")
    }`
  ).join("\n");
}

/** ffmpeg decoding the video of `url` for `seconds`, counting frames as they come. */
function livePlayer(url: string, seconds: number) {
  let frames = 0;
  const run = spawn("ffmpeg", [
    ...["-i", url, "-map", "0:v:0", "-t", String(seconds)],
    ...["-f", "framecrc", "-"],
  ], {
    timeoutMs: seconds * 1000 + 15_000,
    onStdoutLine: (line) => {
      if (line.startsWith("0,")) frames++;
    },
  });
  return { run, frames: () => frames };
}

Deno.test(
  "Sluice.reload adds a path and moves a relay source while an ffmpeg player keeps decoding another path",
  opts,
  async () => {
    await using upstream = startTestSluice();
    await using _src = publishTestSignal(upstream.rtmpUrl("live/src"), {
      seconds: 25,
    });
    await upstream.published("live/src", { frames: 10 });
    await using s = startTestSluice({
      paths: {
        "live/cam": {},
        "live/relay": { source: upstream.rtmpUrl("live/src") },
      },
    });
    await using _cam = publishTestSignal(s.rtmpUrl("live/cam"), {
      seconds: 25,
    });
    await s.published("live/cam", { frames: 10 });
    await until(() => framesIn(s, "live/relay") >= 10, 10_000, () => why(s));
    const camStream = s.sluice.hub.stream("live/cam")!;
    const player = livePlayer(s.rtmpUrl("live/cam"), 8);
    await until(() => player.frames() >= 25, 10_000, () => why(s));

    const before = player.frames();
    const result = await s.sluice.reload(parseConfig({
      ...s.sluice.config,
      paths: {
        "live/cam": {},
        "live/relay": { source: upstream.rtspUrl("live/src") },
        "live/extra": { readUser: "viewer", readPass: "secret" },
      },
    }));
    assert.deepEqual(result, {
      added: ["live/extra"],
      removed: [],
      changed: ["live/relay"],
      relaysRestarted: ["live/relay"],
      applied: [],
      listenersMoved: [],
      needsRestart: [],
    });

    // The untouched path: same stream, same publisher, the reader stays.
    await until(() => player.frames() >= before + 50, 10_000, () => why(s));
    assert.equal(s.sluice.hub.stream("live/cam"), camStream);
    assert.equal(camStream.stats.publishers, 1);
    assert.equal(camStream.readers, 1);
    const status = await player.run.status;
    assert.equal(status.code, 0, player.run.stderr());
    // 8 s at 25 fps without a reconnect (a dropped player would end early).
    assert.ok(player.frames() >= 180, `decoded ${player.frames()} frames`);

    // The changed path: its pull now comes over RTSP and feeds the same path.
    const relayFrames = framesIn(s, "live/relay");
    await until(
      () =>
        s.sluice.relays.states().some((r) =>
          r.url.startsWith("rtsp://") && r.status === "running"
        ) && framesIn(s, "live/relay") >= relayFrames + 25,
      10_000,
      () => why(s, upstream),
    );
    // One pull: the RTMP one stopped when its source changed.
    assert.deepEqual(
      s.sluice.relays.states().map((r) => [r.kind, r.url, r.status]),
      [["pull", upstream.rtspUrl("live/src"), "running"]],
    );

    // The added path's credentials hold for the next session.
    const rtsp = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      const res = await rtsp.request("DESCRIBE", s.rtspUrl("live/extra"));
      assert.equal(res.status, 401);
    } finally {
      rtsp.close();
    }
  },
);

/** A port nothing listens on now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test(
  "Sluice.reload moves the RTMP and HTTP listeners while a player on the old RTMP listener keeps decoding",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _cam = publishTestSignal(s.rtmpUrl("live/cam"), {
      seconds: 20,
    });
    await s.published("live/cam", { frames: 10 });
    const oldRtmp = s.sluice.rtmpPort!;
    const player = livePlayer(s.rtmpUrl("live/cam"), 6);
    await until(() => player.frames() >= 25, 10_000, () => why(s));
    const [rtmpPort, httpPort] = [freePort(), freePort()];
    const result = await s.sluice.reload(parseConfig({
      ...s.sluice.config,
      rtmpAddress: `127.0.0.1:${rtmpPort}`,
      httpAddress: `127.0.0.1:${httpPort}`,
    }));
    assert.deepEqual(result.listenersMoved, ["rtmpAddress", "httpAddress"]);
    assert.deepEqual(result.needsRestart, []);
    assert.equal(s.sluice.rtmpPort, rtmpPort);
    assert.equal(s.sluice.httpPort, httpPort);
    // The old listener closes once its pending accept is cancelled.
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: oldRtmp }),
      Deno.errors.ConnectionRefused,
    );
    // New sessions come to the new addresses.
    const fresh = await playAndCount(s.rtmpUrl("live/cam"), {
      seconds: 2,
      timeoutMs: 15_000,
    });
    assertDecodedH264Aac(fresh, { video: 40 });
    const page = await fetch(`http://127.0.0.1:${httpPort}/`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
    // The sessions of the old listener went on: publisher and player.
    const status = await player.run.status;
    assert.equal(status.code, 0, player.run.stderr());
    assert.ok(player.frames() >= 130, `decoded ${player.frames()} frames`);
    assert.equal(s.sluice.hub.stream("live/cam")?.stats.publishers, 1);
  },
);

/** A DESCRIBE's status code (401 when credentials are wanted, 404 when nothing publishes). */
async function describeStatus(port: number, path: string): Promise<number> {
  const rtsp = await RawRtsp.connect(port);
  try {
    const url = `rtsp://127.0.0.1:${port}/${path}`;
    return (await rtsp.request("DESCRIBE", url)).status;
  } finally {
    rtsp.close();
  }
}

const BASE = "playWaitTimeout: 300ms\nrtmp: false\n";
const LOCKED = BASE + "paths:\n  locked:\n    readUser: u\n    readPass: p\n";

Deno.test(
  "server.ts reloads a changed file and refuses an invalid one, keeping the running configuration",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/sluice.yml`;
    await Deno.writeTextFile(file, BASE);
    await using sluice = startServerProcess([
      "--config",
      file,
      ...LOOPBACK_ARGS,
    ]);
    try {
      const port = await sluice.port("RTSP");
      assert.equal(await describeStatus(port, "locked"), 404);

      let since = sluice.lines.length;
      await Deno.writeTextFile(file, LOCKED);
      const done = await sluice.waitFor(
        (l) => l.msg === "configuration reloaded",
        { since },
      );
      assert.equal(done.fields.added, "locked");
      assert.equal(await describeStatus(port, "locked"), 401);

      since = sluice.lines.length;
      await Deno.writeTextFile(file, LOCKED + "readTimeout: nope\n");
      const refused = await sluice.waitFor(
        (l) => l.msg.startsWith("configuration refused"),
        { since },
      );
      assert.equal(refused.level, "error");
      assert.match(refused.msg, /Invalid config readTimeout "nope"/);
      // The old configuration is still in force.
      assert.equal(await describeStatus(port, "locked"), 401);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "server.ts reloads on SIGHUP a file its watch cannot see change",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    // The file is reached through a link in another folder, as Kubernetes
    // mounts a ConfigMap: the watch of the link's folder sees no event, so
    // only SIGHUP can bring the change in.
    const real = await Deno.makeTempDir();
    const linked = await Deno.makeTempDir();
    await Deno.writeTextFile(`${real}/sluice.yml`, BASE);
    await Deno.symlink(`${real}/sluice.yml`, `${linked}/sluice.yml`);
    await using sluice = startServerProcess([
      "--config",
      `${linked}/sluice.yml`,
      ...LOOPBACK_ARGS,
    ]);
    try {
      const port = await sluice.port("RTSP");
      await Deno.writeTextFile(`${real}/sluice.yml`, LOCKED);
      await new Promise((r) => setTimeout(r, 600)); // longer than the debounce
      assert.equal(await describeStatus(port, "locked"), 404, sluice.text());

      const since = sluice.lines.length;
      sluice.process.kill("SIGHUP");
      const done = await sluice.waitFor(
        (l) => l.msg === "configuration reloaded",
        { since },
      );
      assert.equal(done.fields.added, "locked");
      const asked = sluice.lines.slice(since).find((l) =>
        l.msg === "reading the configuration again"
      );
      assert.equal(asked?.fields.why, "SIGHUP");
      assert.equal(await describeStatus(port, "locked"), 401);
    } finally {
      await Deno.remove(real, { recursive: true });
      await Deno.remove(linked, { recursive: true });
    }
  },
);
