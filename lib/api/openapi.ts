/**
 * The OpenAPI 3.1 description of the REST API, generated from the valibot
 * schemas the API answers with (`@valibot/to-json-schema`), so the two
 * cannot drift apart.
 *
 * @module
 */

import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { ConfigSchema } from "../config/schema.ts";
import { InspectSchema } from "./inspector.ts";
import { PROBLEM_TYPE } from "./problem.ts";
import {
  pageOf,
  PathSchema,
  PathSummarySchema,
  ProblemSchema,
  RelaySchema,
  SessionSchema,
} from "./schemas.ts";

type JsonSchema = Record<string, unknown>;

/** A JSON Schema of `schema` for OpenAPI 3.1 (which takes JSON Schema 2020-12 as is). */
function json(schema: v.GenericSchema, ignoreUnknown = false): JsonSchema {
  const out = toJsonSchema(schema, {
    // The config's scalars are custom parsers ("10s", "8MiB"): their
    // descriptions and defaults carry over, their types cannot.
    errorMode: ignoreUnknown ? "ignore" : "throw",
    typeMode: "output",
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function ok(schema: string, description: string) {
  return {
    description,
    content: { "application/json": { schema: ref(schema) } },
  };
}

function problems(...codes: number[]) {
  const out: Record<string, unknown> = {};
  for (const code of codes) {
    out[String(code)] = {
      description: "an error (RFC 9457)",
      content: { [PROBLEM_TYPE]: { schema: ref("Problem") } },
    };
  }
  return out;
}

const PAGE_PARAMS = [
  {
    name: "offset",
    in: "query",
    description: "index of the first item",
    schema: { type: "integer", minimum: 0, default: 0 },
  },
  {
    name: "limit",
    in: "query",
    description: "most items in the page",
    schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
];

const NAME_PARAM = {
  name: "name",
  in: "path",
  required: true,
  description: "the path, slashes included (live/cam1)",
  schema: { type: "string" },
};

const ID_PARAM = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
};

/** Builds the description; `version` is Sluice's. */
export function openApiDocument(version: string): JsonSchema {
  // 429: an address blocked after repeated failed logins
  const denied = [401, 403, 429];
  return {
    openapi: "3.1.0",
    info: {
      title: "Sluice REST API",
      version,
      description:
        "Paths, sessions, relays and configuration of a running Sluice. " +
        "Errors are application/problem+json (RFC 9457).",
    },
    servers: [{ url: "/" }],
    paths: {
      "/api/v1/paths": {
        get: {
          summary: "List live and configured paths",
          parameters: PAGE_PARAMS,
          responses: {
            "200": ok("PathPage", "a page of paths"),
            ...problems(400, ...denied),
          },
        },
      },
      "/api/v1/paths/{name}": {
        get: {
          summary: "One path with its tracks, publisher and readers",
          parameters: [NAME_PARAM],
          responses: {
            "200": ok("Path", "the path"),
            ...problems(404, ...denied),
          },
        },
      },
      "/api/v1/paths/{name}/inspect": {
        get: {
          summary: "Measure the path's media (GOP, fps, bitrate, jitter …)",
          description:
            "The first request starts sampling and waits `wait` ms for it; " +
            "sampling stops 30 s after the last request.",
          parameters: [NAME_PARAM, {
            name: "wait",
            in: "query",
            schema: { type: "integer", minimum: 0, maximum: 5000 },
          }],
          responses: {
            "200": ok("Inspect", "what was measured"),
            ...problems(400, 404, ...denied),
          },
        },
      },
      "/api/v1/sessions": {
        get: {
          summary: "List the connections of every protocol",
          parameters: PAGE_PARAMS,
          responses: {
            "200": ok("SessionPage", "a page of sessions"),
            ...problems(400, ...denied),
          },
        },
      },
      "/api/v1/sessions/{id}": {
        get: {
          summary: "One session",
          parameters: [ID_PARAM],
          responses: {
            "200": ok("Session", "the session"),
            ...problems(404, ...denied),
          },
        },
        delete: {
          summary: "Close the session (kick)",
          parameters: [ID_PARAM],
          responses: {
            "204": { description: "closed" },
            ...problems(404, ...denied),
          },
        },
      },
      "/api/v1/relays": {
        get: {
          summary: "List relays with their state and last error",
          parameters: PAGE_PARAMS,
          responses: {
            "200": ok("RelayPage", "a page of relays"),
            ...problems(400, ...denied),
          },
        },
      },
      "/api/v1/config": {
        get: {
          summary: "The configuration in effect, secrets hidden",
          responses: {
            "200": ok("Config", "the configuration"),
            ...problems(...denied),
          },
        },
        patch: {
          summary: "Change the configuration (JSON merge patch, hot reload)",
          requestBody: {
            required: true,
            content: {
              "application/merge-patch+json": {
                schema: { type: "object" },
              },
              "application/json": { schema: { type: "object" } },
            },
          },
          responses: {
            "200": ok("Config", "the configuration now in effect"),
            ...problems(400, 409, 413, 415, 422, 501, ...denied),
          },
        },
      },
    },
    components: {
      schemas: {
        Path: json(PathSchema),
        PathPage: json(pageOf(PathSummarySchema)),
        Session: json(SessionSchema),
        SessionPage: json(pageOf(SessionSchema)),
        RelayPage: json(pageOf(RelaySchema)),
        Inspect: json(InspectSchema),
        Config: json(ConfigSchema, true),
        Problem: json(ProblemSchema),
      },
    },
  };
}
