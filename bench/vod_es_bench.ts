// The raw elementary stream index: Annex B scan and access unit index over
// 10 MB of x265 (tests/testdata/codec/h265_352x288.h265 repeated), read in
// 1 MiB pieces as the VOD folder reads a file.
import { EsIndexer } from "../lib/vod/es_index.ts";
import { AnnexBScanner, type NalHead } from "../lib/vod/es_scan.ts";
import { chunksOf } from "./_util.ts";

const clip = Deno.readFileSync(
  new URL("../tests/testdata/codec/h265_352x288.h265", import.meta.url),
);
const copies = Math.ceil(10e6 / clip.length);
const stream = new Uint8Array(copies * clip.length);
for (let i = 0; i < copies; i++) stream.set(clip, i * clip.length);
const reads = chunksOf(stream, 1024 * 1024);

const group = `ES index ${(stream.length / 1e6).toFixed(1)} MB`;
Deno.bench({ group, name: "scanner", baseline: true }, () => {
  const s = new AnnexBScanner();
  const none = (_: NalHead) => {};
  for (const r of reads) s.push(r, none);
  s.end(none);
});
Deno.bench({ group, name: "scanner + indexer" }, () => {
  const s = new AnnexBScanner();
  const ix = new EsIndexer("H265");
  const push = (n: NalHead) => ix.push(n);
  for (const r of reads) s.push(r, push);
  s.end(push);
  ix.finish(s.position);
});
