/** A Sluice instance inside the test process, on free loopback ports. */
import { parseConfig } from "../../lib/config/load.ts";
import type { ConfigInput } from "../../lib/config/schema.ts";
import { createLogger, type LogLevel } from "../../lib/log.ts";
import { type Sluice, startSluice } from "../../lib/sluice.ts";
import { shareMachine } from "./machine.ts";

/** A running test instance: its URLs and its log lines. */
export interface TestSluice extends AsyncDisposable {
  sluice: Sluice;
  /** rtmp://127.0.0.1:<port>/<path> */
  rtmpUrl(path: string): string;
  /** rtsp://127.0.0.1:<port>/<path> */
  rtspUrl(path: string): string;
  /** rtmps://127.0.0.1:<port>/<path> (with a certificate configured) */
  rtmpsUrl(path: string): string;
  /** rtsps://127.0.0.1:<port>/<path> (with a certificate configured) */
  rtspsUrl(path: string): string;
  /** http://127.0.0.1:<port>/<path>.flv */
  flvUrl(path: string): string;
  /** Log lines written so far. */
  logs: string[];
  /** Resolves once `path` has a publisher (and `frames` frames came in); fails after `timeoutMs`. */
  published(
    path: string,
    options?: { frames?: number; timeoutMs?: number },
  ): Promise<void>;
  close(): Promise<void>;
}

/** Starts Sluice with `overrides` on 127.0.0.1, any free port. */
export function startTestSluice(
  overrides: ConfigInput = {},
  level: LogLevel = "info",
): TestSluice {
  const config = parseConfig({
    rtmpAddress: "127.0.0.1:0",
    rtspAddress: "127.0.0.1:0",
    rtpAddress: "127.0.0.1:0",
    rtcpAddress: "127.0.0.1:0",
    httpAddress: "127.0.0.1:0",
    rtspsAddress: "127.0.0.1:0",
    rtmpsAddress: "127.0.0.1:0",
    ...overrides,
  });
  const logs: string[] = [];
  const log = createLogger({
    level,
    write: (line) => {
      logs.push(line);
      if (Deno.env.get("SLUICE_TEST_LOG")) console.error(line);
    },
  });
  const release = shareMachine();
  let sluice: Sluice;
  try {
    sluice = startSluice(config, log);
  } catch (e) {
    release();
    throw e;
  }
  const close = () => sluice.close().finally(release);
  return {
    sluice,
    logs,
    rtmpUrl: (path) => `rtmp://127.0.0.1:${sluice.rtmpPort}/${path}`,
    rtspUrl: (path) => `rtsp://127.0.0.1:${sluice.rtspPort}/${path}`,
    rtmpsUrl: (path) =>
      `rtmps://127.0.0.1:${tlsPort(sluice.rtmpsPort)}/${path}`,
    rtspsUrl: (path) =>
      `rtsps://127.0.0.1:${tlsPort(sluice.rtspsPort)}/${path}`,
    flvUrl: (path) => `http://127.0.0.1:${sluice.httpPort}/${path}.flv`,
    published: async (path, { frames = 0, timeoutMs = 10_000 } = {}) => {
      const end = Date.now() + timeoutMs;
      while (
        !sluice.hub.hasPublisher(path) ||
        (sluice.hub.stream(path)?.stats.framesIn ?? 0) < frames
      ) {
        if (Date.now() > end) {
          throw new Error(
            `no publisher on ${path} within ${timeoutMs} ms:\n${
              logs.join("\n")
            }`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function tlsPort(port: number | undefined): number {
  if (port === undefined) {
    throw new Error(
      "No TLS listener: start with tlsConfig() (tests/_util/tls.ts)",
    );
  }
  return port;
}
