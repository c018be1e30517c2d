/**
 * The ingest adapters (RtmpInput, RtpInput) as byte stages, for the stage
 * contract: a framer cuts the bytes into the units an ingest takes, and a
 * recording publisher turns what the ingest hands the hub into output items.
 */
import type { Publisher } from "../../lib/hub/hub.ts";
import type { Metadata } from "../../lib/hub/stream.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import type { Sink, StageCore } from "../../lib/stage.ts";

/** What an ingest did to its publisher, in order. */
export type PublisherEvent =
  | { kind: "tracks"; tracks: Track[] }
  | { kind: "track"; track: Track }
  | { kind: "metadata"; metadata: Metadata | undefined }
  | { kind: "frame"; frame: Frame };

/** The publisher calls an ingest makes. */
export type IngestPublisher = Pick<
  Publisher,
  "setTrack" | "setTracks" | "setMetadata" | "writeFrame"
>;

/** A publisher that records every call as a {@link PublisherEvent}. */
export class RecordingPublisher implements IngestPublisher {
  /** Events not yet handed to a sink. */
  pending: PublisherEvent[] = [];
  /** Where events go once a push has given a sink; before that they wait. */
  sink: Sink<PublisherEvent> | undefined;

  setTrack(track: Track): void {
    this.#emit({ kind: "track", track });
  }
  setTracks(tracks: readonly Track[]): void {
    this.#emit({ kind: "tracks", tracks: [...tracks] });
  }
  setMetadata(metadata: Metadata | undefined): void {
    this.#emit({ kind: "metadata", metadata });
  }
  writeFrame(frame: Frame): void {
    this.#emit({ kind: "frame", frame });
  }

  /** Hands what waited (calls made before the first push, in a constructor) to `sink`. */
  flush(sink: Sink<PublisherEvent>): void {
    for (const e of this.pending) sink.enqueue(e);
    this.pending = [];
  }

  #emit(e: PublisherEvent): void {
    if (this.sink === undefined) this.pending.push(e);
    else this.sink.enqueue(e);
  }
}

/**
 * A byte stage of an ingest: `framer` cuts the bytes into units (RTMP
 * messages, interleaved frames) and `feed` hands each to an ingest built by
 * `makeIngest` on a {@link RecordingPublisher}. Its output is what the
 * ingest did to the publisher.
 */
export function ingestStage<U, I>(
  framer: StageCore<Uint8Array, U>,
  makeIngest: (publisher: RecordingPublisher) => I,
  feed: (ingest: I, unit: U) => void,
): StageCore<Uint8Array, PublisherEvent> {
  const publisher = new RecordingPublisher();
  const ingest = makeIngest(publisher);
  const units: Sink<U> = { enqueue: (u) => feed(ingest, u) };
  const run = (out: Sink<PublisherEvent>, step: () => void) => {
    publisher.flush(out);
    publisher.sink = out;
    try {
      step();
    } finally {
      publisher.sink = undefined;
    }
  };
  return {
    push: (chunk, out) => run(out, () => framer.push(chunk, units)),
    end: (out) => run(out, () => framer.end?.(units)),
  };
}

/** The events of `kind`, unwrapped. */
export function eventsOf<K extends PublisherEvent["kind"]>(
  events: readonly PublisherEvent[],
  kind: K,
): Extract<PublisherEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<PublisherEvent, { kind: K }> =>
    e.kind === kind
  );
}

/** The frames among `events`. */
export function framesOf(events: readonly PublisherEvent[]): Frame[] {
  return eventsOf(events, "frame").map((e) => e.frame);
}
