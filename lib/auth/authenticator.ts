/**
 * The one authenticator every protocol asks: RTMP, RTSP (Basic and
 * Digest), HTTP-FLV, HLS, playback, the API and metrics. It decides from,
 * in this order: the failure limit of the client's address; a JWT bearer
 * token when `authJWTJWKS` is set and the client sent one; the endpoint of
 * `authHTTPAddress` when set (it then decides everything else); otherwise
 * the configured `users` and each path's `readUser`/`publishUser`.
 *
 * @module
 */
import type { AuthAction, UserConfig } from "../config/auth_schema.ts";
import { createLogger, type Logger } from "../log.ts";
import {
  constantTimeEqual,
  type PathCredentials,
  requiredCredentials,
} from "./credentials.ts";
import { ExternalAuth, type ExternalAuthOptions } from "./external.ts";
import { isLoopback } from "./ip.ts";
import { JwtVerifier } from "./jwt.ts";
import { FailureLimiter, type FailureLimiterOptions } from "./rate_limit.ts";
import { type GivenCredentials, permits, UserTable } from "./users.ts";

export type { AuthAction } from "../config/auth_schema.ts";

/** One access to decide. */
export interface AuthRequest {
  action: AuthAction;
  /** The stream path; `""` for the API and metrics. */
  path: string;
  /** `rtmp`, `rtsp`, `http`, `hls`, `api`… (told to the external endpoint). */
  protocol: string;
  /** The client's address. */
  ip: string;
  user?: string;
  pass?: string;
  /** A JWT bearer token (`?jwt=` or `Authorization: Bearer`). */
  token?: string;
  /** The URL query, without `?`. */
  query?: string;
  /** An RTSP Digest answer: whether it was made with a given password. */
  digest?: (pass: string) => boolean;
  /** The connection or session id (told to the external endpoint). */
  id?: string;
}

/** The outcome of {@link Authenticator.authorize}. */
export type AuthDecision =
  | { ok: true; user: string }
  | {
    ok: false;
    reason: string;
    /** The address is blocked for failing too often: nothing was checked. */
    limited: boolean;
  };

/** The configuration the authenticator reads. */
export interface AuthConfig {
  users?: readonly UserConfig[];
  paths?: Readonly<Record<string, PathCredentials | null | undefined>>;
  authHTTPAddress?: string;
  authJWTJWKS?: string;
}

/** Options of {@link Authenticator}. */
export interface AuthenticatorOptions {
  log?: Logger;
  limiter?: FailureLimiterOptions;
  external?: Partial<ExternalAuthOptions>;
  /** Called for every refusal (Sluice counts them in `/metrics`). */
  onRefused?: (req: AuthRequest) => void;
}

/** Decides every access of every protocol. */
export class Authenticator {
  #users!: UserTable;
  #paths: AuthConfig["paths"];
  #external: ExternalAuth | undefined;
  #jwt: JwtVerifier | undefined;
  readonly #options: AuthenticatorOptions;
  readonly #log: Logger | undefined;
  readonly #regex = new Map<string, RegExp>();
  /** Failed logins per address. */
  readonly limiter: FailureLimiter;
  /** Accesses refused, by action (`/metrics` reports them). */
  readonly failures: Record<string, number> = {};

  constructor(config: AuthConfig, options: AuthenticatorOptions = {}) {
    this.#options = options;
    this.#log = options.log;
    this.limiter = new FailureLimiter(options.limiter);
    this.configure(config);
  }

