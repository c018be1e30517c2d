/**
 * The top-level keys of recording: container, file pattern, part and
 * segment lengths, retention, fsync, and playback of recordings over HTTP.
 *
 * @module
 */
import {
  Bool,
  Duration,
  Fsync,
  OneOf,
  RecordPath,
  setting,
} from "./_scalars.ts";

/** Recording and playback of recordings. */
export const RECORD_SETTINGS = {
  /** Record every path (a path's own `record` wins). */
  record: setting(Bool, false, "record every path (paths may set their own)"),
  /** Container of recordings: fragmented MP4 (CMAF) or FLV. */
  recordFormat: setting(
    OneOf(["fmp4", "flv"] as const),
    "fmp4",
    "container of recordings: fmp4 or flv",
  ),
  /**
   * Where segments go: `%path` and the time fields `%Y %m %d %H %M %S %f`
   * (UTC; `%f` microseconds) are filled in, the extension is added. The
   * folders before the first field are the recordings root, which no
   * segment ever leaves.
   */
  recordPath: setting(
    RecordPath,
    "./recordings/%path/%Y-%m-%d_%H-%M-%S-%f",
    "segment file pattern: %path and %Y %m %d %H %M %S %f (UTC)",
  ),
  /** Media written at once: one fragment (fMP4) or one write (FLV). */
  recordPartDuration: setting(
    Duration,
    "1s",
    "media written at once (one fMP4 fragment)",
  ),
  /** Length of a segment file; the cut waits for a keyframe. */
  recordSegmentDuration: setting(
    Duration,
    "1h",
    "length of a segment file, cut on a keyframe",
  ),
  /** Segments older than this are deleted; 0 keeps them. */
  recordDeleteAfter: setting(
    Duration,
    "24h",
    "delete segments older than this (0 keeps them)",
  ),
  /** `false`, `"part"` (fsync every part) or N (fsync every N parts). */
  recordFsync: setting(
    Fsync,
    false,
    'fsync recordings: false, "part" or every N parts',
  ),
  /** Serve recordings at `/playback/list` and `/playback/get` on the HTTP port. */
  playback: setting(
    Bool,
    true,
    "serve recordings at /playback/list and /playback/get",
  ),
} as const;
