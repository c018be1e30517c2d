/**
 * A structural check of an ISO base media file (MP4, MOV, fMP4) before the
 * demuxer trusts it: box sizes against their parent and the file (ISO/IEC
 * 14496-12 §4.2), sample table entry counts against the bytes that hold
 * them (§8.6.1.2, §8.7.3 – §8.7.5), `stts` sample totals and `stsc`
 * samples per chunk against `stsz`, and chunk offsets inside the file and
 * outside the `moov`. A file that
 * lies gets a {@link VodFormatError} naming the lie, before any table is
 * read by its claimed count.
 *
 * @module
 */

import { VodFormatError } from "./source.ts";

/** Largest `moov` read whole for the check (a long film's is a few MiB). */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** Top-level boxes walked at most (an hour of 1-frame fragments is 2 × 90 000). */
const MAX_TOP_BOXES = 1_000_000;
/** Container nesting followed at most. */
const MAX_DEPTH = 12;
/** Boxes of `moov` walked into (§8.2 – §8.8). */
const CONTAINERS = new Set([
  "moov",
  "trak",
  "mdia",
  "minf",
  "stbl",
  "edts",
  "dinf",
  "mvex",
]);
/** Box types that open an ISO BMFF or QuickTime file. */
const TOP_LEVEL = new Set([
  "ftyp",
  "moov",
  "mdat",
  "free",
  "skip",
  "wide",
  "pnot",
  "styp",
  "sidx",
  "moof",
]);
/** Bytes per entry of the tables whose FullBox starts with entry_count. */
const ENTRY_BYTES: Record<string, number> = {
  stts: 8,
  ctts: 8,
  stsc: 12,
  stss: 4,
  stco: 4,
  co64: 8,
};

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** Whether the first 8 bytes of a file look like an ISO BMFF box header. */
export function looksLikeMp4(head: Uint8Array): boolean {
  return head.length >= 8 && TOP_LEVEL.has(typeOf(head, 4));
}

/**
 * Walks the top-level boxes of a file of `size` bytes and checks its
 * `moov`; throws {@link VodFormatError} with the reason when a size,
 * count or offset lies.
 */
export async function checkMp4Boxes(read: ReadAt, size: number): Promise<void> {
  let pos = 0;
  let moov: { at: number; size: number } | undefined;
  for (let n = 0; pos < size; n++) {
    if (n >= MAX_TOP_BOXES) throw lie(`more than ${MAX_TOP_BOXES} boxes`);
    const head = await read(pos, 16);
    const h = boxHeader(head, 0, size - pos);
    if (h === undefined) throw lie(`box header cut at byte ${pos}`);
    const where = `box "${h.type}" at byte ${pos}`;
    if (h.size === 0) {
      if (moov !== undefined) break; // the rest of the file, the last box
      throw lie(`${where} has size 0 (to the end) before any moov`);
    }
    if (h.size < h.headerSize) {
      throw lie(`${where} of ${h.size} bytes is smaller than its header`);
    }
    if (h.size > size - pos) {
      // a cut recording's last mdat or fragment: what came before stands
      if (moov !== undefined && h.type !== "moov") break;
      throw lie(`${where} of ${h.size} bytes runs past the end (${size})`);
    }
    if (h.type === "moov") {
      if (h.size > MAX_MOOV_BYTES) throw lie(`${where} is ${h.size} bytes`);
      moov = { at: pos, size: h.size };
    }
    pos += h.size;
  }
  if (moov === undefined) throw lie("no moov box");
  const bytes = await read(moov.at, moov.size);
  if (bytes.length < moov.size) throw lie("moov box cut short");
  checkMovieBox(bytes, moov.at, size);
}

/**
 * Checks a whole `moov` box found at byte `at` of a file of `fileSize`
 * bytes: every child inside its parent, every sample table's entries
 * inside the table, every chunk offset inside the file and outside the
 * `moov`.
 */
export function checkMovieBox(
  moov: Uint8Array,
  at: number,
  fileSize: number,
): void {
  const h = boxHeader(moov, 0, moov.length);
  if (h === undefined || h.type !== "moov" || h.size !== moov.length) {
    throw lie("moov box header does not match its bytes");
  }
  const ctx: Check = { moov, at, fileSize, samples: 0, timed: 0, perChunk: 0 };
  walk(ctx, h.headerSize, moov.length, "moov", 1);
}

interface Check {
  moov: Uint8Array;
  at: number;
  fileSize: number;
  /** stsz sample_count of the current track. */
  samples: number;
  /** Sum of stts sample_count of the current track. */
  timed: number;
  /** Largest stsc samples_per_chunk of the current track. */
  perChunk: number;
}

interface BoxHeader {
  type: string;
  size: number;
  headerSize: number;
}

