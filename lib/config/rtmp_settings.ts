/**
 * The top-level keys of the RTMP server: whether it runs, its address,
 * chunk sizes and the largest message accepted.
 *
 * @module
 */
import { Address, Bool, IntRange, setting, Size } from "./_scalars.ts";

/** The RTMP server. */
export const RTMP_SETTINGS = {
  /** Serve RTMP. */
  rtmp: setting(Bool, true, "serve RTMP"),
  /** Address the RTMP server listens on; see `parseAddress` in units.ts. */
  rtmpAddress: setting(
    Address,
    ":1935",
    "RTMP listen address (host:port or :port)",
  ),
  /** Chunk size Sluice sends with (Set Chunk Size), in bytes. */
  rtmpChunkSize: setting(
    IntRange(128, 65536),
    4096,
    "RTMP chunk size sent, in bytes",
  ),
  /** Bytes of the largest RTMP message accepted from a peer. */
  rtmpMaxMessageSize: setting(Size, "16MiB", "largest RTMP message accepted"),
  /** Bytes of the largest Set Chunk Size accepted from a peer. */
  rtmpMaxChunkSize: setting(
    Size,
    "16MiB",
    "largest RTMP chunk size a peer may set",
  ),
} as const;
