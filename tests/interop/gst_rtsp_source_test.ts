/**
 * Sluice pulls a real GStreamer RTSP server (gst-rtsp-server through
 * python3-gst, `tests/_util/gst_rtsp_server.py`) over UDP and TCP, with and
 * without Digest auth, always or on demand, across a server restart; ffmpeg
 * plays the pulled path over RTMP and RTSP and counts what it decodes.
 */
import assert from "node:assert/strict";
import { assertDecodedH264Aac, playAndCount } from "../_util/ffmpeg.ts";
import { spawn, type Spawned } from "../_util/process.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg") || requireTool("python3");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

const SCRIPT = new URL("../_util/gst_rtsp_server.py", import.meta.url)
  .pathname;

/** A running gst_rtsp_server.py and the events it printed. */
interface GstServer extends AsyncDisposable {
  port: number;
  /** rtsp://[user:pass@]127.0.0.1:<port>/test */
  url(credentials?: string): string;
  /** How many times the server printed `event` ("connected", "closed", "play"). */
  count(event: string): number;
  stop(): Promise<void>;
  stderr(): string;
}

interface GstServerOptions {
  /** @default a free port */
  port?: number;
  auth?: "digest" | "basic";
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** Starts the server and resolves once it printed "ready". */
async function startGstServer(
  options: GstServerOptions = {},
): Promise<GstServer> {
  const port = options.port ?? freePort();
  const args = [SCRIPT, "--port", String(port), "--max-seconds", "90"];
  if (options.auth) {
    args.push("--auth", options.auth, "--user", "cam", "--password", "s3cret");
  }
  const events: string[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => onReady = r);
  const run: Spawned = spawn("python3", args, {
    timeoutMs: 90_000,
    onStdoutLine: (line) => {
      if (line.startsWith("ready")) onReady();
      else events.push(line.trim());
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready"),
    run.status.then(() => "exited"),
    new Promise((r) => timer = setTimeout(() => r("timeout"), 10_000)),
  ]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    await run.stop();
    throw new Error(
      `gst_rtsp_server.py did not start (${outcome}):\n${run.stderr()}`,
    );
  }
  return {
    port,
    url: (credentials) =>
      `rtsp://${credentials ? `${credentials}@` : ""}127.0.0.1:${port}/test`,
    count: (event) => events.filter((e) => e === event).length,
    stop: run.stop,
    stderr: run.stderr,
    [Symbol.asyncDispose]: run.stop,
  };
}

function relay(s: TestSluice) {
  return s.sluice.relays.states()[0];
}

function why(s: TestSluice, server?: GstServer): string {
  return `relays ${JSON.stringify(s.sluice.relays.states())}\n${
    s.logs.join("\n")
  }${server ? `\n--- gst server ---\n${server.stderr()}` : ""}`;
}

const PATH = "live/cam";

for (const transport of ["udp", "tcp"] as const) {
  for (const auth of [undefined, "digest"] as const) {
    Deno.test(
      `Relay pulls GStreamer's RTSP server over ${transport}${
        auth ? " with Digest auth" : ""
      }; ffmpeg plays it over RTMP and RTSP`,
      opts,
      async () => {
        await using server = await startGstServer({ auth });
        await using s = startTestSluice({
          paths: {
            [PATH]: {
              source: server.url(auth ? "cam:s3cret" : undefined),
              rtspTransport: transport,
            },
          },
        });
        await until(
          () => (s.sluice.hub.stream(PATH)?.stats.framesIn ?? 0) >= 10,
          10_000,
          () => why(s, server),
        );
        assert.ok(
          s.logs.some((l) =>
            l.includes("pulling") && l.includes(`transport=${transport}`)
          ),
          why(s),
        );
        const [rtmp, rtsp] = await Promise.all([
          playAndCount(s.rtmpUrl(PATH), { seconds: 2, timeoutMs: 15_000 }),
          playAndCount(s.rtspUrl(PATH), {
            seconds: 2,
            timeoutMs: 15_000,
            inputArgs: ["-rtsp_transport", "tcp"],
          }),
        ]);
        assertDecodedH264Aac(rtmp, { video: 35 });
        assertDecodedH264Aac(rtsp, { video: 35 });
        assert.deepEqual([relay(s)?.status, relay(s)?.attempts], [
          "running",
          1,
        ]);
        assert.equal(
          server.count("connected"),
          1,
          "one connection to the source",
        );
      },
    );
  }
}

for (const auth of ["digest", "basic"] as const) {
  Deno.test(
    `Relay with a wrong ${auth} password keeps retrying and says 401`,
    opts,
    async () => {
      await using server = await startGstServer({ auth });
      await using s = startTestSluice({
        paths: {
          [PATH]: { source: server.url("cam:wrong"), rtspTransport: "tcp" },
        },
      });
      await until(
        () => relay(s)?.status === "retrying",
        8000,
        () => why(s, server),
      );
      const state = relay(s)!;
      assert.match(state.lastError ?? "", /401|wrong user name or password/);
      assert.doesNotMatch(state.url, /wrong/, "the password is not shown");
      assert.equal(s.sluice.hub.hasPublisher(PATH), false);
    },
  );
}

Deno.test(
  "Relay with the right Basic password pulls GStreamer's RTSP server",
  opts,
  async () => {
    await using server = await startGstServer({ auth: "basic" });
    await using s = startTestSluice({
      paths: {
        [PATH]: { source: server.url("cam:s3cret"), rtspTransport: "tcp" },
      },
    });
    await until(
      () => (s.sluice.hub.stream(PATH)?.stats.framesIn ?? 0) >= 25,
      10_000,
      () => why(s, server),
    );
    assert.equal(relay(s)?.status, "running");
  },
);

Deno.test(
  "Relay pulls GStreamer's RTSP server through an HTTP tunnel (rtsph://) with Digest auth; ffmpeg plays it",
  opts,
  async () => {
    await using server = await startGstServer({ auth: "digest" });
    await using s = startTestSluice({
      paths: {
        [PATH]: {
          source: server.url("cam:s3cret").replace(/^rtsp:/, "rtsph:"),
        },
      },
    });
    await until(
      () => (s.sluice.hub.stream(PATH)?.stats.framesIn ?? 0) >= 10,
      10_000,
      () => why(s, server),
    );
    assert.ok(
      s.logs.some((l) => l.includes("pulling") && l.includes("transport=tcp")),
      why(s),
    );
    const r = await playAndCount(s.rtmpUrl(PATH), {
      seconds: 2,
      timeoutMs: 15_000,
    });
    assertDecodedH264Aac(r, { video: 35 });
    // The GET and the POST: two connections, one RTSP client for the server.
    assert.equal(server.count("connected"), 2, why(s, server));
    assert.equal(relay(s)?.attempts, 1);
  },
);

Deno.test(
  "On-demand relay: no connection until a reader comes, stops ~1 s after it left",
  opts,
  async () => {
    await using server = await startGstServer();
    await using s = startTestSluice({
      paths: {
        [PATH]: {
          source: server.url(),
          rtspTransport: "tcp",
          sourceOnDemand: true,
          sourceOnDemandCloseAfter: "1s",
        },
      },
    });
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(server.count("connected"), 0, "no connection without readers");
    assert.deepEqual(s.sluice.relays.states(), []);

    // Two rounds, an RTMP reader then an RTSP one: each starts the pull, and
    // the pull stops again once the reader has been gone for a second.
    const stoppedAfterMs: number[] = [];
    for (const [round, url] of [s.rtmpUrl(PATH), s.rtspUrl(PATH)].entries()) {
      // When the reader and the pull were last seen, to 20 ms.
      let readerSeenMs = 0;
      let pullSeenMs = 0;
      const watch = setInterval(() => {
        if ((s.sluice.hub.stream(PATH)?.readers ?? 0) > 0) {
          readerSeenMs = Date.now();
        }
        if (s.sluice.relays.states().length > 0) pullSeenMs = Date.now();
      }, 20);
      try {
        const r = await playAndCount(url, {
          seconds: 2,
          timeoutMs: 15_000,
          inputArgs: round === 1 ? ["-rtsp_transport", "tcp"] : [],
        });
        assertDecodedH264Aac(r, { video: 35 });
        assert.equal(server.count("connected"), round + 1);
        assert.equal(server.count("play"), round + 1);
        await until(
          () =>
            s.sluice.relays.states().length === 0 &&
            server.count("closed") === round + 1,
          5000,
          () => why(s, server),
        );
      } finally {
        clearInterval(watch);
      }
      stoppedAfterMs.push(pullSeenMs - readerSeenMs);
      assert.equal(s.sluice.hub.hasPublisher(PATH), false);
    }
    assert.ok(
      stoppedAfterMs.every((ms) => ms >= 900 && ms < 3000),
      `stopped ${
        stoppedAfterMs.join(" and ")
      } ms after the reader left (sourceOnDemandCloseAfter 1s)`,
    );
  },
);

Deno.test(
  "Relay retries a source that dies; an RTMP reader that stayed resumes on a keyframe",
  opts,
  async () => {
    let server = await startGstServer();
    const port = server.port;
    try {
      await using s = startTestSluice({
        publisherGracePeriod: "20s",
        paths: { [PATH]: { source: server.url(), rtspTransport: "tcp" } },
      });
      await until(
        () => relay(s)?.status === "running",
        10_000,
        () => why(s, server),
      );
      // 8 s of media: about 2 s before the source dies, the rest after it is back.
      const playing = playAndCount(s.rtmpUrl(PATH), {
        seconds: 8,
        timeoutMs: 30_000,
      });
      await until(
        () => (s.sluice.hub.stream(PATH)?.readers ?? 0) > 0,
        5000,
        () => why(s),
      );
      await new Promise((r) => setTimeout(r, 2000));
      await server.stop();
      await until(
        () => relay(s)?.status === "retrying",
        5000,
        () => why(s),
      );
      await new Promise((r) => setTimeout(r, 700));
      server = await startGstServer({ port });
      await until(
        () => relay(s)?.status === "running" && (relay(s)?.attempts ?? 0) >= 2,
        10_000,
        () => why(s, server),
      );
      const r = await playing;
      assert.equal(r.timedOut, false, r.stderr);
      assertDecodedH264Aac(r, { video: 150 });
      assert.equal(s.sluice.hub.stream(PATH)?.stats.publishers, 2);
    } finally {
      await server.stop();
    }
  },
);
