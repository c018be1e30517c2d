// bench/sdp_bench.ts — parseSdp and stringifySdp over real descriptions
// (ffmpeg's ANNOUNCE, a Hikvision NVR, Axis), one description per call.
import { parseSdp, stringifySdp } from "../lib/sdp/mod.ts";

const dir = new URL("../tests/testdata/sdp/", import.meta.url);
for (
  const name of ["ffmpeg_announce.sdp", "hikvision_nvr.sdp", "axis_vapix.sdp"]
) {
  const text = Deno.readTextFileSync(new URL(name, dir));
  const bytes = new TextEncoder().encode(text);
  const sdp = parseSdp(text);
  const group = `SDP ${name} (${bytes.length} B)`;
  Deno.bench({ group, name: "parseSdp(string)", baseline: true }, () => {
    parseSdp(text);
  });
  Deno.bench({ group, name: "parseSdp(bytes)" }, () => {
    parseSdp(bytes);
  });
  Deno.bench({ group, name: "stringifySdp" }, () => {
    stringifySdp(sdp);
  });
}
