/**
 * The plain-text answer every HTTP route of Sluice gives for errors and
 * short messages.
 *
 * @module
 */

/** `body` and a newline as `text/plain`, with any extra `headers`. */
export function text(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}
