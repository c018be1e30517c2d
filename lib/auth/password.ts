/**
 * Passwords kept as hashes in the configuration: argon2id (a PHC string, as
 * `argon2` and `hash-wasm` write it) or a salted SHA-256
 * (`sha256:<salt>:<hex of SHA-256(salt + password)>`). `hash-wasm` computes
 * both: it is WebAssembly with no native addon, so it runs in Deno and in a
 * `deno compile` binary alike.
 *
 * @module
 */
import { argon2id, argon2Verify, sha256 } from "hash-wasm";
import { constantTimeEqual } from "./credentials.ts";

/** Verified pairs remembered (as a SHA-256 of hash and password). */
const MAX_VERIFIED = 1000;
/** An idle worker ends after this long (it then keeps no process alive). */
const WORKER_IDLE_MS = 2000;
const verified = new Set<string>();

/**
 * Whether `password` is the one `hash` was made from; a malformed hash is
 * false. argon2id runs in a worker (it costs tens of milliseconds of CPU
 * by design) and a pair once verified is remembered, so an RTSP client's
 * DESCRIBE and SETUPs cost one check.
 */
export async function verifyPasswordHash(
  password: string,
  hash: string,
): Promise<boolean> {
  try {
    if (hash.startsWith("$argon2id$")) {
      const key = await sha256(`${hash}\0${password}`);
      if (verified.has(key)) return true;
      const ok = await argon2Worker.verify(password, hash);
      if (ok) {
        if (verified.size >= MAX_VERIFIED) {
          verified.delete(verified.values().next().value!);
        }
        verified.add(key);
      }
      return ok;
    }
    const m = /^sha256:([^:]+):([0-9a-f]{64})$/.exec(hash);
    if (m === null) return false;
    return constantTimeEqual(await sha256(m[1]! + password), m[2]!);
  } catch {
    return false;
  }
}

/**
 * One worker for argon2id checks, one check at a time: started on the
 * first, ended when idle. Starting a worker costs the main thread some 30
 * ms; a running one costs it nothing.
 */
class Argon2Worker {
  #worker: Worker | undefined;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #broken = false;

  verify(password: string, hash: string): Promise<boolean> {
    const run = this.#tail.then(() => this.#verify(password, hash));
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Ends the worker now (tests; it also ends itself when idle). */
  close(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  async #verify(password: string, hash: string): Promise<boolean> {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.#broken) return await argon2Verify({ password, hash });
    try {
      this.#worker ??= new Worker(
        new URL("./_argon2_worker.ts", import.meta.url),
        { type: "module" },
      );
    } catch {
      return await argon2Verify({ password, hash }); // no workers here
    }
    const worker = this.#worker;
    try {
      return await new Promise<boolean>((resolve) => {
        worker.onmessage = (e) => resolve(e.data === true);
        worker.onerror = (e) => {
          // The worker's module cannot load (a binary built without it):
          // check here, on the main thread, from now on.
          e.preventDefault();
          this.close();
          this.#broken = true;
          resolve(argon2Verify({ password, hash }).catch(() => false));
        };
        worker.postMessage({ password, hash });
      });
    } finally {
      if (this.#worker !== undefined) {
        this.#idle = setTimeout(() => this.close(), WORKER_IDLE_MS);
      }
    }
  }
}

/** The process's argon2id worker. */
export const argon2Worker: Argon2Worker = new Argon2Worker();

/** Options of {@link hashPassword}. */
export interface HashPasswordOptions {
  /** @default {"argon2id"} */
  algorithm?: "argon2id" | "sha256";
}

/**
 * A `passHash` value for `password` with a fresh random salt: argon2id with
 * the OWASP minimum (19 MiB, 2 passes) or a salted SHA-256.
 */
export async function hashPassword(
  password: string,
  options: HashPasswordOptions = {},
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  if (options.algorithm === "sha256") {
    const text = Array.from(salt, (b) => b.toString(16).padStart(2, "0"))
      .join("");
    return `sha256:${text}:${await sha256(text + password)}`;
  }
  return await argon2id({
    password,
    salt,
    parallelism: 1,
    iterations: 2,
    memorySize: 19456,
    hashLength: 32,
    outputType: "encoded",
  });
}

if (import.meta.main) {
  // deno run lib/auth/password.ts <password> [sha256]: prints a passHash
  const [password, algorithm] = Deno.args;
  if (password === undefined) {
    console.error("usage: password.ts <password> [argon2id|sha256]");
    Deno.exit(2);
  }
  console.log(
    await hashPassword(password, {
      algorithm: algorithm === "sha256" ? "sha256" : "argon2id",
    }),
  );
}
