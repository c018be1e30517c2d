/**
 * Errors of the REST API as `application/problem+json` (RFC 9457): a
 * status, a title, a detail, and for invalid input the field, the value
 * and what was expected.
 *
 * @module
 */

/** The media type of a problem (RFC 9457 §3). */
export const PROBLEM_TYPE = "application/problem+json";

/** One invalid field of a request. */
export interface FieldError {
  /** Dotted path of the field (`paths.live/cam1.readPass`, `limit`). */
  field: string;
  /** The value received. */
  value: unknown;
  /** What would have been accepted. */
  expected: string;
}

/** A problem document; the first field error is repeated at the top. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  value?: unknown;
  expected?: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  500: "Internal Server Error",
  501: "Not Implemented",
};

/** A problem+json response. */
export function problem(
  status: number,
  detail: string,
  options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
): Response {
  const body: Problem = {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail,
  };
  const first = options.errors?.[0];
  if (first !== undefined) {
    body.field = first.field;
    body.value = first.value;
    body.expected = first.expected;
    body.errors = options.errors;
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": PROBLEM_TYPE, ...options.headers },
  });
}
