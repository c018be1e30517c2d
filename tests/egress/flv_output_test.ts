import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import {
  FlvOutput,
  type FlvOutputOptions,
  type FlvReader,
  type MediaPacket,
} from "../../lib/egress/flv_output.ts";
import { PACKET_KIND } from "../../lib/egress/packet.ts";
import { ReaderQueue } from "../../lib/egress/reader_queue.ts";
import { FlvDemuxer, flvHeader } from "../../lib/flv/file.ts";
import type { FlvTag } from "../../lib/flv/tag.ts";
import {
  audioSequenceHeader,
  audioTagBody,
  videoSequenceHeader,
  videoTagBody,
} from "../../lib/flv/tag_muxer.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { AudioTrack, VideoTrack } from "../../lib/media/track.ts";
import { ChunkDemuxer } from "../../lib/rtmp/chunk_demuxer.ts";
import { decodeData } from "../../lib/rtmp/command.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../../lib/rtmp/message.ts";
import { collect, hex } from "../_util/bytes.ts";
import { manualTick } from "../_util/manual_tick.ts";
import { step } from "../_util/steps.ts";

// H.264 Baseline 176x144 (tests/codec/h264_test.ts) and a PPS; a second SPS at 320x240.
const SPS_176 = hex("67 42 00 0b ed 05 89 c8");
const SPS_320 = hex(
  "67 42 c0 0d d9 01 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 a4 80",
);
const PPS = hex("68 ce 38 80");

function h264(sps = SPS_176): VideoTrack {
  return {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    width: sps === SPS_176 ? 176 : 320,
    height: sps === SPS_176 ? 144 : 240,
    parameterSets: { sps: [sps], pps: [PPS] },
  };
}

// ISO/IEC 14496-3 §1.6.2.1: AAC LC, 44.1 kHz (index 4), 2 channels
const AAC: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 44100,
  sampleRate: 44100,
  channels: 2,
  config: hex("12 10"),
};

function video(ms: number, keyframe = false, size = 40): Frame {
  const nal = new Uint8Array(size).fill(ms & 0xff);
  nal[0] = keyframe ? 0x65 : 0x41;
  return { trackId: 0, dts: ms * 90, pts: ms * 90, keyframe, units: [nal] };
}

function audio(ms: number): Frame {
  const dts = Math.round(ms * 44.1);
  return {
    trackId: 1,
    dts,
    pts: dts,
    keyframe: true,
    units: [new Uint8Array(8).fill(0xa0)],
  };
}

/**
 * An FlvOutput with what the hub would give it: `cached()` hands out the
 * output's own packets of every frame from the last video keyframe on,
 * as Stream keeps them (tests/hub/stream_test.ts).
 */
function output(options?: FlvOutputOptions) {
  let gop: MediaPacket[] | undefined; // nothing is cached before a video keyframe
  const out = new FlvOutput(() => [...gop ?? []], options);
  const write = (frame: Frame): readonly MediaPacket[] => {
    const packets = out.frame(frame);
    if (frame.trackId === 0 && frame.keyframe) gop = [];
    gop?.push(...packets);
    return packets;
  };
  return { out, write, gop: () => gop ?? [] };
}

interface TestReader extends FlvReader {
  ended: number;
}

function reader(
  filter: { audio?: boolean; video?: boolean } = {},
  maxBytes?: number,
) {
  const r: TestReader = {
    queue: new ReaderQueue({ maxBytes }),
    ...filter,
    ended: 0,
    onEnd() {
      r.ended++;
    },
  };
  return r;
}

/** RTMP chunks back into messages, at the chunk size the players were told. */
function rtmpMessages(chunks: Uint8Array[], chunkSize = 4096): RtmpMessage[] {
  const demuxer = new ChunkDemuxer({ chunkSize });
  const out = collect<RtmpMessage>();
  for (const c of chunks) demuxer.push(c, out);
  demuxer.end();
  return out.items;
}

/** FLV file tags back into tags, behind the header an HTTP-FLV player gets first. */
function flvTags(chunks: Uint8Array[]): FlvTag[] {
  const demuxer = new FlvDemuxer();
  const out = collect<FlvTag>();
  demuxer.push(concat([flvHeader(true, true), ...chunks]), out);
  demuxer.end();
  return out.items;
}

