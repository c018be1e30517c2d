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

/** Whether `password` is the one `hash` was made from; a malformed hash is false. */
export async function verifyPasswordHash(
  password: string,
  hash: string,
): Promise<boolean> {
  try {
    if (hash.startsWith("$argon2id$")) {
      return await argon2Verify({ password, hash });
    }
    const m = /^sha256:([^:]+):([0-9a-f]{64})$/.exec(hash);
    if (m === null) return false;
    return constantTimeEqual(await sha256(m[1]! + password), m[2]!);
  } catch {
    return false;
  }
}

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
