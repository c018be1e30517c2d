/**
 * RTSP VOD control by a scripted client: PAUSE/PLAY continuity of Range
 * and RTP-Info, Scale, and the bad input a file server must refuse.
 */
import assert from "node:assert/strict";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { makeVodFolder } from "../_util/vod_media.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

async function session(c: RawRtsp, url: string): Promise<string> {
  const d = await c.request("DESCRIBE", url, { Accept: "application/sdp" });
  assert.equal(d.status, 200);
  const body = new TextDecoder().decode(d.body);
  assert.match(body, /a=range:npt=0-10\.\d+/);
  const r = await c.request("SETUP", `${url}/trackID=0`, {
    Transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
  });
  assert.equal(r.status, 200);
  return r.headers.getOne("Session")!.split(";")[0]!;
}

/** H.264 NAL unit types in the video RTP packets (channel 0) (RFC 6184 §5.2). */
function nalTypes(
  frames: { channel: number; payload: Uint8Array }[],
): Set<number> {
  const types = new Set<number>();
  for (const f of frames) {
    if (f.channel !== 0 || f.payload.length < 14) continue;
    const cc = f.payload[0]! & 0x0f;
    const at = 12 + 4 * cc;
    const type = f.payload[at]! & 0x1f;
    if (type === 28) {
      if (f.payload[at + 1]! & 0x80) types.add(f.payload[at + 1]! & 0x1f);
    } else if (type === 24) types.add(f.payload[at + 3]! & 0x1f);
    else types.add(type);
  }
  return types;
}

function rtpInfo(v: string | undefined): { seq: number; rtptime: number } {
  const m = /seq=(\d+);rtptime=(\d+)/.exec(v ?? "");
  assert.ok(m !== null, `RTP-Info ${v}`);
  return { seq: Number(m[1]), rtptime: Number(m[2]) };
}

Deno.test(
  "VOD RTSP: PAUSE then PLAY continues Range, seq and rtptime",
  opts,
  async () => {
    const dir = await makeVodFolder(10, ["mp4"]);
    await using s = startTestSluice({ vodPath: dir });
    const port = s.sluice.rtspPort!;
    const url = `rtsp://127.0.0.1:${port}/vod/clip.mp4`;
    const c = await RawRtsp.connect(port);
    try {
      const id = await session(c, url);
      const p1 = await c.request("PLAY", url, { Session: id, Range: "npt=2-" });
      assert.equal(p1.status, 200);
      assert.match(p1.headers.getOne("Range")!, /^npt=2\.000-10\.\d+$/);
      const i1 = rtpInfo(p1.headers.getOne("RTP-Info"));
      await new Promise((r) => setTimeout(r, 1500));
      const pa = await c.request("PAUSE", url, { Session: id });
      assert.equal(pa.status, 200);
      const at = Number(/npt=([\d.]+)/.exec(pa.headers.getOne("Range")!)![1]);
      assert.ok(at > 2.5 && at < 4.5, `paused at ${at}`);
      const p2 = await c.request("PLAY", url, { Session: id });
      assert.equal(p2.status, 200);
      const from = Number(/npt=([\d.]+)/.exec(p2.headers.getOne("Range")!)![1]);
      assert.ok(
        from <= at && from >= at - 1.05,
        `resumed at ${from}, paused ${at}`,
      );
      const i2 = rtpInfo(p2.headers.getOne("RTP-Info"));
      assert.ok(i2.seq > i1.seq, "sequence numbers continue");
      assert.ok(
        ((i2.rtptime - i1.rtptime) >>> 0) < 90000 * 10,
        "rtptime continues",
      );
      await new Promise((r) => setTimeout(r, 1000));
      const normal = nalTypes(c.frames());
      assert.ok(normal.has(1), "at 1x, frames between keyframes come too");
      // Scale 2 and -1: keyframes only, with the Scale echoed
      for (const scale of ["2", "-1"]) {
        const p = await c.request("PLAY", url, {
          Session: id,
          Range: "npt=5-",
          Scale: scale,
        });
        assert.equal(p.status, 200);
        assert.equal(p.headers.getOne("Scale"), scale);
        c.frames(); // what the answer overtook
        await new Promise((r) => setTimeout(r, 1500));
        const types = nalTypes(c.frames());
        assert.ok(types.has(5), `Scale ${scale}: keyframes come`);
        assert.deepEqual(
          [...types].filter((t) => t !== 5 && t !== 6 && t !== 7 && t !== 8),
          [],
          `Scale ${scale}: nothing but keyframes (${[...types]})`,
        );
      }
    } finally {
      c.close();
    }
  },
);

Deno.test(
  "VOD RTSP: bad names, non-media, bad Range and Scale get clear answers",
  opts,
  async () => {
    const dir = await makeVodFolder(2, ["mp4"]);
    await Deno.writeTextFile(
      `${dir}/notes.mp4`,
      "this is not media\n".repeat(100),
    );
    const outside = await Deno.makeTempFile({ suffix: ".mp4" });
    await Deno.copyFile(`${dir}/clip.mp4`, outside);
    await Deno.symlink(outside, `${dir}/link.mp4`);
    // An MP4 whose boxes lie: a moov claiming 4 GiB, a huge stsz count
    const lie = new Uint8Array(64);
    new DataView(lie.buffer).setUint32(0, 0xfffffff0);
    lie.set([0x6d, 0x6f, 0x6f, 0x76], 4);
    await Deno.writeFile(`${dir}/lie.mp4`, lie);
    await using s = startTestSluice({ vodPath: dir });
    const port = s.sluice.rtspPort!;
    const base = `rtsp://127.0.0.1:${port}/vod`;
    const c = await RawRtsp.connect(port);
    try {
      for (
        const name of [
          "../etc/passwd",
          "%2e%2e/%2e%2e/etc/passwd",
          "link.mp4",
          "nothere.mp4",
        ]
      ) {
        const d = await c.request("DESCRIBE", `${base}/${name}`);
        assert.ok([400, 404].includes(d.status), `${name}: ${d.status}`);
      }
      for (const name of ["notes.mp4", "lie.mp4"]) {
        const d = await c.request("DESCRIBE", `${base}/${name}`);
        assert.equal(d.status, 415, name);
      }
      const id = await (async () => {
        const r = await c.request("SETUP", `${base}/clip.mp4/trackID=0`, {
          Transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
        });
        return r.headers.getOne("Session")!.split(";")[0]!;
      })();
      const url = `${base}/clip.mp4`;
      assert.equal(
        (await c.request("PLAY", url, { Session: id, Range: "npt=99-" }))
          .status,
        457,
      );
      assert.equal(
        (await c.request("PLAY", url, { Session: id, Range: "npt=-5-" }))
          .status,
        457,
      );
      for (const scale of ["0", "NaN", "1e9", "abc"]) {
        const p = await c.request("PLAY", url, { Session: id, Scale: scale });
        assert.ok([400, 456].includes(p.status), `Scale ${scale}: ${p.status}`);
      }
      const ok = await c.request("PLAY", url, { Session: id });
      assert.equal(ok.status, 200, "the session still plays");
    } finally {
      c.close();
      await Deno.remove(outside);
    }
  },
);
