/** A VOD source made of frames in memory, for tests of what reads one. */
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import { VodError, type VodFile } from "../../lib/vod/folder.ts";
import type { VodCursor, VodFrame, VodSource } from "../../lib/vod/source.ts";

/** H.264 (SPS/PPS of a 320x240 Baseline stream) and AAC LC 44.1 kHz mono. */
export const FAKE_TRACKS: Track[] = [
  {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    width: 320,
    height: 240,
    parameterSets: {
      sps: [
        new Uint8Array([
          0x67,
          0x42,
          0xc0,
          0x1e,
          0xd9,
          0x00,
          0xa0,
          0x47,
          0xfe,
          0xc8,
        ]),
      ],
      pps: [new Uint8Array([0x68, 0xce, 0x3c, 0x80])],
    },
  },
  {
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 44100,
    sampleRate: 44100,
    channels: 1,
    config: new Uint8Array([0x12, 0x08]),
  },
];

/** Frames of `seconds` at 25 fps with a keyframe every `gop` frames, and AAC. */
export function fakeFrames(seconds: number, gop: number): VodFrame[] {
  const out: VodFrame[] = [];
  for (let i = 0; i < Math.round(seconds * 25); i++) {
    const key = i % gop === 0;
    out.push({
      seconds: i / 25,
      frame: {
        trackId: 0,
        dts: i * 3600,
        pts: i * 3600,
        keyframe: key,
        units: [new Uint8Array([key ? 0x65 : 0x41, 0x88, i & 0xff])],
      },
    });
  }
  for (let i = 0; i * 1024 < seconds * 44100; i++) {
    out.push({
      seconds: (i * 1024) / 44100,
      frame: {
        trackId: 1,
        dts: i * 1024,
        pts: i * 1024,
        keyframe: true,
        units: [new Uint8Array([0x21, 0x10, i & 0xff])],
      },
    });
  }
  return out.sort((a, b) => a.seconds - b.seconds);
}

/** Options of {@link fakeSource}. */
export interface FakeSourceOptions {
  /** Awaited before each frame (a slow disk). */
  delay?: () => Promise<void>;
  tracks?: Track[];
}

/** A source over `frames` (sorted by time), seeking as the real ones do. */
export function fakeSource(
  frames: VodFrame[],
  durationSeconds: number,
  options: FakeSourceOptions = {},
): VodSource & { cursors: number } {
  const tracks = options.tracks ?? FAKE_TRACKS;
  const video = tracks.find((t) => t.kind === "video");
  const keys = frames.filter((f) =>
    f.frame.trackId === video?.id && f.frame.keyframe
  );
  const source = {
    tracks,
    durationSeconds,
    leadSeconds: 0,
    format: "fake",
    cursors: 0,
    keyframes: () => Promise.resolve(keys.map((k) => k.seconds)),
    cursor(seconds: number): Promise<VodCursor> {
      source.cursors++;
      let start = seconds;
      if (video !== undefined) {
        start = keys.filter((k) => k.seconds <= seconds).at(-1)?.seconds ?? 0;
      }
      // Audio from the frame that holds `start`; video from its keyframe.
      const audioFrom =
        frames.filter((f) =>
          f.frame.trackId !== video?.id && f.seconds <= start
        ).at(-1)?.seconds ?? 0;
      const list = frames.filter((f) =>
        f.frame.trackId === video?.id
          ? f.seconds >= start
          : f.seconds >= audioFrom
      );
      let i = 0;
      return Promise.resolve({
        startSeconds: start,
        async next() {
          await options.delay?.();
          const f = list[i++];
          return f === undefined
            ? undefined
            : { seconds: f.seconds, frame: { ...f.frame } as Frame };
        },
      });
    },
    close() {},
  };
  return source;
}

/** A folder of one fake file that counts how often it is opened and released. */
export function fakeFolder(source: VodSource, version = "v1") {
  const folder = {
    opened: 0,
    released: 0,
    /** What the next open finds; `undefined`: the file is gone. */
    version: version as string | undefined,
    open(name: string): Promise<VodFile> {
      if (folder.version === undefined) {
        return Promise.reject(new VodError("not-found", `no file ${name}`));
      }
      folder.opened++;
      let done = false;
      return Promise.resolve({
        source,
        name,
        bytes: 100_000,
        version: folder.version,
        release() {
          if (!done) folder.released++;
          done = true;
        },
      });
    },
  };
  return folder;
}

/** Payload-unit starts per PID in MPEG-TS bytes: one per PES, so one per frame. */
export function pesStarts(ts: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  for (let at = 0; at + 188 <= ts.length; at += 188) {
    if (ts[at] !== 0x47) throw new Error(`no sync byte at ${at}`);
    const pid = ((ts[at + 1]! & 0x1f) << 8) | ts[at + 2]!;
    if (ts[at + 1]! & 0x40) out.set(pid, (out.get(pid) ?? 0) + 1);
  }
  return out;
}
