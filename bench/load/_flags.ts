/**
 * Command-line flags of the fan-out runner and of its load client processes:
 * `--name value` or `--name=value`, checked as they are read, and a flag
 * nobody read is an error (a typo or a flag that is gone).
 *
 * @module
 */

/** The flags of one command line. */
export class Flags {
  readonly #values = new Map<string, string>();
  readonly #read = new Set<string>();

  constructor(argv: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (!a.startsWith("--")) {
        throw new Error(`Cannot read argument "${a}": expected --name value`);
      }
      const eq = a.indexOf("=");
      if (eq > 0) this.#values.set(a.slice(2, eq), a.slice(eq + 1));
      else this.#values.set(a.slice(2), argv[++i] ?? "");
    }
  }

  /** The value of `--name`, or `fallback`; without a fallback the flag is required. */
  string(name: string, fallback?: string): string {
    this.#read.add(name);
    const v = this.#values.get(name) ?? fallback;
    if (v === undefined) throw new Error(`Cannot run without --${name}`);
    return v;
  }

  /** A number within `min`..`max`; without a fallback the flag is required. */
  number(
    name: string,
    fallback: number | undefined,
    min: number,
    max: number,
  ): number {
    const text = this.string(name, fallback?.toString());
    const v = Number(text);
    if (text.trim() === "" || !(v >= min && v <= max)) {
      throw new Error(
        `Cannot use --${name} "${text}": expected ${min}..${max}`,
      );
    }
    return v;
  }

  /** One of `known`. */
  oneOf<T extends string>(
    name: string,
    known: readonly T[],
    fallback?: T,
  ): T {
    const v = this.string(name, fallback);
    if (!known.includes(v as T)) {
      throw new Error(
        `Cannot use --${name} "${v}": expected ${known.join(", ")}`,
      );
    }
    return v as T;
  }

  /** A comma-separated list of `known` items (all of them by default). */
  list<T extends string>(
    name: string,
    known: readonly T[],
    fallback: readonly T[] = known,
  ): T[] {
    const out = this.string(name, fallback.join(",")).split(",").map((s) =>
      s.trim()
    );
    for (const s of out) {
      if (!known.includes(s as T)) {
        throw new Error(
          `Cannot use --${name} "${s}": expected ${known.join(", ")}`,
        );
      }
    }
    return out as T[];
  }

  /** Throws when a flag was given that nothing read. */
  checkAllRead(): void {
    const unknown = [...this.#values.keys()].filter((k) => !this.#read.has(k));
    if (unknown.length > 0) {
      throw new Error(
        `Cannot use --${unknown[0]}: unknown flag (known: ${
          [...this.#read].map((k) => `--${k}`).join(" ")
        })`,
      );
    }
  }
}
