/** The FLV fixture the server tests publish: a real ffmpeg file, 320x240 H.264 with B-frames + AAC, 2 s. */
import type { RtmpClient } from "../../lib/client/rtmp.ts";
import { FlvDemuxer } from "../../lib/flv/file.ts";
import type { FlvTag } from "../../lib/flv/tag.ts";
import { MESSAGE_TYPE } from "../../lib/rtmp/message.ts";

/** The fixture's tags. */
export async function fixtureTags(): Promise<FlvTag[]> {
  const bytes = await Deno.readFile(
    new URL("../testdata/flv/h264_aac.flv", import.meta.url),
  );
  const tags: FlvTag[] = [];
  new FlvDemuxer().push(bytes, { enqueue: (t) => tags.push(t) });
  return tags;
}

/**
 * Publishes `tags` in a loop, `loops` times, as fast as the socket takes
 * them (or resting `paceMs` after each loop), with timestamps running on;
 * returns the coded video frames sent.
 */
export async function publishLoops(
  client: RtmpClient,
  tags: FlvTag[],
  loops: number,
  paceMs = 0,
): Promise<number> {
  const span = tags.at(-1)!.timestamp + 40;
  let videos = 0;
  for (let i = 0; i < loops; i++) {
    for (const t of tags) {
      if (t.type === 18) continue;
      await client.sendMedia(t.type, t.timestamp + i * span, t.data);
      if (t.type === MESSAGE_TYPE.VIDEO && t.data[1] === 1) videos++; // AVC NALU, not a sequence header or end
    }
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
  }
  return videos;
}