function walk(
  c: Check,
  from: number,
  to: number,
  parent: string,
  depth: number,
): void {
  if (depth > MAX_DEPTH) throw lie(`boxes nested deeper than ${MAX_DEPTH}`);
  let pos = from;
  while (pos < to) {
    const h = boxHeader(c.moov, pos, to - pos);
    const where = () => `box "${h?.type}" in "${parent}"`;
    if (h === undefined) throw lie(`a box header in "${parent}" is cut`);
    if (h.size === 0 || h.size < h.headerSize) {
      throw lie(`${where()} has size ${h.size}`);
    }
    if (h.size > to - pos) {
      throw lie(`${where()} of ${h.size} bytes overruns its parent`);
    }
    const body = c.moov.subarray(pos + h.headerSize, pos + h.size);
    if (h.type === "trak") {
      c.samples = 0;
      c.timed = 0;
      c.perChunk = 0;
    }
    if (CONTAINERS.has(h.type)) {
      walk(c, pos + h.headerSize, pos + h.size, h.type, depth + 1);
    } else table(c, h.type, body);
    if (h.type === "trak" && c.timed > c.samples) {
      throw lie(`stts times ${c.timed} samples but stsz has ${c.samples}`);
    }
    // a demuxer walks every sample a chunk claims: 2^24 of them take seconds
    if (h.type === "trak" && c.perChunk > c.samples) {
      throw lie(
        `stsc puts ${c.perChunk} samples in a chunk; stsz has ${c.samples}`,
      );
    }
    pos += h.size;
  }
}

/** Checks one sample table's counts against its bytes (FullBox bodies). */
function table(c: Check, type: string, body: Uint8Array): void {
  const per = ENTRY_BYTES[type];
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (per !== undefined) {
    const count = body.length >= 8 ? v.getUint32(4) : 0;
    if (body.length < 8 || count > (body.length - 8) / per) {
      throw lie(`${type} claims ${count} entries in ${body.length} bytes`);
    }
    for (let i = 0; i < count; i++) {
      const e = 8 + i * per;
      if (type === "stts") c.timed += v.getUint32(e);
      if (type === "stsc") {
        c.perChunk = Math.max(c.perChunk, v.getUint32(e + 4));
      }
      if (type === "stco" || type === "co64") {
        const offset = type === "stco"
          ? v.getUint32(e)
          : v.getUint32(e) * 2 ** 32 + v.getUint32(e + 4);
        chunkOffset(c, offset, type);
      }
    }
  } else if (type === "stsz") {
    const fixed = body.length >= 12 ? v.getUint32(4) : 0;
    const count = body.length >= 12 ? v.getUint32(8) : 0;
    if (body.length < 12 || (fixed === 0 && count > (body.length - 12) / 4)) {
      throw lie(`stsz claims ${count} samples in ${body.length} bytes`);
    }
    if (fixed * count > c.fileSize) {
      throw lie(`stsz claims ${count} samples of ${fixed} bytes`);
    }
    c.samples = count;
  } else if (type === "stz2") {
    const field = body.length >= 12 ? v.getUint8(7) : 0;
    const count = body.length >= 12 ? v.getUint32(8) : 0;
    if (![4, 8, 16].includes(field) || count > (body.length - 12) * 8 / field) {
      throw lie(`stz2 claims ${count} samples in ${body.length} bytes`);
    }
    c.samples = count;
  }
}

function chunkOffset(c: Check, offset: number, type: string): void {
  if (offset >= c.fileSize) {
    throw lie(`${type} points at byte ${offset}, past the end (${c.fileSize})`);
  }
  if (offset >= c.at && offset < c.at + c.moov.length) {
    throw lie(`${type} points at byte ${offset}, inside the moov`);
  }
}

/**
 * A box header at `pos` with at most `room` bytes for the box: 32-bit
 * size and type, or size 1 and a 64-bit size (§4.2); `undefined` when the
 * header itself does not fit.
 */
function boxHeader(
  b: Uint8Array,
  pos: number,
  room: number,
): BoxHeader | undefined {
  if (room < 8 || b.length - pos < 8) return undefined;
  const v = new DataView(b.buffer, b.byteOffset + pos, b.length - pos);
  const type = typeOf(b, pos + 4);
  const size32 = v.getUint32(0);
  if (size32 !== 1) return { type, size: size32, headerSize: 8 };
  if (room < 16 || b.length - pos < 16) return undefined;
  const hi = v.getUint32(8);
  // past 2^53 no file is that large: the lie is caught as "runs past"
  const size = hi >= 2 ** 21 ? Number.MAX_SAFE_INTEGER : hi * 2 ** 32 +
    v.getUint32(12);
  return { type, size, headerSize: 16 };
}

function typeOf(b: Uint8Array, at: number): string {
  return String.fromCharCode(
    b[at] ?? 0,
    b[at + 1] ?? 0,
    b[at + 2] ?? 0,
    b[at + 3] ?? 0,
  );
}

function lie(detail: string): VodFormatError {
  return new VodFormatError(`not a sound MP4 file: ${detail}`);
}
