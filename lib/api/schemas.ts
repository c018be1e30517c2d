/**
 * The resources of the REST API as valibot schemas: the one description
 * the OpenAPI document is generated from and tests validate against.
 *
 * @module
 */

import * as v from "valibot";

const count = (description: string) =>
  v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description));
const text = (description: string) =>
  v.pipe(v.string(), v.description(description));
const time = (description: string) =>
  v.pipe(v.string(), v.isoTimestamp(), v.description(description));

/** One track of a stream, as its codec configuration describes it. */
export const TrackSchema = v.object({
  id: count("position of the track in its stream"),
  kind: v.picklist(["video", "audio"]),
  codec: text("H264, H265, AV1, VP9, AAC, MP3, OPUS, PCMA or PCMU"),
  profile: v.optional(text("codec profile (High, Main, LC …)")),
  level: v.optional(v.pipe(v.number(), v.description("codec level"))),
  width: v.optional(count("coded width in pixels")),
  height: v.optional(count("coded height in pixels")),
  fps: v.optional(
    v.pipe(v.number(), v.description("frames per second the SPS signals")),
  ),
  sampleRate: v.optional(count("audio samples per second")),
  channels: v.optional(count("audio channels")),
});

/** A connection of any protocol. */
export const SessionSchema = v.object({
  id: text("unique id, prefixed by the protocol (rtmp-3, rtsp-1, flv-2)"),
  protocol: v.picklist(["rtmp", "rtsp", "flv"]),
  remoteAddress: text("host:port of the peer"),
  path: v.nullable(text("the path it publishes or reads")),
  role: v.picklist(["publisher", "reader", "none"]),
  state: text("protocol state (publishing, playing, record, ready …)"),
  since: time("when it connected"),
  bytesIn: count("bytes received from the peer"),
  bytesOut: count("bytes written to the peer"),
  packetsOut: count(
    "media packets queued to the peer (frames for RTMP and HTTP-FLV, RTP packets for RTSP)",
  ),
});

/** Who publishes a path: a session, or a relay pulling it. */
export const PublisherSchema = v.object({
  protocol: text("rtmp, rtsp, or the relay's kind (pull, registered)"),
  remoteAddress: text("host:port of the publisher, or the relay's URL"),
  sessionId: v.nullable(text("the publishing session, when it is one")),
  since: v.nullable(time("when it started publishing")),
  bytesIn: count("media bytes received on the path"),
  bitrate: count("bits per second received lately"),
});

/** A path in a list. */
export const PathSummarySchema = v.object({
  name: text("the path (live/cam1)"),
  ready: v.pipe(v.boolean(), v.description("whether it has a publisher")),
  configured: v.pipe(
    v.boolean(),
    v.description("whether the configuration names it"),
  ),
  codecs: v.array(v.string()),
  readers: count("readers of every protocol"),
  bytesIn: count("media bytes received"),
  bitrate: count("bits per second received lately"),
});

/** One path with its tracks, publisher and readers. */
export const PathSchema = v.object({
  ...PathSummarySchema.entries,
  tracks: v.array(TrackSchema),
  publisher: v.nullable(PublisherSchema),
  readerSessions: v.array(SessionSchema),
  framesIn: count("frames received"),
  readerDrops: count("packets dropped for readers that fell behind"),
  readersDropped: count("readers dropped for staying behind"),
});

/** A pull, push or REGISTER relay. */
export const RelaySchema = v.object({
  path: text("the path it fills or republishes"),
  kind: v.picklist(["pull", "push", "register", "registered"]),
  url: text("the remote URL, without credentials"),
  state: v.picklist(["idle", "connecting", "running", "retrying"]),
  lastError: v.nullable(text("why the last connection failed or ended")),
  since: time("when the state last changed"),
  attempts: count("connections made so far"),
});

/** One invalid field of a request. */
export const FieldErrorSchema = v.object({
  field: v.string(),
  value: v.unknown(),
  expected: v.string(),
});

/** An error (RFC 9457). */
export const ProblemSchema = v.object({
  type: v.string(),
  title: v.string(),
  status: v.pipe(v.number(), v.integer()),
  detail: v.string(),
  field: v.optional(v.string()),
  value: v.optional(v.unknown()),
  expected: v.optional(v.string()),
  errors: v.optional(v.array(FieldErrorSchema)),
});

/** A page of a list: `items` from `offset`, at most `limit`, of `total`. */
export function pageOf<S extends v.GenericSchema>(item: S) {
  return v.object({
    items: v.array(item),
    total: count("items in the whole list"),
    offset: count("index of the first item"),
    limit: count("most items a page holds"),
  });
}

/** The query of a list: `offset` and `limit`. */
export const PageQuerySchema = v.object({
  offset: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,9}$/, "expected a whole number"),
      v.transform(Number),
    ),
    "0",
  ),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, "expected a whole number from 1 to 1000"),
      v.transform(Number),
      v.minValue(1, "expected a whole number from 1 to 1000"),
      v.maxValue(1000, "expected a whole number from 1 to 1000"),
    ),
    "100",
  ),
});

/** Output of {@link PageQuerySchema}. */
export type PageQuery = v.InferOutput<typeof PageQuerySchema>;
/** Output of {@link TrackSchema}. */
export type TrackView = v.InferOutput<typeof TrackSchema>;
/** Output of {@link SessionSchema}. */
export type SessionView = v.InferOutput<typeof SessionSchema>;
/** Output of {@link PathSummarySchema}. */
export type PathSummaryView = v.InferOutput<typeof PathSummarySchema>;
/** Output of {@link PathSchema}. */
export type PathView = v.InferOutput<typeof PathSchema>;
/** Output of {@link PublisherSchema}. */
export type PublisherView = v.InferOutput<typeof PublisherSchema>;
/** Output of {@link RelaySchema}. */
export type RelayView = v.InferOutput<typeof RelaySchema>;
