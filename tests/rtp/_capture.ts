/** Reads the RTP captures of `tests/testdata/rtp/` (see the README there). */

/** The packets of a capture: each stored as a 16-bit big-endian length, then the packet. */
export function readCapture(name: string): Uint8Array[] {
  const bytes = Deno.readFileSync(
    new URL(`../testdata/rtp/${name}`, import.meta.url),
  );
  const packets: Uint8Array[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const size = (bytes[pos]! << 8) | bytes[pos + 1]!;
    packets.push(bytes.subarray(pos + 2, pos + 2 + size));
    pos += 2 + size;
  }
  return packets;
}

/** One line of ffmpeg's `-f framecrc` output: times in the stream time base. */
export interface FramecrcLine {
  dts: number;
  pts: number;
  size: number;
}

/** The time base (`#tb 0: 1/25` → 25) and packet lines of a framecrc file. */
export function readFramecrc(
  name: string,
): { rate: number; lines: FramecrcLine[] } {
  const text = Deno.readTextFileSync(
    new URL(`../testdata/rtp/${name}`, import.meta.url),
  );
  let rate = 0;
  const lines: FramecrcLine[] = [];
  for (const line of text.split("\n")) {
    const tb = /^#tb 0: 1\/(\d+)/.exec(line);
    if (tb) rate = Number(tb[1]);
    if (line.startsWith("#") || line.trim() === "") continue;
    const f = line.split(",").map((s) => s.trim());
    lines.push({ dts: Number(f[1]), pts: Number(f[2]), size: Number(f[4]) });
  }
  return { rate, lines };
}
