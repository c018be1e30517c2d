/**
 * Verifies one argon2id hash off the main thread: a check takes some 50–100
 * ms of CPU by design, which on the main thread would hold up every stream.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { argon2Verify } from "hash-wasm";

self.onmessage = async (
  e: MessageEvent<{ password: string; hash: string }>,
) => {
  let ok = false;
  try {
    ok = await argon2Verify(e.data);
  } catch {
    ok = false;
  }
  self.postMessage(ok);
};
