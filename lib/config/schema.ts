/**
 * The one source of Sluice's configuration keys and their defaults.
 *
 * Keys are flat camelCase, protocol-prefixed (`rtmpAddress`), then `paths`;
 * names follow MediaMTX where one exists so habits carry over. Every key is
 * optional: with no file at all the server runs on the defaults. Durations
 * arrive as `"10s"`, `"500ms"`, `"2m"`, `"1h"` or milliseconds and leave as
 * milliseconds; sizes arrive as `"8MiB"`, `"512KiB"`, `"1MB"`, `"4096"` or
 * bytes and leave as bytes. Strings are accepted for every scalar because
 * environment variables and flags are strings.
 *
 * @module
 */
import * as v from "valibot";
import { Mapping, Strict } from "./_scalars.ts";
import { AUTH_LISTS, AUTH_SETTINGS } from "./auth_schema.ts";
import { GENERAL_SETTINGS } from "./general_settings.ts";
import { HLS_SETTINGS } from "./hls_settings.ts";
import { HTTP_API_SETTINGS, HTTP_SETTINGS } from "./http_settings.ts";
import { PathConfigSchema } from "./path_schema.ts";
import { RECORD_SETTINGS } from "./record_settings.ts";
import { RTMP_SETTINGS } from "./rtmp_settings.ts";
import { RTSP_SETTINGS, RTSP_TRANSPORT_SETTINGS } from "./rtsp_settings.ts";
import { TLS_SETTINGS } from "./tls_settings.ts";

export {
  type ListenAddress,
  parseAddress,
  parseDuration,
  parseMulticastRange,
  parseSize,
} from "./units.ts";
export {
  PATH_SETTINGS,
  type PathConfig,
  PathConfigSchema,
} from "./path_schema.ts";

/**
 * The top-level keys that are scalars (what env vars and flags may set), by
 * feature; the order here is the order of `--help`, config dumps and the
 * OpenAPI document.
 */
export const SETTINGS = {
  ...GENERAL_SETTINGS,
  ...RTMP_SETTINGS,
  ...RTSP_SETTINGS,
  ...TLS_SETTINGS,
  ...RTSP_TRANSPORT_SETTINGS,
  ...HTTP_SETTINGS,
  ...RECORD_SETTINGS,
  ...HTTP_API_SETTINGS,
  ...HLS_SETTINGS,
  ...AUTH_SETTINGS,
} as const;

/** The whole configuration file: {@link SETTINGS}, then `paths`. */
export const ConfigSchema = Strict({
  ...SETTINGS,
  ...AUTH_LISTS,
  /** Per-path settings by path name (`live/cam1`); an empty entry is allowed. */
  paths: v.optional(
    v.pipe(
      Mapping("expected a mapping of path names to settings"),
      v.record(
        v.string(),
        v.pipe(
          v.nullish(v.unknown()),
          v.transform((value) => value ?? {}),
          PathConfigSchema,
        ),
      ),
    ),
    {},
  ),
});

/** Every top-level key, in file order. */
export const CONFIG_KEYS: readonly string[] = Object.keys(
  ConfigSchema.pipe[1].entries,
);

/** A top-level scalar key (settable from env and flags). */
export type SettingKey = keyof typeof SETTINGS;

/**
 * The parsed configuration: durations in milliseconds, sizes in bytes,
 * addresses as given (split them with {@link parseAddress}).
 */
export type Config = v.InferOutput<typeof ConfigSchema>;

/** What a configuration file may hold before parsing. */
export type ConfigInput = v.InferInput<typeof ConfigSchema>;

/** The default of `key` as a user would write it (`"10s"`, `":1935"`). */
export function settingDefault(key: SettingKey): string {
  return String(SETTINGS[key].default);
}

/** The one-line description of `key`. */
export function settingDescription(key: SettingKey): string {
  return v.getDescription(SETTINGS[key].wrapped) ?? "";
}
