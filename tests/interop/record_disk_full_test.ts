/**
 * A full disk: the recordings go to a 512 KiB tmpfs the test mounts (as
 * root). When it fills, recording stops with one log line and a counter
 * while an ffmpeg player of the same path keeps decoding every frame; when
 * the tmpfs grows again, recording resumes on its own. A tmpfs mounted
 * read-only does the same until it is remounted writable. Off CI a machine
 * where the test cannot mount is skipped; in CI it fails.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { isCi, requireTool } from "../_util/tools.ts";
import { filesBelow, probeFile } from "../_util/record.ts";

function run(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Whether this machine lets the test mount a tmpfs (root, and mount works). */
function canMount(): boolean {
  if (Deno.uid() !== 0) return false;
  const dir = Deno.makeTempDirSync();
  const ok = run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
  if (ok) run("umount", [dir]);
  Deno.removeSync(dir);
  return ok;
}

const mountable = canMount();
const ignore = requireTool("ffmpeg") || requireTool("ffprobe") ||
  (!mountable && !isCi());

Deno.test(
  "Recording: a full disk stops recording with one log line, live readers go on, recording resumes when space returns",
  { ignore, sanitizeOps: false, sanitizeResources: false },
  async () => {
    assert.ok(mountable, "Cannot mount a tmpfs: the test needs root and mount");
    const dir = await Deno.makeTempDir();
    assert.ok(
      run("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", dir]),
      "mount",
    );
    try {
      await using s = startTestSluice({
        record: true,
        recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
        recordSegmentDuration: "4s",
        recordPartDuration: "500ms",
      });
      await using _pub = publishTestSignal(s.rtmpUrl("live/full"), {
        seconds: 22,
      });
      await s.published("live/full", { frames: 5 });
      const playing = playAndCount(s.flvUrl("live/full"), {
        seconds: 18,
        timeoutMs: 40_000,
      });
      const stats = s.sluice.recorder.stats;
      const end = Date.now() + 15_000;
      while (stats.stoppedPaths === 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(stats.stoppedPaths, 1, s.logs.join("\n"));
      assert.ok(stats.writeErrors >= 1);
      // Space returns.
      const before = new Set(await filesBelow(`${dir}/live/full`, ["mp4"]));
      assert.ok(run("mount", ["-o", "remount,size=64m", dir]), "remount");
      const resumeBy = Date.now() + 10_000;
      while (stats.stoppedPaths > 0 && Date.now() < resumeBy) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(stats.stoppedPaths, 0, s.logs.join("\n"));
      const played = await playing;
      assertDecodedH264Aac(played, { video: 18 * 25 - 10, audio: 100 });
      const stopped = s.logs.filter((l) => l.includes("recording stopped"));
      assert.equal(stopped.length, 1, stopped.join("\n"));
      assert.match(stopped[0]!, /No space left on device|os error 28/);
      assert.equal(
        s.logs.filter((l) => l.includes("recording resumed")).length,
        1,
      );
      await s.close();
      // What was written after the disk came back reads cleanly. The last
      // file ends when the server closes, at no fixed point of a segment, so
      // the frames are counted over every file written since.
      const after = (await filesBelow(`${dir}/live/full`, ["mp4"]))
        .filter((f) => !before.has(f));
      assert.ok(after.length >= 1, "no file written after the disk came back");
      let frames = 0;
      for (const f of after) {
        const p = await probeFile(f);
        assert.equal(p.code, 0, `${f}: ${p.stderr}`);
        frames += p.streams.find((x) => x.type === "video")?.frames ?? 0;
      }
      assert.ok(frames > 50, `${frames} frames in ${after.join(", ")}`);
    } finally {
      run("umount", [dir]);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "Recording: a read-only disk stops recording with one log line and resumes when it is writable again",
  { ignore, sanitizeOps: false, sanitizeResources: false },
  async () => {
    assert.ok(mountable, "Cannot mount a tmpfs: the test needs root and mount");
    const dir = await Deno.makeTempDir();
    assert.ok(
      run("mount", ["-t", "tmpfs", "-o", "ro,size=4m", "tmpfs", dir]),
      "mount",
    );
    try {
      await using s = startTestSluice({
        record: true,
        recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
        recordPartDuration: "500ms",
      });
      await using _pub = publishTestSignal(s.rtmpUrl("live/ro"), {
        seconds: 15,
      });
      await s.published("live/ro", { frames: 5 });
      const stats = s.sluice.recorder.stats;
      const end = Date.now() + 10_000;
      while (stats.stoppedPaths === 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(stats.stoppedPaths, 1, s.logs.join("\n"));
      const played = await playAndCount(s.flvUrl("live/ro"), {
        seconds: 2,
        timeoutMs: 20_000,
      });
      assertDecodedH264Aac(played, { video: 45, audio: 50 });
      assert.ok(run("mount", ["-o", "remount,rw", dir]), "remount");
      const resumeBy = Date.now() + 10_000;
      while (stats.stoppedPaths > 0 && Date.now() < resumeBy) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(stats.stoppedPaths, 0, s.logs.join("\n"));
      const stopped = s.logs.filter((l) => l.includes("recording stopped"));
      assert.equal(stopped.length, 1, stopped.join("\n"));
      assert.match(stopped[0]!, /Read-only file system|os error 30/);
      await s.close();
      const files = await filesBelow(`${dir}/live/ro`, ["mp4"]);
      assert.equal(files.length, 1);
      const p = await probeFile(files[0]!);
      assert.equal(p.code, 0, p.stderr);
    } finally {
      run("umount", [dir]);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
