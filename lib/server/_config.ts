/**
 * What every server of Sluice reads of the configuration.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";

/** Settings every protocol server shares (milliseconds and bytes), and the per-path ones. */
export type ServerConfig =
  & Pick<
    Config,
    | "readTimeout"
    | "writeTimeout"
    | "writeQueueSize"
    | "writeBatchInterval"
    | "gopCache"
    | "playWaitTimeout"
    | "overridePublisher"
  >
  & { paths?: Config["paths"] };