/** What a message or tag is, in a word, for comparing sequences. */
function kindOf(typeId: number, data: Uint8Array): string {
  if (typeId === MESSAGE_TYPE.DATA_AMF0) {
    return `data ${
      decodeData(data, false).filter((v) => typeof v === "string").join(" ")
    }`;
  }
  if (typeId === MESSAGE_TYPE.VIDEO) {
    return data[1] === 0
      ? "video config"
      : `video ${data[0]! >> 4 === 1 ? "key" : "inter"}`;
  }
  return data[1] === 0 ? "audio config" : "audio";
}

function describe(messages: RtmpMessage[]): string[] {
  return messages.map((m) => `${kindOf(m.typeId, m.payload)} @${m.timestamp}`);
}

Deno.test("FlvOutput encodes each frame once, and every reader queues the same bytes", () => {
  const { out, write } = output();
  out.tracks([h264(), AAC]);
  const readers = [reader(), reader(), reader()];
  for (const r of readers) out.addReader(r);
  for (const r of readers) r.queue.take(); // configuration
  const packets = [
    ...write(video(0, true)),
    ...write(audio(0)),
    ...write(video(40)),
    ...write(audio(23)),
  ];
  assert.equal(out.framesEncoded, 4);
  assert.equal(packets.length, 4);
  for (const r of readers) {
    const queued = r.queue.take();
    assert.equal(queued.length, 4);
    queued.forEach((bytes, i) => assert.equal(bytes, packets[i]!.bytes)); // the same object
  }
  assert.deepEqual(packets.map((p) => [p.video, p.ms, p.kind]), [
    [true, 0, PACKET_KIND.KEY],
    [false, 0, PACKET_KIND.DELTA],
    [true, 40, PACKET_KIND.DELTA],
    [false, 23, PACKET_KIND.DELTA],
  ]);
});

Deno.test("FlvOutput encodes nothing for a frame of a track it does not have", () => {
  const { out, write } = output();
  out.tracks([h264()]);
  assert.deepEqual(write(audio(0)), []);
  assert.deepEqual(write({ ...video(0, true), trackId: 7 }), []);
  assert.equal(out.framesEncoded, 0);
});

Deno.test("FlvOutput: audio is a starting point only in a stream without video", () => {
  const { out, write } = output();
  out.tracks([AAC]);
  assert.equal(write(audio(0))[0]!.kind, PACKET_KIND.KEY);
  out.tracks([h264(), AAC]);
  assert.equal(write(audio(23))[0]!.kind, PACKET_KIND.DELTA);
});

Deno.test("FlvOutput gives a new reader onMetaData and sequence headers stamped at the GOP's first packet, then the GOP", () => {
  const { out, write, gop } = output();
  out.tracks([h264(), AAC]);
  out.metadata({ encoder: "obs-output module", fps: 25 });
  write(video(960, true));
  write(video(1000, true));
  write(audio(1010));
  write(video(1040));
  const cached = gop();
  assert.equal(cached.length, 3);
  const r = reader();
  out.addReader(r);
  const queued = r.queue.take();
  const messages = rtmpMessages(queued);
  assert.deepEqual(describe(messages), [
    "data onMetaData @0", // stamped 0: ffmpeg reads later metadata as a data stream
    "video config @1000",
    "audio config @1000",
    "video key @1000",
    "audio @1010",
    "video inter @1040",
  ]);
  assert.deepEqual(messages[1]!.payload, videoSequenceHeader(h264()));
  assert.deepEqual(messages[2]!.payload, audioSequenceHeader(AAC));
  // The GOP goes out as the very packets the hub keeps: nothing is encoded again.
  queued.slice(3).forEach((bytes, i) => assert.equal(bytes, cached[i]!.bytes));
  assert.equal(out.framesEncoded, 4);
});

Deno.test("FlvOutput stamps a new reader's configuration with the latest time when no GOP is cached", () => {
  const out = new FlvOutput(() => []);
  out.tracks([h264()]);
  out.frame(video(0, true));
  out.frame(video(40));
  const r = reader();
  out.addReader(r);
  assert.deepEqual(describe(rtmpMessages(r.queue.take())), [
    "data onMetaData @0",
    "video config @40",
  ]);
});

