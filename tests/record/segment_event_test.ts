/** A running Sluice turns each completed recording segment into a segment.complete event. */
import assert from "node:assert/strict";
import type { SluiceEvent } from "../../lib/events/events.ts";
import { aacTrack, h264Track } from "../mp4/_tracks.ts";
import { startTestSluice } from "../_util/sluice.ts";

Deno.test("Sluice emits segment.complete on the hub's bus for every closed segment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using s = startTestSluice({
      record: true,
      recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
      recordSegmentDuration: "1s",
      recordPartDuration: "500ms",
      paths: { cam: {} },
    });
    await s.sluice.recorderReady;
    const events: SluiceEvent[] = [];
    s.sluice.hub.events.listen((e) => void events.push(e));
    const p = s.sluice.hub.publish("cam");
    p.setTracks([h264Track("h264_1920x1080.h264", 0), aacTrack(1)]);
    for (let i = 0; i < 75; i++) {
      const unit = new Uint8Array(100).fill(i & 0xff);
      unit[0] = i % 25 === 0 ? 0x65 : 0x41;
      p.writeFrame({
        trackId: 0,
        dts: i * 3600,
        pts: i * 3600,
        keyframe: i % 25 === 0,
        units: [unit],
      });
    }
    p.close();
    await s.close(); // ends the stream: the last segment closes
    const done = events.filter((e): e is SluiceEvent<"segment.complete"> =>
      e.type === "segment.complete"
    );
    const files = s.sluice.recorder.index.segments("cam").map((e) => e.file);
    assert.equal(done.length, 3);
    assert.deepEqual(done.map((e) => e.data.file).sort(), files.sort());
    for (const e of done) {
      assert.equal(e.data.path, "cam");
      assert.equal(e.data.bytes, (await Deno.stat(e.data.file)).size);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
