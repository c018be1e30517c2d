/**
 * The REST API (`/api/v1/…`), its OpenAPI description and reference page,
 * and `/metrics`, as hono routes the HTTP server mounts. Every route asks
 * {@link Authorize} first; errors are problem+json.
 *
 * @module
 */

import { concat } from "@std/bytes";
import { type Context, Hono } from "hono";
import * as v from "valibot";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { type AccessAction, type Authorize, loopbackOnly } from "./access.ts";
import { patchConfig, redactConfig } from "./config_patch.ts";
import { trackView } from "./codec_config.ts";
import { Inspectors } from "./inspector.ts";
import { Metrics, type MetricsSources } from "./metrics.ts";
import { openApiDocument } from "./openapi.ts";
import { problem } from "./problem.ts";
import { REFERENCE_HTML, REFERENCE_JS } from "./reference_page.ts";
import { type PageQuery, PageQuerySchema } from "./schemas.ts";
import {
  allSessions,
  PathViews,
  Rates,
  relayView,
  sessionView,
} from "./views.ts";

/** Options of {@link createApi}. */
export interface ApiOptions extends MetricsSources {
  /** Serve `/api/v1`. @default {true} */
  api?: boolean;
  /** Serve `/metrics`. @default {true} */
  metrics?: boolean;
  /** Who may; {@link loopbackOnly} until users with permissions exist. */
  authorize?: Authorize;
  /**
   * Applies a new configuration (hot reload). Without it `PATCH
   * /api/v1/config` answers 501. It throws a {@link ConfigError} to refuse.
   */
  reload?: (config: Config) => Promise<void> | void;
  /** Sluice's version, in the description. @default {"0.1.0"} */
  version?: string;
  log: Logger;
}

/** The routes and what they keep. */
export interface Api {
  routes: Hono<Env>;
  metrics: Metrics;
  inspectors: Inspectors;
  /** Removes inspector taps and stops timers. */
  close(): void;
}

type Env = { Bindings: { remote: Deno.NetAddr } };

const JSON_TYPES = ["application/json", "application/merge-patch+json"];
/** Longest PATCH body read. */
const MAX_PATCH_BYTES = 1 << 20;
/** How long a first inspect waits for media, at most (ms). */
const MAX_WAIT_MS = 5000;

