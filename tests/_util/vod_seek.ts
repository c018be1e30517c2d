/** Where a player's seek into a file on demand lands. */
import assert from "node:assert/strict";

/**
 * ffmpeg's first decoded video frame's time, seconds (with `-copyts`),
 * after `-ss seconds` on `url`, from its third frame.
 */
export function firstVideoSeconds(
  url: string,
  seconds: number,
  inputArgs: string[],
): Promise<number> {
  // ffmpeg's RTSP demuxer stamps the very first frame 0 before it has a
  // timing reference; the third frame is placed by RTP-Info and Range
  return frameSeconds(url, seconds, inputArgs, { map: "0:v:0", nth: 2 })
    .then((t) => t - 2 / 25);
}

/** ffmpeg's first decoded audio frame's time, seconds, after `-ss seconds` on `url`. */
export function firstAudioSeconds(
  url: string,
  seconds: number,
  inputArgs: string[],
): Promise<number> {
  return frameSeconds(url, seconds, inputArgs, { map: "0:a:0", nth: 0 });
}

async function frameSeconds(
  url: string,
  seconds: number,
  inputArgs: string[],
  o: { map: string; nth: number },
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
      o.map,
      "-frames",
      String(o.nth + 1),
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
  const line = text.split("\n").filter((l) => /^0,/.test(l))[o.nth];
  assert.ok(line !== undefined, new TextDecoder().decode(out.stderr));
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(text);
  const [num, den] = tb === null ? [1, 90000] : [Number(tb[1]), Number(tb[2])];
  const pts = Number(line.split(",")[2]!.trim());
  return (pts * num) / den;
}