Deno.test("FlvOutput sends onMetaData from the tracks, with the publisher's plain values", () => {
  const { out } = output();
  out.metadata({
    encoder: "Lavf59.27.100",
    width: 1920, // the publisher's word; the track knows better
    framerate: 25,
    live: true,
    nested: { dropped: true },
  });
  out.tracks([h264(), AAC]);
  const r = reader();
  out.addReader(r);
  const [meta] = rtmpMessages(r.queue.take());
  assert.equal(meta!.typeId, MESSAGE_TYPE.DATA_AMF0);
  assert.equal(meta!.chunkStreamId, CHUNK_STREAM.DATA);
  const [name, values] = decodeData(meta!.payload, false);
  assert.equal(name, "onMetaData");
  assert.deepEqual({ ...values as object }, {
    encoder: "Lavf59.27.100",
    width: 176,
    height: 144,
    framerate: 25,
    live: true,
    videocodecid: 7,
    audiocodecid: 10,
    audiosamplerate: 44100,
    audiochannels: 2,
    stereo: true,
    server: "Sluice",
  });
});

Deno.test("FlvOutput with metadataCommand @setDataFrame publishes metadata as another server expects", () => {
  const { out } = output({ metadataCommand: "@setDataFrame" });
  out.tracks([h264()]);
  const r = reader();
  out.addReader(r);
  const [meta] = rtmpMessages(r.queue.take());
  const values = decodeData(meta!.payload, false);
  assert.deepEqual(values.slice(0, 2), ["@setDataFrame", "onMetaData"]);
  assert.equal((values[2] as Record<string, unknown>).videocodecid, 7);
});

Deno.test("FlvOutput re-sends sequence headers to current readers when a track changes mid-stream", () => {
  const { out, write } = output();
  out.tracks([h264(SPS_176), AAC]);
  const r = reader();
  out.addReader(r);
  write(video(0, true));
  write(video(40));
  r.queue.take();
  out.tracks([h264(SPS_176), AAC]); // the same configuration again: nothing to send
  assert.equal(r.queue.take().length, 0);
  out.tracks([h264(SPS_320), AAC]); // a new publisher at another size
  const messages = rtmpMessages(r.queue.take());
  assert.deepEqual(describe(messages), [
    "data onMetaData @0",
    "video config @40",
    "audio config @40",
  ]);
  assert.deepEqual(messages[1]!.payload, videoSequenceHeader(h264(SPS_320)));
  const [, meta] = decodeData(messages[0]!.payload, false);
  assert.equal((meta as Record<string, unknown>).width, 320);
});

Deno.test("FlvOutput leaves out what a reader turned off with receiveAudio or receiveVideo", () => {
  const { out, write } = output();
  out.tracks([h264(), AAC]);
  write(video(0, true));
  write(audio(10));
  const deaf = reader({ audio: false });
  const blind = reader({ video: false });
  out.addReader(deaf);
  out.addReader(blind);
  write(video(40));
  write(audio(33));
  const kinds = (r: TestReader) =>
    rtmpMessages(r.queue.take()).map((m) => kindOf(m.typeId, m.payload));
  // Configuration is control: both get both sequence headers.
  assert.deepEqual(kinds(deaf), [
    "data onMetaData",
    "video config",
    "audio config",
    "video key",
    "video inter",
  ]);
  assert.deepEqual(kinds(blind), [
    "data onMetaData",
    "video config",
    "audio config",
    "audio",
    "audio",
  ]);
});

