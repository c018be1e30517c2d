/**
 * The REST API's and the metrics' {@link Authorize} built on the
 * {@link Authenticator}: users with the `api` or `metrics` permission (or
 * an external endpoint, or JWTs) decide; while nothing could grant the
 * permission the loopback-only rule of `api/access.ts` holds, `Host`
 * check included.
 *
 * @module
 */

import { type Authorize, loopbackOnly } from "./api/mod.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import { authorizeRequest } from "./auth/http.ts";

/** The API's and the metrics' access decided by `auth`. */
export function authenticatorAccess(
  auth: Pick<Authenticator, "authorize" | "loopbackOnly">,
): Authorize {
  const loopback = loopbackOnly();
  return async (r) => {
    if (auth.loopbackOnly(r.action)) return await loopback(r);
    const refused = await authorizeRequest(auth, r.request, {
      action: r.action,
      path: "",
      ip: r.remote.hostname,
    });
    if (refused === undefined) return { allowed: true };
    if (refused.status === 429) {
      return {
        allowed: false,
        status: 429,
        detail: "Too many failed logins from this address; try again later",
      };
    }
    return {
      allowed: false,
      status: 401,
      detail: `Credentials of a user with the "${r.action}" permission wanted`,
      challenge: refused.headers.get("WWW-Authenticate") ?? undefined,
    };
  };
}
