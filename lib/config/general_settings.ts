/**
 * The top-level keys every protocol shares: logging, timeouts, the write
 * queue, publisher takeover and the GOP cache; `schema.ts` spreads them first.
 *
 * @module
 */
import { LOG_FORMATS, LOG_LEVELS } from "../log.ts";
import { Bool, Duration, OneOf, Override, setting, Size } from "./_scalars.ts";

/** Logging, timeouts, write queue, publisher takeover and GOP cache. */
export const GENERAL_SETTINGS = {
  /** Least severe log level written. */
  logLevel: setting(
    OneOf(LOG_LEVELS),
    "info",
    "least severe log level written",
  ),
  /** `text` lines for people, or `json`: one object per line for log collectors. */
  logFormat: setting(
    OneOf(LOG_FORMATS),
    "text",
    "log lines as text, or json (one object per line)",
  ),
  /** Milliseconds a connection may send nothing before it is closed. */
  readTimeout: setting(
    Duration,
    "10s",
    "a connection that sends nothing this long is closed",
  ),
  /** Milliseconds a reader's writes may make no progress before it is dropped. */
  writeTimeout: setting(
    Duration,
    "10s",
    "a reader whose writes make no progress this long is dropped",
  ),
  /** Bytes a reader may have queued before it skips to the next keyframe. */
  writeQueueSize: setting(
    Size,
    "8MiB",
    "bytes queued per reader before it skips to the next keyframe",
  ),
  /**
   * Milliseconds media waits so that every reader's frames go out in one
   * write per tick; 0 writes as frames arrive. Replies and a new reader's
   * first frames never wait.
   */
  writeBatchInterval: setting(
    Duration,
    "100ms",
    "media for readers is written in batches this far apart (0: as it arrives)",
  ),
  /**
   * When a new publisher takes over a busy path: `"auto"` only when the
   * current one has sent nothing for {@link GENERAL_SETTINGS.overridePublisherIdle}
   * (its connection is half-open: an encoder reconnecting after a network
   * drop replaces it at once) or when the newcomer gave the path's publish
   * credentials; `true` always (anyone can cut a live stream); `false`
   * never (a half-open publisher blocks the path until `readTimeout`).
   */
  overridePublisher: setting(
    Override,
    "auto",
    "when a new publisher takes over a busy path: auto, true or false",
  ),
  /**
   * Milliseconds without a frame after which, with `overridePublisher:
   * auto`, a publisher counts as half-open and anyone may take over. At 2 s
   * a live encoder has missed some 50 video frames; brief TCP retransmission
   * stalls on a working link stay below it.
   */
  overridePublisherIdle: setting(
    Duration,
    "2s",
    "with overridePublisher auto, a publisher that sent nothing this long may be taken over",
  ),
  /** Milliseconds readers stay attached after the publisher goes. */
  publisherGracePeriod: setting(
    Duration,
    "5s",
    "readers stay attached this long after the publisher goes",
  ),
  /**
   * Milliseconds a play before publish waits before StreamNotFound (RTMP)
   * or 404 (RTSP, HTTP): long enough for a player started a moment before
   * its encoder, short enough that the answer comes well inside the 5 s
   * that common clients wait for one.
   */
  playWaitTimeout: setting(
    Duration,
    "3s",
    "a play before publish waits this long, then StreamNotFound",
  ),
  /** Keep the frames since the last keyframe for instant start. */
  gopCache: setting(
    Bool,
    true,
    "keep frames since the last keyframe for instant start",
  ),
} as const;
