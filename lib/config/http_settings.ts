/**
 * The top-level keys of the HTTP server: its address, VOD and RTMPT, then
 * the REST API and metrics it serves.
 *
 * @module
 */
import * as v from "valibot";
import { Address, Bool, setting } from "./_scalars.ts";

/** The HTTP server: HTTP-FLV, VOD and RTMPT. */
export const HTTP_SETTINGS = {
  /** Serve HTTP: HTTP-FLV at `/<path>.flv`. */
  http: setting(Bool, true, "serve HTTP (HTTP-FLV)"),
  /** Address the HTTP server listens on. */
  httpAddress: setting(
    Address,
    ":8080",
    "HTTP listen address (host:port or :port)",
  ),
  /**
   * Folder of media files served on demand under the `vod/` path prefix
   * (`rtsp://host:8554/vod/<file>`, `rtmp://host/vod/<file>`,
   * `http://host:8080/vod/<file>.flv`); empty: no VOD.
   */
  vodPath: setting(
    v.string(),
    "",
    "folder of media files served on demand under vod/ (empty: off)",
  ),
  /** RTMP tunnelled in HTTP (RTMPT: `/open`, `/send`, `/idle`, `/close`) on the HTTP port. */
  rtmpt: setting(Bool, true, "serve RTMPT (RTMP in HTTP) on the HTTP port"),
} as const;

/** The REST API and Prometheus metrics on the HTTP port. */
export const HTTP_API_SETTINGS = {
  /** The REST API at `/api/v1` on the HTTP port; loopback clients only until users with the `api` permission exist. */
  api: setting(Bool, true, "serve the REST API at /api/v1 (loopback only)"),
  /** Prometheus metrics at `/metrics` on the HTTP port; loopback clients only until users with the `metrics` permission exist. */
  metrics: setting(
    Bool,
    true,
    "serve Prometheus metrics at /metrics (loopback only)",
  ),
} as const;