Deno.test("FlvOutput RTMP framing: chunks of chunkSize on the player's stream id, audio and video on their chunk streams", () => {
  const { out, write } = output({ chunkSize: 128, streamId: 5 });
  out.tracks([h264(), AAC]);
  const r = reader();
  out.addReader(r);
  const key = video(0x1000000, true, 300); // past 2^24 ms: the extended timestamp
  write(key);
  write(audio(0x1000000 + 3));
  const messages = rtmpMessages(r.queue.take(), 128);
  assert.deepEqual(
    messages.map((m) => [m.chunkStreamId, m.typeId, m.streamId, m.timestamp]),
    [
      [CHUNK_STREAM.DATA, MESSAGE_TYPE.DATA_AMF0, 5, 0],
      [CHUNK_STREAM.VIDEO, MESSAGE_TYPE.VIDEO, 5, 0],
      [CHUNK_STREAM.AUDIO, MESSAGE_TYPE.AUDIO, 5, 0],
      [CHUNK_STREAM.VIDEO, MESSAGE_TYPE.VIDEO, 5, 0x1000000],
      [CHUNK_STREAM.AUDIO, MESSAGE_TYPE.AUDIO, 5, 0x1000003],
    ],
  );
  assert.deepEqual(messages[3]!.payload, videoTagBody(h264(), key));
  assert.deepEqual(
    messages[4]!.payload,
    audioTagBody(AAC, audio(0x1000000 + 3)),
  );
});

Deno.test("FlvOutput FLV framing: file tags an FLV reader reads back", () => {
  const { out, write } = output({ framing: "flv" });
  out.tracks([h264(), AAC]);
  const r = reader();
  out.addReader(r);
  const frames = [video(0, true), audio(5), video(40)];
  for (const f of frames) write(f);
  const tags = flvTags(r.queue.take());
  assert.deepEqual(tags.map((t) => [t.type, t.timestamp]), [
    [18, 0],
    [9, 0],
    [8, 0],
    [9, 0],
    [8, 5],
    [9, 40],
  ]);
  assert.deepEqual(tags[1]!.data, videoSequenceHeader(h264()));
  assert.deepEqual(tags[3]!.data, videoTagBody(h264(), frames[0]!));
  assert.deepEqual(tags[4]!.data, audioTagBody(AAC, frames[1]!));
  assert.deepEqual(decodeData(tags[0]!.data, false)[0], "onMetaData");
});

Deno.test("FlvOutput reports the tracks an FLV header announces", () => {
  const out = new FlvOutput(() => []);
  assert.deepEqual([out.hasVideo, out.hasAudio], [false, false]);
  out.tracks([AAC]);
  assert.deepEqual([out.hasVideo, out.hasAudio], [false, true]);
  out.tracks([h264(), AAC]);
  assert.deepEqual([out.hasVideo, out.hasAudio], [true, true]);
});

Deno.test("FlvOutput end() calls every reader's onEnd once and forgets them", () => {
  const { out } = output();
  const a = reader();
  const b = reader();
  const gone = reader();
  out.addReader(a);
  out.addReader(b);
  out.addReader(gone);
  out.removeReader(gone);
  assert.equal(out.readers, 2);
  out.end();
  assert.deepEqual([a.ended, b.ended, gone.ended], [1, 1, 0]);
  assert.equal(out.readers, 0);
  out.end();
  assert.deepEqual([a.ended, b.ended], [1, 1]);
});

Deno.test("FlvOutput on a tick: frames reach the readers' queues at the tick, oldest first, deferred once per tick", () => {
  const tick = manualTick();
  const { out, write } = output({ tick });
  out.tracks([h264(), AAC]);
  const r = reader();
  out.addReader(r);
  r.queue.take(); // onMetaData and the sequence headers
  write(video(0, true));
  write(audio(10));
  write(video(40));
  assert.equal(r.queue.take().length, 0, "nothing before the tick");
  assert.equal(tick.waiting, 1);
  tick.run();
  assert.deepEqual(describe(rtmpMessages(r.queue.take())), [
    "video key @0",
    "audio @10",
    "video inter @40",
  ]);
  tick.run();
  assert.equal(r.queue.take().length, 0, "each frame once");
});

Deno.test("FlvOutput on a tick hands a burst over at once, before it could fill the smallest reader's budget", () => {
  const tick = manualTick();
  const { out, write } = output({ tick });
  out.tracks([h264(), AAC]);
  const roomy = reader();
  const small = reader({}, 4000); // hands over from 1000 bytes on
  out.addReader(roomy);
  out.addReader(small);
  roomy.queue.take();
  small.queue.take();
  write(video(0, true, 600));
  assert.equal(small.queue.bytes, 0, "600 bytes wait for the tick");
  write(video(40, false, 600));
  assert.ok(small.queue.bytes > 1000, "past a quarter: queued now");
  assert.equal(roomy.queue.bytes, small.queue.bytes, "for every reader");
  write(video(80, false, 100));
  assert.deepEqual(
    describe(rtmpMessages(small.queue.take())),
    ["video key @0", "video inter @40"],
    "the rest waits again",
  );
  tick.run();
  assert.deepEqual(describe(rtmpMessages(small.queue.take())), [
    "video inter @80",
  ]);
});

