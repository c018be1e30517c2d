/** Where a player's seek into a file on demand lands. */
import assert from "node:assert/strict";

/**
 * ffmpeg's first decoded video frame's time, seconds (with `-copyts`),
 * after `-ss seconds` on `url`, from its third frame.
 */
export async function firstVideoSeconds(
  url: string,
  seconds: number,
  inputArgs: string[],
): Promise<number> {
  const cmd = new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-copyts",
      "-noaccurate_seek",
      "-ss",
      String(seconds),
      ...inputArgs,
      "-i",
      url,
      "-map",
      "0:v:0",
      "-frames:v",
      "3",
      "-f",
      "framecrc",
      "-",
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  });
  const out = await cmd.output();
  const text = new TextDecoder().decode(out.stdout);
  // ffmpeg's RTSP demuxer stamps the very first frame 0 before it has a
  // timing reference; the third frame is placed by RTP-Info and Range
  const line = text.split("\n").filter((l) => /^0,/.test(l))[2];
  assert.ok(line !== undefined, new TextDecoder().decode(out.stderr));
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(text);
  const [num, den] = tb === null ? [1, 90000] : [Number(tb[1]), Number(tb[2])];
  const pts = Number(line.split(",")[2]!.trim());
  return (pts * num) / den - 2 / 25;
}
