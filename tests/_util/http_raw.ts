/** Raw HTTP/1.x for tests: exact request bytes, the status line that comes back. */

/** What a raw request got. */
export interface RawHttpResponse {
  /** The status code, or 0 when the connection closed without a status line. */
  status: number;
  /** Everything read, as text. */
  text: string;
  /** Milliseconds from sending to the status line (or to the close). */
  elapsedMs: number;
}

/**
 * Sends `request` exactly as given on a new connection to 127.0.0.1:`port`
 * and reads until the status line and headers have come, the server closes,
 * or `timeoutMs` passes.
 */
export async function rawHttp(
  port: number,
  request: string,
  timeoutMs = 10_000,
): Promise<RawHttpResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = Date.now();
  const timer = setTimeout(() => conn.close(), timeoutMs);
  const decoder = new TextDecoder();
  let text = "";
  try {
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(16 * 1024);
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n));
    }
  } catch {
    // closed by the timer or reset by the server
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return {
    status: m === null ? 0 : Number(m[1]),
    text,
    elapsedMs: Date.now() - started,
  };
}

/**
 * One request on its own connection, exactly as given, and the whole answer
 * read to the close (send `Connection: close`): the status line, the header
 * fields (names in lower case, sorted, `Date` left out) and the body bytes.
 */
export async function rawExchange(port: number, request: string): Promise<
  { status: string; fields: string[][]; body: Uint8Array }
> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));
  const all = new Uint8Array(await new Response(conn.readable).arrayBuffer());
  let end = 0;
  const blank = (i: number) =>
    all[i] === 13 && all[i + 1] === 10 && all[i + 2] === 13 &&
    all[i + 3] === 10;
  while (end + 3 < all.length && !blank(end)) end++;
  const head = new TextDecoder().decode(all.subarray(0, end)).split("\r\n");
  const fields = head.slice(1).map((l) => {
    const colon = l.indexOf(":");
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
  }).filter(([name]) => name !== "date").sort((a, b) => a[0]! < b[0]! ? -1 : 1);
  return { status: head[0] ?? "", fields, body: all.subarray(end + 4) };
}
