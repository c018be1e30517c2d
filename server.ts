/**
 * `deno run server.ts`: reads the configuration (file, SLUICE_* env vars,
 * flags), starts Sluice, and shuts down cleanly on SIGINT/SIGTERM. SIGHUP,
 * or a change to the configuration file, reads it all again and applies it
 * as a hot reload; an invalid one is refused with the usual message and
 * the running configuration stays.
 *
 * @module
 */

import { ConfigError, loadConfig, usage, wantsHelp } from "./lib/config/mod.ts";
import { watchConfigFile } from "./lib/config/watch.ts";
import { createLogger } from "./lib/log.ts";
import { startSluice } from "./lib/sluice.ts";

if (import.meta.main) {
  if (wantsHelp(Deno.args)) {
    console.log(usage());
    Deno.exit(0);
  }
  let config;
  let file: string | undefined;
  const load = () =>
    loadConfig({
      args: Deno.args,
      env: Deno.env.toObject(),
      readTextFile: (path) => {
        file = path;
        return Deno.readTextFile(path);
      },
    });
  try {
    config = await load();
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
  const reloadLog = log.child("reload");
  const reload = async (why: string) => {
    reloadLog.info("reading the configuration again", { why });
    try {
      await sluice.reload(await load());
    } catch (e) {
      // The whole new configuration is refused; the running one stays.
      reloadLog.error(
        `configuration refused, the running one stays: ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
  };
  Deno.addSignalListener("SIGHUP", () => void reload("SIGHUP"));
  const watch = file === undefined
    ? undefined
    : watchConfigFile(file, () => void reload("file changed"));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    watch?.close();
    await sluice.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
}
