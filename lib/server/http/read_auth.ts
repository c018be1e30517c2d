/**
 * Read credentials of an HTTP request: Basic in `Authorization`, or
 * `?user=&pass=` as RTMP takes them.
 *
 * @module
 */

import { parseAuthorization } from "../../rtsp/headers/auth.ts";
import {
  checkQueryCredentials,
  type Credentials,
  matchesCredentials,
} from "../../auth/credentials.ts";

/** Whether `req` gives the `required` credentials. */
export function readAuthorized(
  req: Request,
  url: URL,
  required: Credentials,
): boolean {
  const header = req.headers.get("Authorization");
  if (header !== null) {
    try {
      const creds = parseAuthorization(header);
      if (creds.scheme === "Basic") {
        return matchesCredentials(creds.username, creds.password, required);
      }
    } catch {
      return false;
    }
  }
  return checkQueryCredentials(url.search, required);
}
