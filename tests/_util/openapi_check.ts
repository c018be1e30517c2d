/**
 * Checks API responses against Sluice's own OpenAPI description: every
 * call a test makes through {@link ApiClient} is validated (status listed,
 * media type, body against the schema) with ajv.
 */
import assert from "node:assert/strict";
import { Ajv, type ValidateFunction } from "ajv";
import { openApiDocument } from "../../lib/api/openapi.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const doc: Json = openApiDocument("test");
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat(
  "date-time",
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/,
);
const compiled = new Map<string, ValidateFunction>();

/** Path templates, most specific first: `{name}` spans slashes, `{id}` does not. */
const TEMPLATES = Object.keys(doc.paths)
  .sort((a, b) => b.length - a.length)
  .map((t) => ({
    template: t,
    re: new RegExp(
      "^" +
        t.replace(/\{name\}/g, "(.+)").replace(/\{id\}/g, "([^/]+)") + "$",
    ),
  }));

/** Responses validated so far in this test process. */
export const validated = { count: 0 };

/** Asserts `body` (already parsed) of a `status` answer to `method pathname` fits the description. */
export function assertDescribed(
  method: string,
  pathname: string,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  const t = TEMPLATES.find((x) => x.re.test(pathname));
  assert.ok(t, `${pathname} is not in the OpenAPI description`);
  const op = doc.paths[t.template][method.toLowerCase()];
  assert.ok(op, `${method} ${t.template} is not in the OpenAPI description`);
  const res = op.responses[String(status)];
  assert.ok(
    res,
    `${method} ${t.template} answered ${status}, which the description does not list`,
  );
  validated.count++;
  if (res.content === undefined) return;
  const type = (contentType ?? "").split(";")[0]!.trim();
  const media = res.content[type];
  assert.ok(
    media,
    `${method} ${t.template} ${status}: Content-Type ${type} not described`,
  );
  const name: string = media.schema.$ref.split("/").pop();
  let validate = compiled.get(name);
  if (validate === undefined) {
    validate = ajv.compile({
      $ref: `#/components/schemas/${name}`,
      components: doc.components,
    });
    compiled.set(name, validate);
  }
  assert.ok(
    validate(body),
    `${method} ${pathname} ${status} does not fit ${name}: ${
      ajv.errorsText(validate.errors)
    }\n${JSON.stringify(body).slice(0, 2000)}`,
  );
}

/** A response whose body was read and validated. */
export interface CheckedResponse {
  status: number;
  headers: Headers;
  body: Json;
}

/** Calls the API through `fetch`-like `call` and validates each answer. */
export class ApiClient {
  readonly #call: (req: Request) => Response | Promise<Response>;
  readonly #base: string;

  constructor(
    base: string,
    call: (req: Request) => Response | Promise<Response> = fetch,
  ) {
    this.#base = base;
    this.#call = call;
  }

  /** `method path` with an optional JSON body and headers. */
  async request(
    method: string,
    path: string,
    options: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<CheckedResponse> {
    const res = await this.#call(
      new Request(this.#base + path, {
        method,
        body: options.body,
        headers: options.headers,
      }),
    );
    const text = await res.text();
    const type = res.headers.get("Content-Type");
    const body = text === "" ? undefined : JSON.parse(text);
    assertDescribed(
      method,
      new URL(this.#base + path).pathname,
      res.status,
      type,
      body,
    );
    return { status: res.status, headers: res.headers, body };
  }

  /** GET, validated. */
  get(path: string): Promise<CheckedResponse> {
    return this.request("GET", path);
  }
}
