/** Reads the boxes Sluice's MP4 writer produces, for the tests: a tree of types, sizes and payloads. */
import assert from "node:assert/strict";

/** A parsed box. */
export interface Box {
  type: string;
  /** Offset of the box in the buffer parsed. */
  offset: number;
  size: number;
  /** The payload after the 8-byte header (or 16 with largesize). */
  payload: Uint8Array;
  children: Box[];
}

/** Boxes that hold only boxes. */
const CONTAINERS = new Set([
  "moov",
  "trak",
  "mdia",
  "minf",
  "dinf",
  "stbl",
  "mvex",
  "moof",
  "traf",
  "edts",
]);
/** Sample entries: fixed fields, then boxes. */
const ENTRY_FIELDS: Record<string, number> = {
  avc1: 78,
  hvc1: 78,
  av01: 78,
  vp09: 78,
  mp4a: 28,
  Opus: 28,
  ulaw: 28,
  alaw: 28,
};

/** The boxes of `bytes` from `offset`, each asserted to fit its parent exactly. */
export function parseBoxes(bytes: Uint8Array, base = 0): Box[] {
  const out: Box[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    assert.ok(bytes.length - at >= 8, `box header at ${base + at} cut short`);
    let size = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    let header = 8;
    if (size === 1) {
      size = view.getUint32(at + 8) * 2 ** 32 + view.getUint32(at + 12);
      header = 16;
    }
    assert.ok(
      size >= header && at + size <= bytes.length,
      `box ${type} of ${size} bytes at ${base + at} overruns its parent`,
    );
    const payload = bytes.subarray(at + header, at + size);
    let children: Box[] = [];
    if (CONTAINERS.has(type)) {
      children = parseBoxes(payload, base + at + header);
    } else if (type === "stsd") {
      children = parseBoxes(payload.subarray(8), base + at + header + 8);
    } else if (type in ENTRY_FIELDS) {
      children = parseBoxes(
        payload.subarray(ENTRY_FIELDS[type]!),
        base + at + header + ENTRY_FIELDS[type]!,
      );
    }
    out.push({ type, offset: base + at, size, payload, children });
    at += size;
  }
  return out;
}

/** The first box along `path` ("moov/trak/mdia"), asserted to exist. */
export function find(boxes: Box[], path: string): Box {
  let list = boxes;
  let found: Box | undefined;
  for (const type of path.split("/")) {
    found = list.find((b) => b.type === type);
    assert.ok(found, `no ${type} in ${path}`);
    list = found.children;
  }
  return found!;
}

/** Every box along `path` (the last step may match several). */
export function findAll(boxes: Box[], path: string): Box[] {
  const steps = path.split("/");
  let list = boxes;
  for (const type of steps.slice(0, -1)) list = find(list, type).children;
  return list.filter((b) => b.type === steps.at(-1));
}

/** A DataView of a box payload. */
export function viewOf(b: Box): DataView {
  return new DataView(
    b.payload.buffer,
    b.payload.byteOffset,
    b.payload.byteLength,
  );
}

/** What a `trun` (version 1, every per-sample field) says. */
export interface Trun {
  dataOffset: number;
  samples: {
    duration: number;
    size: number;
    flags: number;
    compositionOffset: number;
  }[];
}

/** Reads a trun written with flags 0x000f01. */
export function readTrun(b: Box): Trun {
  const v = viewOf(b);
  assert.equal(v.getUint32(0), 0x01000f01, "trun version 1, flags 0xf01");
  const n = v.getUint32(4);
  const samples = [];
  for (let i = 0; i < n; i++) {
    const at = 12 + 16 * i;
    samples.push({
      duration: v.getUint32(at),
      size: v.getUint32(at + 4),
      flags: v.getUint32(at + 8),
      compositionOffset: v.getInt32(at + 12),
    });
  }
  assert.equal(b.payload.length, 12 + 16 * n, "trun size");
  return { dataOffset: v.getInt32(8), samples };
}

/** tfdt version 1's baseMediaDecodeTime. */
export function readTfdt(b: Box): number {
  const v = viewOf(b);
  assert.equal(v.getUint8(0), 1, "tfdt version 1");
  return v.getUint32(4) * 2 ** 32 + v.getUint32(8);
}
