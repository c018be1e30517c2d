/**
 * Crash safety: Sluice runs as its own process (`deno run server.ts
 * --record …`), ffmpeg publishes, and the server is killed with SIGKILL in
 * the middle of a segment. ffprobe then decodes the cut file up to its last
 * whole part, and a new Sluice indexes it at start-up and lists it.
 */
import assert from "node:assert/strict";
import { playAndCount, publishTestSignal } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { filesBelow, probeFile } from "../_util/record.ts";
import { readFmp4 } from "../../lib/record/fmp4_read.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitFor(check: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const format of ["fmp4", "flv"] as const) {
  Deno.test(
    `Recording (${format}): a file cut by SIGKILL reads up to its last part, and is indexed at the next start`,
    opts,
    async () => {
      const dir = await Deno.makeTempDir();
      const rtmpPort = freePort();
      const server = new Deno.Command(Deno.execPath(), {
        args: [
          ...[
            "run",
            "-A",
            new URL("../../server.ts", import.meta.url).pathname,
          ],
          ...["--rtmp-address", `127.0.0.1:${rtmpPort}`, "--rtsp=false"],
          ...["--http=false", "--record", "--record-format", format],
          ...["--record-path", `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`],
          ...["--record-part-duration", "500ms"],
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = server.stderr.pipeThrough(new TextDecoderStream());
      let log = "";
      const reading = (async () => {
        for await (const t of stderr) log += t;
      })();
      const ext = format === "flv" ? "flv" : "mp4";
      try {
        await waitFor(
          () => Promise.resolve(log.includes("RTMP listening")),
          20_000,
        );
        await using pub = publishTestSignal(
          `rtmp://127.0.0.1:${rtmpPort}/live/crash`,
          { seconds: 30, bFrames: 2 },
        );
        // ~4 s of media on disk, then the server dies mid-segment.
        await waitFor(
          async () => (await filesBelow(dir, [ext])).length > 0,
          20_000,
        ).catch((e) => {
          throw new Error(`${e}\n${log}\n${pub.stderr()}`);
        });
        await new Promise((r) => setTimeout(r, 4000));
        server.kill("SIGKILL");
        await server.status;
        await reading;
        const [file] = await filesBelow(dir, [ext]);
        const p = await probeFile(file!);
        assert.equal(p.code, 0, p.stderr);
        const video = p.streams.find((s) => s.type === "video");
        assert.equal(video?.codec, "h264", p.stderr);
        assert.ok(video!.frames >= 50, `${video!.frames} frames\n${p.stderr}`);
        if (format === "fmp4") {
          using f = await Deno.open(file!);
          const own = await readFmp4(f);
          const ownVideo = own.samples.filter((s) => s.trackId === 1).length;
          assert.equal(
            ownVideo,
            video!.frames,
            "Sluice reads what ffprobe reads",
          );
        }
        // A new instance finds the cut segment while indexing the folder.
        await using s = startTestSluice({
          recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
          recordDeleteAfter: 0,
        });
        await s.sluice.recorderReady;
        const segments = s.sluice.recorder.index.segments("live/crash");
        assert.equal(segments.length, 1);
        assert.equal(segments[0]!.file, file);
        assert.ok(
          Math.abs(segments[0]!.durationMs / 1000 - p.duration) < 0.2,
          `indexed ${segments[0]!.durationMs} ms, ffprobe ${p.duration} s`,
        );
        const list = await fetch(
          `http://127.0.0.1:${s.sluice.httpPort}/playback/list?path=live/crash`,
        );
        const spans = await list.json() as {
          start: string;
          duration: number;
        }[];
        assert.equal(spans.length, 1);
        assert.ok(spans[0]!.duration > 2, JSON.stringify(spans));
        // Playback serves the cut file, whatever its format.
        const played = await playAndCount(
          `http://127.0.0.1:${s.sluice.httpPort}/playback/get?path=live/crash&start=${
            spans[0]!.start
          }&duration=${spans[0]!.duration + 1}`,
          { timeoutMs: 30_000 },
        );
        assert.equal(played.code, 0, played.stderr);
        assert.equal(played.video?.codec, "h264");
        assert.ok(
          Math.abs(played.video!.frames - video!.frames) <= 2,
          `played ${played.video!.frames} of ${video!.frames} frames`,
        );
      } finally {
        try {
          server.kill("SIGKILL");
        } catch {
          // gone already
        }
        await server.status;
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
