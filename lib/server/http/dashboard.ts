/**
 * The dashboard on the HTTP port: `GET /` (the page, its style and script)
 * and `GET /api/v1/dashboard` (the JSON the page polls). The page's assets
 * are module strings, so a compiled `sluice` carries them.
 *
 * @module
 */

import type { Hono } from "hono";
import type { DashboardSampler } from "./dashboard_data.ts";
import {
  DASHBOARD_CSS,
  DASHBOARD_HTML,
  DASHBOARD_JS,
} from "./dashboard_page.ts";

/** Where the page reads its data. */
export const DASHBOARD_DATA_PATH = "/api/v1/dashboard";

// The page loads only what Sluice serves; no inline script or style runs.
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-cache",
};

/** Adds the dashboard's routes to `app`. */
export function addDashboardRoutes(
  // deno-lint-ignore no-explicit-any
  app: Hono<any>,
  sampler: Pick<DashboardSampler, "snapshot">,
): void {
  app.get("/", () => asset(DASHBOARD_HTML, "text/html; charset=utf-8"));
  app.get(
    "/dashboard.css",
    () => asset(DASHBOARD_CSS, "text/css; charset=utf-8"),
  );
  app.get(
    "/dashboard.js",
    () => asset(DASHBOARD_JS, "text/javascript; charset=utf-8"),
  );
  // Same-origin only: the page reads it, other sites may not (the HTTP-FLV
  // routes allow any origin, for browser players).
  app.use(DASHBOARD_DATA_PATH, async function sameOriginOnly(c, next) {
    await next();
    c.res.headers.delete("Access-Control-Allow-Origin");
  });
  app.get(DASHBOARD_DATA_PATH, (c) => {
    const host = new URL(c.req.url).hostname;
    return new Response(JSON.stringify(sampler.snapshot(host)), {
      headers: {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  });
}

function asset(body: string, type: string): Response {
  return new Response(body, {
    headers: { "Content-Type": type, ...SECURITY_HEADERS },
  });
}
