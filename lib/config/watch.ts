/**
 * Watches the configuration file and calls back once per burst of changes.
 *
 * The folder is watched, not the file: editors save by writing a new file
 * and renaming it over the old one, which ends a watch on the file itself.
 * Saving fires several events (truncate, write, rename); they are debounced
 * into one call after the file has been quiet for `debounceMs`.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";

/** Options of {@link watchConfigFile}. */
export interface WatchConfigOptions {
  /** Quiet time after the last event before `onChange` runs. @default {300} */
  debounceMs?: number;
}

/** A running watch; closing it ends it. */
export interface ConfigWatch extends Disposable {
  close(): void;
}

/**
 * Calls `onChange` when `file` was written, created or replaced; ends with
 * {@link ConfigWatch.close}.
 */
export function watchConfigFile(
  file: string,
  onChange: () => void,
  options: WatchConfigOptions = {},
): ConfigWatch {
  const debounceMs = options.debounceMs ?? 300;
  const target = resolve(file);
  const name = basename(target);
  const watcher = Deno.watchFs(dirname(target), { recursive: false });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  void (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        if (!event.paths.some((p) => basename(p) === name)) continue;
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (!closed) onChange();
        }, debounceMs);
      }
    } catch {
      // The watcher was closed, or the folder went away: nothing to watch.
    }
  })();
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
  };
  return { close, [Symbol.dispose]: close };
}
