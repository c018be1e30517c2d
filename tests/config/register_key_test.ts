/** The per-path `register` key: an rtsp:// URL with a host, and a valid name if it has one. */
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../lib/config/mod.ts";

Deno.test("parseConfig reads a path's register URL", () => {
  for (
    const url of [
      "rtsp://user:pass@central.example:8554/site1/cam",
      "rtsp://central.example",
      "rtsp://[::1]:8554/",
      "rtsp://10.0.0.1/caf%C3%A9",
    ]
  ) {
    const config = parseConfig({ paths: { cam: { register: url } } });
    assert.equal(config.paths["cam"]?.register, url);
  }
});

Deno.test("parseConfig refuses a register key that is no rtsp:// URL with a valid name", () => {
  for (
    const url of [
      "rtmp://central.example/live/cam",
      "http://central.example/cam",
      "rtsp://",
      "rtsp://central.example/site/../cam",
      "rtsp://central.example/%2e%2e",
      "rtsp://central example/cam",
    ]
  ) {
    assert.throws(
      () => parseConfig({ paths: { cam: { register: url } } }),
      (e) =>
        e instanceof ConfigError &&
        e.problems.some((p) => p.includes("register")),
      url,
    );
  }
});
