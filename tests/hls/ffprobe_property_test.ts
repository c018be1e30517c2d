/**
 * Property: random frame sequences (sizes, steps, keyframes, B-frame
 * offsets, audio interleaving) always make HLS segments that ffprobe
 * demuxes without an error of the container, with rising DTS (no frame
 * twice); a sample of runs, since each spawns ffprobe. The frames are not
 * real pictures, so the H.264 decoder's own complaints are ignored.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { HlsSegmenter } from "../../lib/hls/segmenter.ts";
import type { HlsVariant } from "../../lib/hls/part_writer.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import { hex } from "../_util/bytes.ts";
import { requireTool } from "../_util/tools.ts";

const TRACKS: Track[] = [
  {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    parameterSets: {
      sps: [hex("67 42c01e d9 00 a0 47 fe c8")],
      pps: [hex("68 ce 3c 80")],
    },
  },
  {
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
    config: hex("11 90"),
  },
];

async function probe(bytes: Uint8Array) {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeFile(file, bytes);
    const out = await new Deno.Command("ffprobe", {
      args: [
        ...["-v", "error", "-show_entries", "packet=codec_type,dts"],
        ...["-of", "csv=p=0", file],
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n")
      .filter((l) => l !== "");
    return {
      code: out.code,
      stderr: new TextDecoder().decode(out.stderr),
      packets: lines.map((l) => l.split(",")),
    };
  } finally {
    await Deno.remove(file);
  }
}

for (
  const variant of ["lowLatency", "mpegts"] as const satisfies HlsVariant[]
) {
  Deno.test(
    `HlsSegmenter ${variant}: random frames make segments ffprobe demuxes with rising DTS`,
    { ignore: requireTool("ffprobe") },
    async () => {
      let probed = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              size: fc.integer({ min: 2, max: 4000 }),
              step: fc.integer({ min: 1, max: 7200 }),
              key: fc.boolean(),
              bframe: fc.integer({ min: 0, max: 2 }),
              audio: fc.integer({ min: 0, max: 3 }),
            }),
            { minLength: 30, maxLength: 120 },
          ),
          async (specs) => {
            const s = new HlsSegmenter({
              variant,
              prefix: "p",
              segmentDurationMs: 300,
              partDurationMs: 100,
              segmentCount: 100,
            });
            s.setTracks(TRACKS);
            let dts = 0;
            let audioDts = 0;
            const frames: Frame[] = [];
            specs.forEach((f, i) => {
              const key = i === 0 || f.key;
              const unit = new Uint8Array(f.size).fill(0x5a);
              unit[0] = key ? 0x65 : 0x41;
              // first_mb_in_slice 0: each frame starts a picture, as real
              // slices do. ffprobe's H.264 parser (MPEG-TS) finds picture
              // ends by this bit; without it, it merged a one-byte frame into
              // its neighbour and gave two packets the same DTS.
              unit[1] = 0x88;
              frames.push({
                trackId: 0,
                dts,
                pts: dts + f.bframe * 3600,
                keyframe: key,
                units: [unit],
              });
              for (let a = 0; a < f.audio; a++) {
                frames.push({
                  trackId: 1,
                  dts: audioDts,
                  pts: audioDts,
                  keyframe: true,
                  units: [new Uint8Array(20).fill(0x21)],
                });
                audioDts += 1024;
              }
              dts += f.step;
            });
            for (const f of frames) s.frame(f, 0);
            // What the window holds, init first: one file ffprobe reads.
            const chunks: Uint8Array[] = [];
            const init = s.init(1);
            if (init !== undefined) chunks.push(init);
            for (let msn = 0; msn <= s.lastMsn; msn++) {
              const seg = s.segment(msn);
              if (seg !== undefined) chunks.push(seg);
            }
            const total = chunks.reduce((n, c) => n + c.length, 0);
            if (total === (init?.length ?? 0)) return; // no complete segment
            const file = new Uint8Array(total);
            let at = 0;
            for (const c of chunks) {
              file.set(c, at);
              at += c.length;
            }
            const r = await probe(file);
            probed++;
            assert.equal(r.code, 0, r.stderr);
            const videoDts = r.packets.filter((p) => p[0] === "video").map((
              p,
            ) => Number(p[1]));
            assert.ok(videoDts.length > 0, r.stderr);
            for (let i = 1; i < videoDts.length; i++) {
              assert.ok(videoDts[i]! > videoDts[i - 1]!, `${videoDts}`);
            }
            const container = r.stderr.split("\n").filter((l) =>
              !l.startsWith("[h264 @")
            ).join("\n");
            assert.doesNotMatch(container, /invalid|error|non.monoton/i);
          },
        ),
        { numRuns: 8 },
      );
      assert.ok(probed >= 4, `only ${probed} runs made a complete segment`);
    },
  );
}
