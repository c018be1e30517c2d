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
