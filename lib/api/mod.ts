/**
 * The REST API, its OpenAPI description, the stream inspector and the
 * Prometheus metrics of a running Sluice.
 *
 * @module
 */

export * from "./access.ts";
export * from "./problem.ts";
export * from "./schemas.ts";
export * from "./routes.ts";
export { openApiDocument } from "./openapi.ts";
export {
  Metrics,
  type MetricsSources,
  type ServerCounters,
} from "./metrics.ts";
export { Inspectors, InspectSchema, type InspectView } from "./inspector.ts";
export { type TrackMeasures, TrackMeter } from "./track_meter.ts";
export type { ApiSources } from "./views.ts";
