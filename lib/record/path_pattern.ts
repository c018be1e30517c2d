/**
 * Recording file names: `recordPath` patterns such as
 * `./recordings/%path/%Y-%m-%d_%H-%M-%S-%f`, filled in for a stream path and
 * a start time, and read back (path and start) from a file name when the
 * index is rebuilt. Every name stays inside the recordings root: the
 * folders of the pattern before its first field.
 *
 * @module
 */

import { isValidPath } from "../path.ts";

/** The fields a pattern may name, each with the digits it expands to. */
const TIME_FIELDS: Record<string, number> = {
  Y: 4,
  m: 2,
  d: 2,
  H: 2,
  M: 2,
  S: 2,
  f: 6,
};
const FIELD = /%(path|[YmdHMSf])/g;

/** A `recordPath` pattern, split into its root and the part filled in per segment. */
export class RecordPathPattern {
  /** Absolute folder no segment leaves. */
  readonly root: string;
  /** The pattern below the root (`%path/%Y-…`). */
  readonly relative: string;
  readonly #reader: RegExp;
  readonly #fields: string[] = [];

  /**
   * `pattern` as the configuration holds it (validated there); `cwd`
   * resolves a relative root.
   *
   * @throws {RangeError} when the pattern has a `..` segment or no field
   */
  constructor(pattern: string, cwd: string) {
    const segments = pattern.split("/");
    if (segments.some((s) => s === "..")) {
      throw new RangeError(
        `Cannot use recordPath "${pattern}": it has a .. segment`,
      );
    }
    const first = segments.findIndex((s) => s.includes("%"));
    if (first === -1 || first === segments.length) {
      throw new RangeError(`Cannot use recordPath "${pattern}": no field`);
    }
    const head = segments.slice(0, first).join("/");
    this.root = normalize(
      head.startsWith("/") ? head : `${cwd}/${head}`,
    );
    this.relative = segments.slice(first).join("/");
    let source = "";
    let last = 0;
    for (const m of this.relative.matchAll(FIELD)) {
      source += escape(this.relative.slice(last, m.index));
      const name = m[1]!;
      this.#fields.push(name);
      source += name === "path" ? "(.+?)" : `(\\d{${TIME_FIELDS[name]}})`;
      last = m.index + m[0].length;
    }
    source += escape(this.relative.slice(last));
    this.#reader = new RegExp(`^${source}\\.(mp4|flv)$`);
  }

  /**
   * The absolute file of a segment of `path` starting at `startMs` (UTC),
   * with `extension`; `undefined` when `path` is not a valid stream path
   * or the name would leave the root.
   */
  file(path: string, startMs: number, extension: string): string | undefined {
    if (!isValidPath(path)) return undefined;
    const date = new Date(startMs);
    const values: Record<string, string> = {
      path,
      Y: pad(date.getUTCFullYear(), 4),
      m: pad(date.getUTCMonth() + 1, 2),
      d: pad(date.getUTCDate(), 2),
      H: pad(date.getUTCHours(), 2),
      M: pad(date.getUTCMinutes(), 2),
      S: pad(date.getUTCSeconds(), 2),
      f: pad(date.getUTCMilliseconds() * 1000, 6),
    };
    // One pass: a `%Y` inside a stream path stays text.
    const name = this.relative.replace(FIELD, (_, f: string) => values[f]!);
    const file = normalize(`${this.root}/${name}.${extension}`);
    return inside(this.root, file) ? file : undefined;
  }

  /**
   * The stream path and start (ms, UTC) a segment file name says, or
   * `undefined` when `file` (absolute) is not one of this pattern's.
   */
  read(
    file: string,
  ): { path: string; startMs: number; format: "fmp4" | "flv" } | undefined {
    if (!inside(this.root, file)) return undefined;
    const m = this.#reader.exec(file.slice(this.root.length + 1));
    if (m === null) return undefined;
    const t: Record<string, number> = { Y: 1970, m: 1, d: 1 };
    let path = "";
    this.#fields.forEach((name, i) => {
      if (name === "path") path = m[i + 1]!;
      else t[name] = Number(m[i + 1]);
    });
    if (!isValidPath(path)) return undefined;
    const startMs = Date.UTC(
      t.Y!,
      t.m! - 1,
      t.d!,
      t.H ?? 0,
      t.M ?? 0,
      t.S ?? 0,
    ) + Math.floor((t.f ?? 0) / 1000);
    const format = m[this.#fields.length + 1] === "flv" ? "flv" : "fmp4";
    return Number.isFinite(startMs) ? { path, startMs, format } : undefined;
  }
}

/** Whether `file` (normalized, absolute) lies below `root`. */
export function inside(root: string, file: string): boolean {
  return file.startsWith(root === "/" ? "/" : `${root}/`) && file !== root;
}

/**
 * Whether `file`'s folder, with symbolic links resolved, still lies below
 * the root with its links resolved: a link inside the recordings that
 * points elsewhere is not followed.
 */
export async function confined(root: string, file: string): Promise<boolean> {
  try {
    const realRoot = await Deno.realPath(root);
    const dir = file.slice(0, file.lastIndexOf("/"));
    const realDir = await Deno.realPath(dir);
    if (realDir !== realRoot && !inside(realRoot, realDir)) return false;
    const info = await Deno.lstat(file).catch(() => undefined);
    return info === undefined || !info.isSymlink;
  } catch {
    return false;
  }
}

/** Collapses `.`, empty segments and (already refused) `..` of an absolute path. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const s of path.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return `/${out.join("/")}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
