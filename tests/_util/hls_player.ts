/**
 * A bounded Low-Latency HLS load client: each player reads the media
 * playlist, then follows the live edge with blocking playlist reloads
 * (`_HLS_msn`/`_HLS_part`) and fetches every new part once, as hls.js does
 * at the live edge, for a fixed time.
 */

/** What one player fetched. */
export interface PlayerRun {
  /** Part URIs fetched with 200, in order. */
  parts: string[];
  /** Non-200 answers, by status. */
  errors: Record<number, number>;
  requests: number;
}

/** msn and part index of `<prefix>_<msn>_<part>.mp4`. */
export function partNumbers(uri: string): [number, number] {
  const m = /_(\d+)_(\d+)\.(?:mp4|ts)$/.exec(uri);
  if (m === null) throw new Error(`not a part URI: ${uri}`);
  return [Number(m[1]), Number(m[2])];
}

/** Follows `mediaUrl` (a stream.m3u8) for `seconds`. */
export async function followLiveEdge(
  mediaUrl: string,
  seconds: number,
  signal?: AbortSignal,
): Promise<PlayerRun> {
  const run: PlayerRun = { parts: [], errors: {}, requests: 0 };
  const seen = new Set<string>();
  const end = Date.now() + seconds * 1000;
  const base = mediaUrl.slice(0, mediaUrl.lastIndexOf("/") + 1);
  let query = "";
  for (let i = 0; i < seconds * 20 && Date.now() < end; i++) {
    if (signal?.aborted) break;
    run.requests++;
    const r = await fetch(mediaUrl + query, { signal });
    const text = await r.text();
    if (r.status !== 200) {
      run.errors[r.status] = (run.errors[r.status] ?? 0) + 1;
      await new Promise((res) => setTimeout(res, 200));
      continue;
    }
    const parts = [...text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((
      m,
    ) => m[1]!);
    // Start at the newest independent part, as a player joining live does.
    if (run.parts.length === 0 && seen.size === 0) {
      const starts = [...text.matchAll(
        /#EXT-X-PART:[^\n]*URI="([^"]+)",INDEPENDENT=YES/g,
      )].map((m) => m[1]!);
      const start = starts.at(-1);
      for (const p of parts) {
        if (p === start) break;
        seen.add(p);
      }
    }
    for (const p of parts) {
      if (seen.has(p)) continue;
      seen.add(p);
      run.requests++;
      const pr = await fetch(base + p, { signal });
      await pr.arrayBuffer();
      if (pr.status === 200) run.parts.push(p);
      else run.errors[pr.status] = (run.errors[pr.status] ?? 0) + 1;
    }
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
    if (hint === undefined) continue;
    const [msn, part] = partNumbers(hint);
    query = `?_HLS_msn=${msn}&_HLS_part=${part}`;
  }
  return run;
}
