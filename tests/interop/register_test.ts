/**
 * REGISTER proxying between two Sluice instances on 127.0.0.1: ffmpeg
 * publishes to a camera-side Sluice, which REGISTERs the path at a central
 * Sluice over its own outgoing connection (Digest credentials,
 * reuse_connection) and serves it on that connection; ffmpeg plays the
 * path from the central one over RTSP and RTMP, counting decoded frames.
 * DEREGISTER at the central one stops the pull and frees the path.
 */
import assert from "node:assert/strict";
import {
  assertAllPlay,
  describeInstances as why,
  framesIn,
  publishLive,
  untilFrames,
} from "../_util/live.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

const CAMERA_PATH = "cam/front";
const CENTRAL_PATH = "site1/front";
const USER = "site1";
const PASS = "s3cret";

Deno.test(
  "Sluice behind NAT REGISTERs its path at a central Sluice; ffmpeg plays it there; DEREGISTER stops it",
  opts,
  async () => {
    await using central = startTestSluice({
      publisherGracePeriod: "0s",
      paths: { [CENTRAL_PATH]: { publishUser: USER, publishPass: PASS } },
    });
    const centralUrl = new URL(central.rtspUrl(CENTRAL_PATH));
    centralUrl.username = USER;
    centralUrl.password = PASS;
    await using camera = startTestSluice({
      paths: { [CAMERA_PATH]: { register: centralUrl.toString() } },
    });
    await using _pub = await publishLive(camera, CAMERA_PATH, { seconds: 30 });
    await untilFrames(central, [CENTRAL_PATH], {
      frames: 25,
      timeoutMs: 15_000,
      others: [camera],
    });
    await assertAllPlay([
      {
        url: central.rtspUrl(CENTRAL_PATH),
        inputArgs: ["-rtsp_transport", "tcp"],
      },
      central.rtmpUrl(CENTRAL_PATH),
    ], { video: 35, context: () => why(camera, central) });
    assert.deepEqual(
      camera.sluice.relays.states().map((r) => [r.kind, r.status, r.attempts]),
      [["register", "running", 1]],
    );
    assert.deepEqual(
      central.sluice.registrations.states().map((r) => [r.kind, r.status]),
      [["registered", "running"]],
    );
    assert.equal(central.sluice.registrations.stats.registered, 1);

    // DEREGISTER (Basic credentials, which the central server also takes).
    const raw = await RawRtsp.connect(central.sluice.rtspPort!);
    try {
      const r = await raw.request(
        "DEREGISTER",
        `rtsp://127.0.0.1/${CAMERA_PATH}`,
        {
          Transport: `proxy_url_suffix=${CENTRAL_PATH}`,
          Authorization: `Basic ${btoa(`${USER}:${PASS}`)}`,
        },
      );
      assert.equal(r.status, 200);
      // The pull stopped: the path is free and the camera side saw its link go.
      await until(
        () =>
          !central.sluice.hub.hasPublisher(CENTRAL_PATH) &&
          central.sluice.registrations.size === 0 &&
          camera.sluice.relays.states()[0]?.status !== "running",
        5000,
        () => why(camera, central),
      );
      assert.equal(central.sluice.registrations.stats.deregistered, 1);
      // A second DEREGISTER names nothing registered: 451, as live555 answers.
      const again = await raw.request(
        "DEREGISTER",
        `rtsp://127.0.0.1/${CAMERA_PATH}`,
        {
          Transport: `proxy_url_suffix=${CENTRAL_PATH}`,
          Authorization: `Basic ${btoa(`${USER}:${PASS}`)}`,
        },
      );
      assert.equal(again.status, 451);
    } finally {
      raw.close();
    }
    // The camera side keeps its path offered: it registers again after its
    // backoff, and the stream flows at the central Sluice once more.
    const before = framesIn(central, CENTRAL_PATH);
    await until(
      () => {
        const r = camera.sluice.relays.states()[0];
        return r?.status === "running" && r.attempts === 2 &&
          central.sluice.hub.hasPublisher(CENTRAL_PATH) &&
          framesIn(central, CENTRAL_PATH) >= before + 25;
      },
      15_000,
      () => why(camera, central),
    );
    assert.equal(central.sluice.registrations.stats.registered, 2);
  },
);

Deno.test(
  "REGISTER without reuse_connection makes the central Sluice connect out and pull; ffmpeg plays it",
  opts,
  async () => {
    await using upstream = startTestSluice();
    await using _pub = await publishLive(upstream, CAMERA_PATH, {
      seconds: 20,
    });
    await using central = startTestSluice({
      paths: { [CENTRAL_PATH]: { publishUser: USER, publishPass: PASS } },
    });
    const raw = await RawRtsp.connect(central.sluice.rtspPort!);
    try {
      const r = await raw.request("REGISTER", upstream.rtspUrl(CAMERA_PATH), {
        Transport:
          `preferred_delivery_protocol=interleaved; proxy_url_suffix=${CENTRAL_PATH}`,
        Authorization: `Basic ${btoa(`${USER}:${PASS}`)}`,
      });
      assert.equal(r.status, 200);
    } finally {
      raw.close();
    }
    await untilFrames(central, [CENTRAL_PATH], { others: [upstream] });
    await assertAllPlay([central.rtmpUrl(CENTRAL_PATH)], {
      video: 35,
      context: () => why(central),
    });
    // The registration outlives the connection that made it, until DEREGISTER.
    assert.equal(central.sluice.registrations.has(CENTRAL_PATH), true);
    assert.equal(central.sluice.registrations.deregister(CENTRAL_PATH), true);
    await until(
      () => !central.sluice.hub.hasPublisher(CENTRAL_PATH),
      5000,
      () => why(central),
    );
  },
);