  /**
   * Takes a new configuration (a hot reload): the next decision uses its
   * users, paths, endpoint and keys; the failure counts stay, and so do
   * the endpoint's cached answers when its URL did not change.
   */
  configure(config: AuthConfig): void {
    this.#users = new UserTable(config.users);
    this.#paths = config.paths;
    const url = config.authHTTPAddress || undefined;
    if (url !== this.#external?.url) {
      this.#external = url === undefined ? undefined : new ExternalAuth({
        log: this.#options.log ?? silent,
        ...this.#options.external,
        url,
      });
    }
    const jwks = config.authJWTJWKS || undefined;
    if (jwks !== this.#jwt?.source) {
      this.#jwt = jwks === undefined ? undefined : new JwtVerifier(jwks);
    }
  }

  /**
   * Whether RTSP may offer Digest: every credential is a plain password
   * Sluice holds (not a hash, not an external endpoint's, not a JWT given
   * as the password).
   */
  get digestUsable(): boolean {
    return this.#external === undefined && this.#jwt === undefined &&
      this.#users.digestUsable;
  }

  /**
   * Whether nothing but the loopback rule can allow `action` (`api`,
   * `metrics`): no user has the permission and neither an external
   * endpoint nor JWTs could grant it.
   */
  loopbackOnly(action: AuthAction): boolean {
    return this.#external === undefined && this.#jwt === undefined &&
      !this.#users.grants(action);
  }

  /** Decides `req`; a failure with credentials counts toward the address's limit. */
  async authorize(req: AuthRequest): Promise<AuthDecision> {
    const blocked = this.limiter.blockedFor(req.ip);
    if (blocked > 0) {
      return this.#refused(
        req,
        `too many failures, ${Math.ceil(blocked / 1000)} s left`,
        true,
      );
    }
    const d = await this.#decide(req);
    if (d.ok) {
      this.limiter.succeed(req.ip);
      return d;
    }
    const given = Boolean(req.user || req.pass || req.token || req.digest);
    if (given && this.limiter.fail(req.ip)) {
      this.#log?.warn(
        "address blocked after repeated authentication failures",
        {
          ip: req.ip,
        },
      );
    }
    return this.#refused(req, d.reason, false);
  }

  async #decide(
    req: AuthRequest,
  ): Promise<{ ok: true; user: string } | { ok: false; reason: string }> {
    // A JWT may come as the password (RTSP and HTTP Basic, any user name).
    const token = req.token ||
      (this.#jwt !== undefined && JWT_SHAPE.test(req.pass ?? "")
        ? req.pass
        : undefined);
    if (token && this.#jwt !== undefined) {
      const r = await this.#jwt.verify(token);
      if (!r.ok) return r;
      let allowed: boolean;
      try {
        allowed = permits(r.permissions, req.action, req.path, this.#regex);
      } catch {
        allowed = false; // a token's path pattern that is no regular expression
      }
      return allowed ? { ok: true, user: r.subject } : {
        ok: false,
        reason: `token does not allow ${req.action} ${req.path}`,
      };
    }
    if (this.#external !== undefined) {
      const r = await this.#external.check({
        user: req.user ?? "",
        password: req.pass ?? "",
        token: req.token ?? "",
        ip: req.ip,
        action: req.action,
        path: req.path,
        protocol: req.protocol,
        id: req.id ?? "",
        query: req.query ?? "",
      });
      return r.ok ? { ok: true, user: req.user ?? "" } : r;
    }
    return await this.#internal(req);
  }

  async #internal(
    req: AuthRequest,
  ): Promise<{ ok: true; user: string } | { ok: false; reason: string }> {
    const given: GivenCredentials = {
      user: req.user ?? "",
      pass: req.pass ?? "",
      digest: req.digest,
    };
    // Playback asks for a path's read credentials, as reading does.
    const own = req.action === "read" || req.action === "publish" ||
        req.action === "playback"
      ? requiredCredentials(
        this.#paths,
        req.path,
        req.action === "publish" ? "publish" : "read",
      )
      : undefined;
    if (own !== undefined) {
      // The path's own readUser/publishUser, as before users existed.
      const passOk = given.digest !== undefined
        ? given.digest(own.pass)
        : constantTimeEqual(given.pass, own.pass);
      if (constantTimeEqual(given.user, own.user) && passOk) {
        return { ok: true, user: own.user };
      }
    }
    const user = await this.#users.find(
      given,
      req.action,
      req.path,
      req.ip,
      own === undefined,
    );
    if (user !== undefined) return { ok: true, user };
    if (
      (req.action === "api" || req.action === "metrics") &&
      !this.#users.grants(req.action) && isLoopback(req.ip)
    ) {
      return { ok: true, user: "any" }; // no user has it: loopback only
    }
    return {
      ok: false,
      reason: given.user === "" && given.digest === undefined
        ? "no credentials"
        : "wrong user or password, or no permission",
    };
  }

  #refused(req: AuthRequest, reason: string, limited: boolean): AuthDecision {
    this.failures[req.action] = (this.failures[req.action] ?? 0) + 1;
    this.#options.onRefused?.(req);
    return { ok: false, reason, limited };
  }
}

const silent: Logger = createLogger({ level: "error", write: () => {} });

/** Three base64url parts, the first a JSON object (`eyJ` is `{"`). */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;

const shared = new WeakMap<object, Authenticator>();

/**
 * The authenticator of `config` when a server was given none (tests that
 * build one server): one per configuration object, so its failure counts
 * are shared by whoever asks.
 */
export function authenticatorOf(config: AuthConfig): Authenticator {
  let auth = shared.get(config);
  if (auth === undefined) {
    auth = new Authenticator(config);
    shared.set(config, auth);
  }
  return auth;
}
