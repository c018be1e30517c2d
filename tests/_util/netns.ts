/**
 * Network namespaces for tests that send multicast: a namespace of its own
 * has only `lo`, given the MULTICAST flag and the route for 224.0.0.0/4, so
 * every multicast packet stays inside it (the host's `lo` has no MULTICAST
 * flag, and a group without a route would leave by the default route).
 * Creating one needs root and `ip` (iproute2).
 */
import { isCi } from "./tools.ts";

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "network namespaces are Linux only";
  if (Deno.uid?.() !== 0) return "making a network namespace needs root";
  try {
    const r = new Deno.Command("ip", { args: ["-V"], stdout: "null" })
      .outputSync();
    if (!r.success) return "ip (iproute2) does not run";
  } catch {
    return "ip (iproute2) is not installed";
  }
  return undefined;
}

/**
 * The value for `Deno.test`'s `ignore`: skip where namespaces cannot be
 * made, never in CI (there the test runs and {@link withNetns} fails it).
 */
export function requireNetns(): boolean {
  return !isCi() && netnsUnavailable() !== undefined;
}

/** Runs `ip` with `args`; throws with its stderr when it fails. */
export async function ip(...args: string[]): Promise<void> {
  const r = await new Deno.Command("ip", { args, stdout: "null" }).output();
  if (!r.success) {
    throw new Error(
      `ip ${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`,
    );
  }
}

/**
 * Makes a namespace with multicast on `lo`, runs `body` with its name and
 * deletes the namespace afterwards, also when `body` throws.
 */
export async function withNetns<T>(
  body: (name: string) => Promise<T>,
): Promise<T> {
  const why = netnsUnavailable();
  if (why !== undefined) throw new Error(`Cannot run: ${why}`);
  const name = `sluice-mc-${Deno.pid}-${
    crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)
  }`;
  await ip("netns", "add", name);
  try {
    await ip("-n", name, "link", "set", "lo", "up", "multicast", "on");
    await ip("-n", name, "route", "add", "224.0.0.0/4", "dev", "lo");
    return await body(name);
  } finally {
    await ip("netns", "del", name).catch(() => {});
  }
}