Deno.test("FlvOutput without readers defers nothing, and an interval of 0 queues at once", () => {
  const tick = manualTick();
  const { write } = output({ tick });
  write(video(0, true));
  assert.equal(tick.waiting, 0);
  const now = { intervalMs: 0, defer: () => assert.fail("deferred") };
  const { out: direct, write: writeDirect } = output({ tick: now });
  direct.tracks([h264(), AAC]);
  const r = reader();
  direct.addReader(r);
  r.queue.take();
  writeDirect(video(0, true));
  assert.deepEqual(describe(rtmpMessages(r.queue.take())), ["video key @0"]);
});

type Step =
  | { op: "video"; key: boolean }
  | { op: "audio" }
  | { op: "join"; audio: boolean; video: boolean; small: boolean }
  | { op: "leave"; which: number }
  | { op: "tracks"; big: boolean }
  | { op: "tick" };

const STEP: fc.Arbitrary<Step> = fc.oneof(
  step("video", 6, { key: fc.boolean() }),
  step("audio", 4),
  // small: a budget of a few frames, so bursts skip and are handed over early
  step("join", 2, {
    audio: fc.boolean(),
    video: fc.boolean(),
    small: fc.boolean(),
  }),
  step("leave", 1, { which: fc.nat(20) }),
  step("tracks", 1, { big: fc.boolean() }),
  step("tick", 3),
);

Deno.test("FlvOutput on a tick gives every reader the very bytes, in the same order, as one that queues each frame at once", () => {
  fc.assert(
    fc.property(
      fc.array(STEP, { maxLength: 60 }),
      fc.boolean(),
      (steps, end) => {
        const tick = manualTick();
        const ticked = output({ tick });
        const direct = output();
        const pairs: { a: TestReader; b: TestReader; got: Uint8Array[][] }[] =
          [];
        const joined: typeof pairs = [];
        let ms = 0;
        for (const s of [...steps, { op: "tick" } as Step]) {
          if (s.op === "video" || s.op === "audio") {
            ms += 20;
            const f = s.op === "video" ? video(ms, s.key) : audio(ms);
            ticked.write(f);
            direct.write(f);
          } else if (s.op === "join") {
            const filter = { audio: s.audio, video: s.video };
            const budget = s.small ? 600 : undefined;
            const p = {
              a: reader(filter, budget),
              b: reader(filter, budget),
              got: [[], []],
            };
            ticked.out.addReader(p.a);
            direct.out.addReader(p.b);
            joined.push(p);
            pairs.push(p);
          } else if (s.op === "leave" && joined.length > 0) {
            const [p] = joined.splice(s.which % joined.length, 1);
            ticked.out.removeReader(p!.a);
            direct.out.removeReader(p!.b);
          } else if (s.op === "tracks") {
            const tracks = [h264(s.big ? SPS_320 : SPS_176), AAC];
            ticked.out.tracks(tracks);
            direct.out.tracks(tracks);
          } else if (s.op === "tick") {
            tick.run();
          }
          if (s.op === "tick") {
            for (const p of pairs) {
              p.got[0]!.push(...p.a.queue.take());
              p.got[1]!.push(...p.b.queue.take());
            }
          }
        }
        if (end) {
          ticked.out.end();
          direct.out.end();
        }
        for (const p of pairs) {
          p.got[0]!.push(...p.a.queue.take());
          p.got[1]!.push(...p.b.queue.take());
          assert.deepEqual(concat(p.got[0]!), concat(p.got[1]!));
          assert.equal(p.a.ended, p.b.ended);
          assert.equal(p.a.queue.dropped, p.b.queue.dropped);
        }
      },
    ),
    { numRuns: 300 },
  );
});
