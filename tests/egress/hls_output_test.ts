import assert from "node:assert/strict";
import { HlsOutput } from "../../lib/egress/hls_output.ts";
import { HlsSegmenter } from "../../lib/hls/segmenter.ts";
import { Stream } from "../../lib/hub/stream.ts";
import { H264, video } from "../hub/_fake.ts";

Deno.test("HlsOutput feeds the segmenter while attached and counts as one reader", () => {
  const segmenter = new HlsSegmenter({ prefix: "p" });
  const stream = new Stream("live/h");
  stream.beginPublisher();
  stream.setTrack(H264);
  const out = stream.output(
    "hls",
    () => new HlsOutput(segmenter, { now: () => 0 }),
  );
  assert.equal(stream.readers, 1);
  assert.deepEqual(segmenter.tracks.map((t) => t.codec), ["H264"]);
  out.detach();
  assert.equal(stream.readers, 0);
  stream.pruneOutputs();
  stream.writeFrame(video(0, true));
  assert.equal(segmenter.ready, false);
});

Deno.test("HlsOutput stops on a segmenter error; the stream goes on", () => {
  const errors: unknown[] = [];
  const segmenter = new HlsSegmenter({ prefix: "p" });
  segmenter.frame = () => {
    throw new RangeError("boom");
  };
  const stream = new Stream("live/e");
  stream.beginPublisher();
  stream.setTrack(H264);
  const out = stream.output(
    "hls",
    () => new HlsOutput(segmenter, { onError: (e) => errors.push(e) }),
  );
  stream.writeFrame(video(0, true));
  stream.writeFrame(video(3600));
  assert.equal(errors.length, 1);
  assert.equal(out.attached, false);
  assert.equal(stream.stats.framesIn, 2);
});
