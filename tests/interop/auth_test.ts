/**
 * Users, permissions, external auth and JWTs with real clients: ffmpeg
 * publishes over RTMP and plays over RTSP (Basic and Digest), RTMP and
 * HTTP-FLV, each decoding frames; wrong credentials, other paths and other
 * address ranges are refused with each protocol's answer.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { hashPassword } from "../../lib/auth/password.ts";
import { playAndCount, publishTestSignal } from "../_util/ffmpeg.ts";
import { gstRtspPlayAndCount } from "../_util/gst.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const SIGNAL = { seconds: 20, width: 160, height: 128 } as const;
const PLAY = { seconds: 1.5, timeoutMs: 20_000 } as const;

/** Plays `url` and asserts that ffmpeg decoded 160x128 H.264 frames. */
async function assertPlays(url: string, what: string): Promise<void> {
  const r = await playAndCount(url, PLAY);
  assert.equal(r.code, 0, `${what}\n${r.stderr}`);
  assert.equal(r.video?.codec, "h264", what);
  assert.equal(r.video?.width, 160, what);
  assert.ok(r.video!.frames >= 25, `${what}: ${r.video?.frames} frames`);
}

/** Plays `url` and asserts that ffmpeg was refused with `refusal`. */
async function assertRefused(url: string, refusal: RegExp, what: string) {
  const r = await playAndCount(url, { ...PLAY, timeoutMs: 15_000 });
  assert.notEqual(r.code, 0, what);
  assert.equal(r.video, undefined, `${what}: no frame`);
  assert.match(r.stderr, refusal, what);
}

Deno.test(
  "Auth: users with ~regex paths, a hashed password and IP ranges hold over RTMP, RTSP and HTTP-FLV",
  opts,
  async () => {
    await using s = startTestSluice({
      users: [
        {
          user: "cam",
          pass: "campw",
          permissions: [{ action: "publish", path: "~^live/.*" }],
        },
        {
          user: "viewer",
          passHash: await hashPassword("v!ew"),
          permissions: [{ action: "read", path: "live/cam" }],
        },
        {
          user: "lan",
          pass: "lanpw",
          ips: ["10.0.0.0/8", "fd00::/8"],
          permissions: [{ action: "read" }],
        },
      ],
    });
    const rtsp = `127.0.0.1:${s.sluice.rtspPort}`;
    const http = `127.0.0.1:${s.sluice.httpPort}`;
    // Anonymous and out-of-pattern publishers are refused by RTMP.
    const anon = publishTestSignal(s.rtmpUrl("live/cam"), SIGNAL);
    assert.notEqual((await anon.status).code, 0, "anonymous publish");
    const other = publishTestSignal(
      `${s.rtmpUrl("other/cam")}?user=cam&pass=campw`,
      SIGNAL,
    );
    assert.notEqual((await other.status).code, 0, "publish outside ~^live/");
    assert.equal(s.sluice.hub.hasPublisher("other/cam"), false);
    await using _pub = publishTestSignal(
      `${s.rtmpUrl("live/cam")}?user=cam&pass=campw`,
      SIGNAL,
    );
    await s.published("live/cam", { frames: 10 });
    // RTSP ANNOUNCE/RECORD goes through the same users.
    await using _rtspPub = publishTestSignal(
      `rtsp://cam:campw@${rtsp}/live/cam2`,
      { ...SIGNAL, format: "rtsp", rtspTransport: "tcp" },
    );
    await s.published("live/cam2", { frames: 10 });
    const wrongPub = publishTestSignal(`rtsp://cam:nope@${rtsp}/live/cam3`, {
      ...SIGNAL,
      format: "rtsp",
      rtspTransport: "tcp",
    });
    assert.notEqual((await wrongPub.status).code, 0, "RTSP wrong password");
    assert.match(wrongPub.stderr(), /401|Unauthorized/);
    // A hashed password: RTSP offers Basic only, and ffmpeg answers it.
    await assertPlays(`rtsp://viewer:v!ew@${rtsp}/live/cam`, "RTSP Basic");
    await assertPlays(`http://viewer:v!ew@${http}/live/cam.flv`, "HTTP-FLV");
    await assertPlays(
      `${s.rtmpUrl("live/cam")}?user=viewer&pass=v!ew`,
      "RTMP play",
    );
    await assertRefused(
      `rtsp://viewer:wrong@${rtsp}/live/cam`,
      /401|Unauthorized/,
      "wrong password",
    );
    await assertRefused(
      `rtsp://lan:lanpw@${rtsp}/live/cam`,
      /401|Unauthorized/,
      "127.0.0.1 is outside lan's ranges",
    );
    await assertRefused(
      `http://${http}/live/cam.flv`,
      /401|Unauthorized/,
      "anonymous HTTP-FLV",
    );
    assert.ok(s.logs.some((l) => l.includes("authentication failed")));
  },
);

