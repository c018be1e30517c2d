/**
 * `deno run server.ts`: reads the configuration (file, SLUICE_* env vars,
 * flags), starts Sluice, and shuts down cleanly on SIGINT/SIGTERM.
 *
 * @module
 */

import { ConfigError, loadConfig, usage, wantsHelp } from "./lib/config/mod.ts";
import { createLogger } from "./lib/log.ts";
import { startSluice } from "./lib/sluice.ts";

if (import.meta.main) {
  if (wantsHelp(Deno.args)) {
    console.log(usage());
    Deno.exit(0);
  }
  let config;
  try {
    config = await loadConfig({
      args: Deno.args,
      env: Deno.env.toObject(),
      readTextFile: (path) => Deno.readTextFile(path),
    });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
  });
  // Nothing one connection does may stop the server for everyone: a promise
  // that fails with nobody listening is a bug to log, not a reason to exit.
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error(
      `unhandled rejection: ${
        e.reason instanceof Error
          ? e.reason.stack ?? e.reason.message
          : e.reason
      }`,
    );
  });
  let sluice;
  try {
    sluice = startSluice(config, log);
  } catch (e) {
    // A taken port or a missing permission: one clear line, not a stack trace.
    log.error(`Cannot start: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    await sluice.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
}
