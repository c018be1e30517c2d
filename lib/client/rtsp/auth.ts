/**
 * The RTSP client's answers to 401: credentials taken from the URL (never
 * sent as such), the challenge chosen (Digest before Basic), and an
 * Authorization header for every later request, Digest recomputed per
 * method and URI, a stale nonce answered once more.
 *
 * @module
 */

import {
  type AuthChallenge,
  digestAuthorization,
  parseWwwAuthenticate,
  stringifyAuthorization,
} from "../../rtsp/headers/auth.ts";
import type { RtspResponse } from "../../rtsp/message.ts";
import { RtspClientError } from "./error.ts";

/** User name, password and the challenge being answered, for one connection. */
export class RtspClientAuth {
  #user: string | undefined;
  #pass: string | undefined;
  #challenge: AuthChallenge | undefined;
  #nonceCount = 0;

  /** Takes the credentials of `url` (`rtsp://user:pass@host/path`) and removes them from it. */
  takeCredentials(url: URL): void {
    this.#user = url.username === ""
      ? undefined
      : decodeURIComponent(url.username);
    this.#pass = url.password === ""
      ? undefined
      : decodeURIComponent(url.password);
    url.username = "";
    url.password = "";
  }

  /** Takes the challenge of a 401 to answer with, or throws when there is none to answer. */
  answer401(method: string, r: RtspResponse, tries: number): void {
    if (this.#user === undefined) {
      throw new RtspClientError(method, "credentials required", 401);
    }
    if (tries >= 2) {
      throw new RtspClientError(method, "wrong user name or password", 401);
    }
    const challenges = r.headers.getAll("WWW-Authenticate").flatMap((v) => {
      try {
        return parseWwwAuthenticate(v);
      } catch {
        return [];
      }
    });
    const digest = challenges.find((c) => c.scheme === "Digest");
    const next = digest ?? challenges.find((c) => c.scheme === "Basic");
    if (next === undefined) {
      throw new RtspClientError(
        method,
        "401 without a challenge Sluice can answer",
        401,
      );
    }
    const stale = next.scheme === "Digest" && next.stale === true;
    if (tries > 0 && !stale) {
      throw new RtspClientError(method, "wrong user name or password", 401);
    }
    this.#challenge = next;
    this.#nonceCount = 0;
  }

  /** Digest is recomputed for every method and URI; Basic is the same each time. */
  authorization(method: string, uri: string): string | undefined {
    const c = this.#challenge;
    if (c === undefined || this.#user === undefined) return undefined;
    if (c.scheme === "Basic") {
      return stringifyAuthorization({
        scheme: "Basic",
        username: this.#user,
        password: this.#pass ?? "",
      });
    }
    const cnonce = Array.from(
      crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    return stringifyAuthorization(
      digestAuthorization(c, {
        username: this.#user,
        password: this.#pass ?? "",
        method,
        uri,
        cnonce,
        count: ++this.#nonceCount,
      }),
    );
  }
}