Deno.test(
  "Auth: ffmpeg answers RTSP Digest for a user with a plain password",
  opts,
  async () => {
    await using s = startTestSluice({
      users: [
        { user: "any", permissions: [{ action: "publish" }] },
        {
          user: "viewer",
          pass: "pa55",
          permissions: [{ action: "read", path: "~^live/(a|b)$" }],
        },
      ],
    }, "debug");
    const rtsp = `127.0.0.1:${s.sluice.rtspPort}`;
    await using _pub = publishTestSignal(s.rtmpUrl("live/a"), SIGNAL);
    await s.published("live/a", { frames: 10 });
    await assertPlays(`rtsp://viewer:pa55@${rtsp}/live/a`, "RTSP Digest");
    const authorized = s.logs.filter((l) => l.includes("authorized"));
    assert.ok(
      authorized.some((l) => l.includes("Digest")),
      authorized.join("\n"),
    );
    assert.ok(authorized.every((l) => !l.includes("Basic")));
    await assertRefused(
      `rtsp://viewer:nope@${rtsp}/live/a`,
      /401|Unauthorized/,
      "wrong Digest answer",
    );
  },
);

Deno.test(
  "Auth: repeated wrong RTMP passwords block the address, even for the right one",
  opts,
  async () => {
    await using s = startTestSluice({
      users: [{
        user: "cam",
        pass: "pw",
        permissions: [{ action: "publish" }],
      }],
    });
    for (let i = 0; i < 5; i++) {
      const bad = publishTestSignal(
        `${s.rtmpUrl("live/x")}?user=cam&pass=bad${i}`,
        { ...SIGNAL, seconds: 2 },
      );
      assert.notEqual((await bad.status).code, 0);
    }
    const good = publishTestSignal(
      `${s.rtmpUrl("live/x")}?user=cam&pass=pw`,
      { ...SIGNAL, seconds: 2 },
    );
    assert.notEqual((await good.status).code, 0, "blocked address refused");
    assert.equal(s.sluice.hub.hasPublisher("live/x"), false);
    assert.ok(
      s.logs.some((l) => l.includes("address blocked")),
      s.logs.join("\n"),
    );
    assert.ok(s.logs.some((l) => l.includes("too many failures")));
  },
);

/** An auth endpoint: allows `good`/`pw`, hangs for user `hang`. */
function authEndpoint() {
  const asked: Record<string, string>[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (r) => {
      const body = await r.json();
      asked.push(body);
      if (body.user === "hang") {
        await new Promise((res) => setTimeout(res, 5000));
      }
      const ok = body.user === "good" && body.password === "pw";
      return new Response(ok ? "{}" : "no", { status: ok ? 200 : 403 });
    },
  );
  return { server, asked, url: `http://127.0.0.1:${server.addr.port}/auth` };
}

