/** Small media files for VOD tests, made by ffmpeg at test time. */
import { spawn } from "./process.ts";

/** Containers the VOD tests serve. */
export const VOD_CONTAINERS = ["mp4", "mkv", "ts", "flv"] as const;

/**
 * Makes a folder with `clip.<ext>` for each container: `seconds` of H.264
 * (320x240, 25 fps, a keyframe every second, B-frames) and AAC.
 */
export async function makeVodFolder(
  seconds = 10,
  containers: readonly string[] = VOD_CONTAINERS,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-vod-" });
  for (const ext of containers) {
    const run = spawn("ffmpeg", [
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=25",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=44100",
      "-t",
      String(seconds),
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-g",
      "25",
      "-keyint_min",
      "25",
      "-sc_threshold",
      "0",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-b:a",
      "64k",
      `${dir}/clip.${ext}`,
    ], { timeoutMs: 60_000 });
    const status = await run.status;
    if (status.code !== 0) {
      throw new Error(`ffmpeg could not make clip.${ext}: ${run.stderr()}`);
    }
  }
  return dir;
}
