/**
 * External tools the interop tests run, and whether a test may run here.
 *
 * Off CI a test that needs a missing tool is skipped; in CI (`CI=true`) it
 * runs anyway and fails with a message naming the tool and its package, so a
 * broken install can never pass as skipped tests.
 *
 * ```ts ignore
 * Deno.test({ name: "…", ignore: requireTool("ffmpeg") }, async () => { … });
 * ```
 */

/** A tool an interop test may need. */
export type Tool =
  | "ffmpeg"
  | "ffprobe"
  | "gst-launch-1.0"
  | "gst-discoverer-1.0"
  | "python3"
  | "cvlc"
  | "openssl"
  | "prometheus"
  | "promtool"
  | "chromium";

interface ToolProbe {
  /** Commands to try in order; the first that answers is used. */
  candidates: string[];
  args: string[];
  /** What to install when it is missing. */
  install: string;
  /** It refuses to run as root (VLC): probe it as nobody when we are root. */
  notAsRoot?: boolean;
}

const PROBES: Record<Tool, ToolProbe> = {
  ffmpeg: {
    candidates: ["ffmpeg"],
    args: ["-hide_banner", "-version"],
    install: "ffmpeg",
  },
  ffprobe: {
    candidates: ["ffprobe"],
    args: ["-hide_banner", "-version"],
    install: "ffmpeg",
  },
  "gst-launch-1.0": {
    candidates: ["gst-launch-1.0"],
    args: ["--version"],
    install: "gstreamer1.0-tools",
  },
  "gst-discoverer-1.0": {
    candidates: ["gst-discoverer-1.0"],
    args: ["--gst-version"],
    install: "gstreamer1.0-plugins-base-apps",
  },
  openssl: {
    candidates: ["openssl"],
    args: ["version"],
    install: "openssl",
  },
  prometheus: {
    candidates: ["prometheus"],
    args: ["--version"],
    install: "prometheus",
  },
  promtool: {
    candidates: ["promtool"],
    args: ["--version"],
    install: "prometheus",
  },
  chromium: {
    candidates: ["/usr/bin/chromium", "chromium"],
    args: ["--version"],
    install: "chromium",
  },
  cvlc: {
    candidates: ["cvlc"],
    args: ["--version"],
    install: "vlc-bin vlc-plugin-base",
    notAsRoot: true,
  },
  // A python3 from pyenv or a venv lacks the distribution's gi bindings, so
  // the system interpreter is tried as well.
  python3: {
    candidates: ["python3", "/usr/bin/python3"],
    args: [
      "-c",
      "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); " +
      "from gi.repository import Gst, GstRtspServer",
    ],
    install: "python3-gst-1.0 gir1.2-gst-rtsp-server-1.0",
  },
};

const found = new Map<Tool, string | null>();

/** Whether this run is CI (`CI=true` or `CI=1`), where nothing may be skipped. */
export function isCi(): boolean {
  const ci = Deno.env.get("CI")?.toLowerCase();
  return ci === "true" || ci === "1";
}

/**
 * The value for `Deno.test`'s `ignore`: `true` (skip) when `name` is missing
 * here, but never in CI, where the test runs and {@link toolPath} fails it.
 */
export function requireTool(name: Tool): boolean {
  return !isCi() && locate(name) === null;
}

/**
 * The command that runs `name` (for `python3`, an interpreter with the
 * Gst and GstRtspServer introspection modules).
 *
 * @throws {Error} naming the tool and the Debian package when it is missing
 */
export function toolPath(name: Tool): string {
  const path = locate(name);
  if (path !== null) return path;
  const what = name === "python3"
    ? "python3 with the Gst and GstRtspServer modules"
    : name;
  throw new Error(
    `Cannot run ${what}: not installed${
      isCi() ? " on this CI machine" : ""
    }; ` +
      `install the Debian package(s) ${PROBES[name].install} (.ci/run does)`,
  );
}

function locate(name: Tool): string | null {
  let path = found.get(name);
  if (path === undefined) {
    const probe = PROBES[name];
    const asNobody = probe.notAsRoot === true && Deno.uid() === 0;
    path = probe.candidates.find((command) =>
      asNobody
        ? answers("runuser", ["-u", "nobody", "--", command, ...probe.args])
        : answers(command, probe.args)
    ) ?? null;
    found.set(name, path);
  }
  return path;
}

function answers(command: string, args: string[]): boolean {
  try {
    const { success } = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return success;
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.PermissionDenied
    ) {
      return false;
    }
    throw error; // no --allow-run (NotCapable): a setup problem to report, not a skip
  }
}