Deno.test(
  "Auth: authHTTPAddress decides RTMP and RTSP; a hanging endpoint refuses one player and stalls no other",
  opts,
  async () => {
    const e = authEndpoint();
    try {
      await using s = startTestSluice({ authHTTPAddress: e.url });
      const rtsp = `127.0.0.1:${s.sluice.rtspPort}`;
      await using _pub = publishTestSignal(
        `${s.rtmpUrl("live/ext")}?user=good&pass=pw&key=1`,
        SIGNAL,
      );
      await s.published("live/ext", { frames: 10 });
      const pub = e.asked.find((b) => b.action === "publish")!;
      assert.equal(pub.protocol, "rtmp");
      assert.equal(pub.path, "live/ext");
      assert.equal(pub.ip, "127.0.0.1");
      assert.equal(pub.query, "user=good&pass=pw&key=1");
      const t0 = Date.now();
      const [hung] = await Promise.all([
        playAndCount(`rtsp://hang:x@${rtsp}/live/ext`, PLAY),
        assertPlays(`rtsp://good:pw@${rtsp}/live/ext`, "RTSP via endpoint"),
      ]);
      assert.notEqual(hung.code, 0, "the hanging endpoint refuses");
      assert.match(hung.stderr, /401|Unauthorized/);
      assert.ok(Date.now() - t0 < 15_000);
      assert.ok(
        s.logs.some((l) => l.includes("did not answer within 3000 ms")),
        s.logs.join("\n"),
      );
      await assertRefused(
        `${s.rtmpUrl("live/ext")}?user=good&pass=nope`,
        /error|failed|Failed|refused/,
        "RTMP play the endpoint refuses",
      );
    } finally {
      await e.server.shutdown();
    }
  },
);

Deno.test(
  "Auth: JWTs from a served JWKS let ffmpeg publish over RTMP and play over RTSP and HTTP-FLV",
  opts,
  async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...await exportJWK(publicKey), kid: "t", alg: "RS256" };
    const jwks = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => Response.json({ keys: [jwk] }),
    );
    const token = (permissions: unknown) =>
      new SignJWT({ sluice_permissions: permissions })
        .setProtectedHeader({ alg: "RS256", kid: "t" })
        .setExpirationTime("5m")
        .sign(privateKey);
    try {
      await using s = startTestSluice({
        authJWTJWKS: `http://127.0.0.1:${jwks.addr.port}/.well-known/jwks.json`,
        users: [],
      });
      const publisher = await token([{ action: "publish", path: "live/j" }]);
      const reader = await token([{ action: "read", path: "~^live/" }]);
      await using _pub = publishTestSignal(
        `${s.rtmpUrl("live/j")}?jwt=${publisher}`,
        SIGNAL,
      );
      await s.published("live/j", { frames: 10 });
      const rtsp = `127.0.0.1:${s.sluice.rtspPort}`;
      // ffmpeg keeps 127 bytes of a password: a JWT goes in the query.
      await assertPlays(`rtsp://${rtsp}/live/j?jwt=${reader}`, "RTSP ?jwt=");
      await assertPlays(
        `${s.flvUrl("live/j")}?jwt=${reader}`,
        "HTTP-FLV ?jwt=",
      );
      await assertRefused(
        `${s.flvUrl("live/j")}?jwt=${publisher}`,
        /401|Unauthorized/,
        "a publish token cannot read",
      );
    } finally {
      await jwks.shutdown();
    }
  },
);

Deno.test(
  "Auth: GStreamer's rtspsrc answers Digest for a user and Basic for a hashed one",
  {
    ...opts,
    ignore: ignore || requireTool("gst-launch-1.0") || requireTool("python3"),
  },
  async () => {
    const viewer = (secret: { pass: string } | { passHash: string }) => [
      { user: "any", permissions: [{ action: "publish" as const }] },
      { user: "viewer", ...secret, permissions: [{ action: "read" as const }] },
    ];
    const cases = [
      ["Digest", viewer({ pass: "pa55" })],
      ["Basic", viewer({ passHash: await hashPassword("pa55") })],
    ] as const;
    for (const [scheme, list] of cases) {
      await using s = startTestSluice({ users: list }, "debug");
      await using _pub = publishTestSignal(s.rtmpUrl("live/g"), SIGNAL);
      await s.published("live/g", { frames: 10 });
      const rtsp = `127.0.0.1:${s.sluice.rtspPort}`;
      const r = await gstRtspPlayAndCount(`rtsp://viewer:pa55@${rtsp}/live/g`, {
        transport: "tcp",
        frames: 25,
        timeoutMs: 20_000,
      });
      assert.ok(r.frames >= 25, `${scheme}: ${r.frames} frames\n${r.stderr}`);
      assert.ok(r.sizes.has(160 * 128 * 1.5), `${scheme}: 160x128 I420`);
      const used = s.logs.filter((l) => l.includes(" authorized "));
      assert.ok(
        used.length > 0 && used.every((l) => l.includes(`scheme=${scheme}`)),
        used.join("\n"),
      );
    }
  },
);