/** Builds the API and metrics routes. */
export function createApi(options: ApiOptions): Api {
  const authorize = options.authorize ?? loopbackOnly();
  const inspectors = new Inspectors({ trackView });
  const metrics = new Metrics({ ...options, inspectors });
  const rates = new Rates();
  const sweep = setInterval(() => inspectors.sweep(), 5000);
  Deno.unrefTimer(sweep);
  const describe = openApiDocument(options.version ?? "0.1.0");
  const app = new Hono<Env>();

  const guard =
    (action: AccessAction) =>
    async (c: Context<Env>, next: () => Promise<void>) => {
      const verdict = await authorize({
        action,
        request: c.req.raw,
        remote: c.env.remote,
      });
      if (verdict.allowed) {
        await next();
        // HTTP-FLV lets any origin read it; the API and metrics do not, so a
        // web page cannot read a loopback-only API through a local browser.
        c.res.headers.delete("Access-Control-Allow-Origin");
        return;
      }
      metrics.countAuthFailure(action);
      options.log.info(`${action} refused`, {
        remote: c.env.remote.hostname,
        status: verdict.status,
      });
      return problem(verdict.status, verdict.detail, {
        headers: verdict.challenge === undefined
          ? {}
          : { "WWW-Authenticate": verdict.challenge },
      });
    };

  if (options.metrics ?? true) {
    app.use("/metrics", guard("metrics"));
    app.get("/metrics", async () =>
      new Response(await metrics.text(), {
        headers: { "Content-Type": metrics.contentType },
      }));
  }

  if (options.api ?? true) {
    app.use("/api/*", guard("api"));
    app.get("/api/v1/openapi.json", (c) => c.json(describe));
    app.get("/api/v1/docs", (c) => c.html(REFERENCE_HTML));
    app.get(
      "/api/v1/docs/reference.js",
      () =>
        new Response(REFERENCE_JS, {
          headers: { "Content-Type": "text/javascript; charset=utf-8" },
        }),
    );

    app.get("/api/v1/paths", (c) => {
      const q = pageQuery(c);
      if (q instanceof Response) return q;
      const views = new PathViews(options, rates);
      const names = views.names();
      return c.json(page(names, q, (n) => views.summary(n)));
    });
    const inspect = async (c: Context<Env>, name: string) => {
      const stream = options.hub.stream(name);
      if (stream === undefined) {
        return problem(404, `No stream on path "${name}"`);
      }
      const wait = c.req.query("wait");
      if (wait !== undefined && !/^\d{1,4}$/.test(wait)) {
        return problem(400, "Invalid query wait", {
          errors: [{ field: "wait", value: wait, expected: "0 to 5000 ms" }],
        });
      }
      const fresh = inspectors.watch(stream);
      const waitMs = Math.min(
        MAX_WAIT_MS,
        wait === undefined ? (fresh ? 2000 : 0) : Number(wait),
      );
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      const view = inspectors.view(name);
      return view === undefined
        ? problem(404, `No stream on path "${name}"`)
        : c.json(view);
    };
    // A path name spans slashes; `…/inspect` is the inspector of the rest.
    app.get("/api/v1/paths/:name{.+}", (c) => {
      const name = c.req.param("name");
      if (name.endsWith("/inspect") && options.hub.stream(name) === undefined) {
        return inspect(c, name.slice(0, -"/inspect".length));
      }
      const view = new PathViews(options, rates).detail(name);
      return view === undefined
        ? problem(
          404,
          `No path "${name}": nothing publishes it and the configuration does not name it`,
        )
        : c.json(view);
    });

    app.get("/api/v1/sessions", (c) => {
      const q = pageQuery(c);
      if (q instanceof Response) return q;
      const all = allSessions(options).sort((a, b) => a.since - b.since);
      return c.json(page(all, q, sessionView));
    });
    app.get("/api/v1/sessions/:id", (c) => {
      const id = c.req.param("id");
      const s = allSessions(options).find((x) => x.id === id);
      return s === undefined
        ? problem(404, `No session "${id}"`)
        : c.json(sessionView(s));
    });
    app.delete("/api/v1/sessions/:id", (c) => {
      const id = c.req.param("id");
      for (const server of options.servers()) {
        if (server.kick(id)) {
          options.log.info("session closed through the API", { session: id });
          return c.body(null, 204);
        }
      }
      return problem(404, `No session "${id}"`);
    });

    app.get("/api/v1/relays", (c) => {
      const q = pageQuery(c);
      if (q instanceof Response) return q;
      return c.json(page(options.relays(), q, relayView));
    });

    app.get("/api/v1/config", (c) => c.json(redactConfig(options.config())));
    app.patch("/api/v1/config", async (c) => {
      const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
      if (!JSON_TYPES.includes(type.toLowerCase())) {
        return problem(
          415,
          "Send the patch as application/json or application/merge-patch+json",
          {
            errors: [{
              field: "Content-Type",
              value: type,
              expected: JSON_TYPES.join(" or "),
            }],
          },
        );
      }
      const raw = await readBounded(c.req.raw, MAX_PATCH_BYTES);
      if (raw === undefined) {
        return problem(413, `The patch is over ${MAX_PATCH_BYTES} bytes`);
      }
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch (e) {
        return problem(400, `Cannot parse the patch: ${(e as Error).message}`);
      }
      const result = patchConfig(options.config(), body);
      if (!result.ok) {
        return problem(422, "The configuration is invalid; nothing changed", {
          errors: result.errors,
        });
      }
      if (options.reload === undefined) {
        return problem(
          501,
          "This Sluice cannot apply a configuration while it runs (hot reload is not available); the patch is valid and was not applied",
        );
      }
      try {
        await options.reload(result.config);
      } catch (e) {
        if (e instanceof ConfigError) {
          return problem(
            409,
            `The configuration was refused; the old one stays: ${e.message}`,
          );
        }
        throw e;
      }
      options.log.info("configuration changed through the API");
      return c.json(redactConfig(options.config()));
    });

    app.all(
      "/api/*",
      (c) =>
        problem(
          404,
          `No resource ${c.req.method} ${new URL(c.req.url).pathname}`,
        ),
    );
  }

  return {
    routes: app,
    metrics,
    inspectors,
    close() {
      clearInterval(sweep);
      inspectors.close();
      metrics.close();
    },
  };
}

/** The body as text, or `undefined` past `max` bytes (read no further). */
async function readBounded(
  req: Request,
  max: number,
): Promise<string | undefined> {
  if (Number(req.headers.get("Content-Length") ?? 0) > max) return undefined;
  if (req.body === null) return "";
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  return new TextDecoder().decode(concat(parts));
}

/** `offset` and `limit` of the query, or a 400 problem. */
function pageQuery(c: Context<Env>): PageQuery | Response {
  const query: Record<string, string> = {};
  for (const k of ["offset", "limit"]) {
    const x = c.req.query(k);
    if (x !== undefined) query[k] = x;
  }
  const r = v.safeParse(PageQuerySchema, query);
  if (r.success) return r.output;
  return problem(400, "Invalid paging", {
    errors: r.issues.map((i) => {
      const field = v.getDotPath(i) ?? "";
      return { field, value: query[field] ?? i.input, expected: i.message };
    }),
  });
}

function page<T, R>(all: T[], q: PageQuery, map: (x: T) => R) {
  return {
    items: all.slice(q.offset, q.offset + q.limit).map(map),
    total: all.length,
    offset: q.offset,
    limit: q.limit,
  };
}
