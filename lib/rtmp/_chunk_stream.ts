/**
 * What the RTMP chunk demuxer keeps per chunk stream id (RTMP 1.0 §5.3.1.2:
 * later headers leave fields out) and how a message's chunk data is held
 * across reads. Private to `rtmp/`.
 *
 * @module
 */

/** What one chunk stream id remembers (§5.3.1.2: later headers leave fields out). */
export interface ChunkStream {
  readonly id: number;
  /** Absolute timestamp of the latest message on this id. */
  timestamp: number;
  /** What a type-3 chunk starting a message adds: the last type 1/2 delta, or the type 0 timestamp. */
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** The latest type 0/1/2 header used the extended timestamp field. */
  extended: boolean;
  /** A message is partly received. */
  active: boolean;
  received: number;
  /** The extended timestamp value the message's first chunk carried. */
  firstExtended: number;
  /** Chunk data of the message from the current read: views of its input. */
  views: Uint8Array[];
  /** Chunk data from earlier reads, copied; grows by doubling, up to the message length. */
  spill: Uint8Array | undefined;
  spilled: number;
  /** The last push that added views. */
  pushId: number;
}

/** A chunk stream id not seen before. */
export function newStream(id: number): ChunkStream {
  return {
    id,
    timestamp: 0,
    delta: 0,
    length: 0,
    typeId: 0,
    streamId: 0,
    extended: false,
    active: false,
    received: 0,
    firstExtended: 0,
    views: [],
    spill: undefined,
    spilled: 0,
    pushId: 0,
  };
}

/** Copies the message's views into its spill buffer. */
export function spill(stream: ChunkStream): void {
  let need = stream.spilled;
  for (const v of stream.views) need += v.length;
  let buffer = stream.spill;
  if (buffer === undefined || buffer.length < need) {
    const doubled = Math.max(need, 2 * (buffer?.length ?? 0), 4096);
    const grown = new Uint8Array(Math.min(stream.length, doubled));
    if (buffer !== undefined) grown.set(buffer.subarray(0, stream.spilled));
    stream.spill = buffer = grown;
  }
  for (const v of stream.views) {
    buffer.set(v, stream.spilled);
    stream.spilled += v.length;
  }
  stream.views.length = 0;
}

/** Forgets the message in progress (completed or aborted). */
export function drop(stream: ChunkStream): void {
  stream.active = false;
  stream.received = 0;
  stream.views.length = 0;
  stream.spill = undefined;
  stream.spilled = 0;
}
