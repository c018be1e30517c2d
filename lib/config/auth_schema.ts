/**
 * The configuration keys of users, permissions, external auth, webhooks and
 * the log format; `schema.ts` spreads them into the whole file's schema.
 *
 * @module
 */
import * as v from "valibot";
import { parseIpRange } from "../auth/ip.ts";

/** What a permission allows. */
export const AUTH_ACTIONS = [
  "publish",
  "read",
  "playback",
  "api",
  "metrics",
] as const;
/** One of {@link AUTH_ACTIONS}. */
export type AuthAction = typeof AUTH_ACTIONS[number];

/** What a webhook can be told of. */
export const WEBHOOK_EVENTS = [
  "publish.start",
  "publish.stop",
  "read.start",
  "read.stop",
  "relay.state",
  "segment.complete",
] as const;
/** One of {@link WEBHOOK_EVENTS}. */
export type WebhookEventType = typeof WEBHOOK_EVENTS[number];

/** `"$argon2id$v=19$m=…,t=…,p=…$salt$hash"` or `"sha256:<salt>:<hex digest of salt+password>"`. */
const PASS_HASH =
  /^(?:\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+|sha256:[^:]+:[0-9a-f]{64})$/;

const Action = v.picklist(
  AUTH_ACTIONS,
  `expected one of ${AUTH_ACTIONS.map((a) => `"${a}"`).join(", ")}`,
);

/** An exact path, or a regular expression after `~` (`"~^live/.*"`); absent: every path. */
const PathPattern = v.pipe(
  v.string("expected a path or ~regular expression"),
  v.check((p) => {
    if (!p.startsWith("~")) return true;
    try {
      new RegExp(p.slice(1));
      return true;
    } catch {
      return false;
    }
  }, "expected a valid regular expression after ~"),
);

/** One thing a user may do: an action, on every path or the ones `path` names. */
export const PermissionSchema = v.strictObject({
  action: Action,
  path: v.optional(PathPattern),
});

/** A user: a name (`any` is everyone, with or without credentials), a password, ranges, permissions. */
export const UserSchema = v.pipe(
  v.strictObject({
    user: v.pipe(
      v.string("expected a user name"),
      v.minLength(1, "expected a user name"),
    ),
    pass: v.optional(v.string("expected a password")),
    passHash: v.optional(
      v.pipe(
        v.string(),
        v.regex(
          PASS_HASH,
          'expected "$argon2id$v=19$m=…,t=…,p=…$salt$hash" or "sha256:<salt>:<64 hex digits>"',
        ),
      ),
    ),
    ips: v.optional(
      v.array(
        v.pipe(
          v.string(),
          v.check(
            (s) => parseIpRange(s) !== undefined,
            "expected an IP address or CIDR range",
          ),
        ),
      ),
    ),
    permissions: v.optional(v.array(PermissionSchema), []),
  }),
  v.check(
    (u) => !(u.pass !== undefined && u.passHash !== undefined),
    "expected pass or passHash, not both",
  ),
);

/** A webhook: where events go, which ones, and the HMAC key that signs them. */
export const WebhookSchema = v.strictObject({
  url: v.pipe(v.string(), v.url("expected an http(s) URL")),
  events: v.optional(
    v.array(
      v.picklist(
        WEBHOOK_EVENTS,
        `expected one of ${WEBHOOK_EVENTS.map((e) => `"${e}"`).join(", ")}`,
      ),
    ),
  ),
  secret: v.optional(v.string()),
});

/** The scalar keys (env vars and flags may set them). */
export const AUTH_SETTINGS = {
  /**
   * A URL that gets a JSON POST for each access (user, password, token,
   * path, action, protocol, ip, query) and allows it on a 2xx answer; empty:
   * off.
   */
  authHTTPAddress: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => s === "" || httpUrl(s), "expected an http(s) URL"),
      v.description(
        "URL asked by POST whether an access is allowed (empty: off)",
      ),
    ),
    "",
  ),
  /** A URL of a JWKS (or a JWKS as JSON text) JWT bearer tokens are verified against; empty: off. */
  authJWTJWKS: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (s) => s === "" || httpUrl(s) || jwksJson(s),
        'expected an http(s) URL or a JWKS such as {"keys": […]}',
      ),
      v.description(
        "JWKS URL or JSON that JWT bearer tokens are verified against",
      ),
    ),
    "",
  ),
} as const;

/** The list keys. */
export const AUTH_LISTS = {
  /**
   * Who may do what. Absent: anyone may publish, read and play back, and the
   * API and metrics answer loopback only.
   */
  users: v.optional(v.array(UserSchema)),
  /** Where events are POSTed. */
  webhooks: v.optional(v.array(WebhookSchema), []),
} as const;

/** A user as parsed. */
export type UserConfig = v.InferOutput<typeof UserSchema>;
/** A webhook as parsed. */
export type WebhookConfig = v.InferOutput<typeof WebhookSchema>;

function httpUrl(s: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

function jwksJson(s: string): boolean {
  try {
    const v = JSON.parse(s);
    return typeof v === "object" && v !== null && Array.isArray(v.keys);
  } catch {
    return false;
  }
}
