/** A manual clock and a recording output for hub tests. */
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import type { HubTimers, TimerHandle } from "../../lib/hub/hub.ts";
import type { Metadata, StreamOutput } from "../../lib/hub/stream.ts";

export class FakeTimers implements HubTimers {
  now = 0;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id as unknown as TimerHandle;
  }
  clearTimeout(id: TimerHandle): void {
    this.#timers.delete(id as unknown as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.#timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now && this.#timers.delete(id)) t.fn();
    }
  }
  get pending(): number {
    return this.#timers.size;
  }
}

export class RecordingOutput implements StreamOutput {
  events: string[] = [];
  frames: Frame[] = [];
  readers = 1;
  tracks(tracks: readonly Track[]): void {
    this.events.push(`tracks ${tracks.map((t) => t.codec).join(",")}`);
  }
  metadata(metadata: Metadata | undefined): void {
    this.events.push(
      `metadata ${
        metadata === undefined ? "none" : Object.keys(metadata).join(",")
      }`,
    );
  }
  frame(frame: Frame): readonly string[] {
    this.frames.push(frame);
    const event = `frame ${frame.trackId} ${frame.dts}${
      frame.keyframe ? " key" : ""
    }`;
    this.events.push(event);
    return [event];
  }
  end(): void {
    this.events.push("end");
  }
}

export const H264: Track = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  parameterSets: {
    sps: [new Uint8Array([0x67])],
    pps: [new Uint8Array([0x68])],
  },
};
export const AAC: Track = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 48000,
  sampleRate: 48000,
  channels: 2,
  config: new Uint8Array([0x11, 0x90]),
};

export function video(dts: number, keyframe = false, size = 100): Frame {
  return { trackId: 0, dts, pts: dts, keyframe, units: [new Uint8Array(size)] };
}
export function audio(dts: number, size = 10): Frame {
  return {
    trackId: 1,
    dts,
    pts: dts,
    keyframe: true,
    units: [new Uint8Array(size)],
  };
}
