/**
 * Answers held in memory on the wire: a small shared body (a playlist
 * every viewer asks for) is written as one buffer made once per second for
 * all of them, and reads the same as one made for each.
 */
import assert from "node:assert/strict";
import { type Answer, writeAnswer } from "../../../lib/net/http1/answer.ts";

function sink() {
  const writes: Uint8Array[] = [];
  return {
    writes,
    write(p: Uint8Array): Promise<number> {
      writes.push(p);
      return Promise.resolve(p.length);
    },
  };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const HEADERS = { "content-type": "application/vnd.apple.mpegurl" };

Deno.test("writeAnswer: viewers of one shared playlist get the same bytes, made once", async () => {
  const body = new TextEncoder().encode("#EXTM3U\n#EXT-X-VERSION:9\n");
  const answer: Answer = { status: 200, headers: HEADERS, body };
  const a = sink();
  const b = sink();
  await writeAnswer(a, answer, { head: false, close: false });
  await writeAnswer(b, answer, { head: false, close: false });
  assert.equal(a.writes.length, 1, "head and body in one write");
  const wire = text(a.writes[0]!);
  assert.match(wire, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(wire, /\r\nContent-Type: application\/vnd\.apple\.mpegurl\r\n/);
  assert.match(wire, new RegExp(`\r\nContent-Length: ${body.length}\r\n`));
  assert.ok(wire.endsWith(`\r\n\r\n${text(body)}`));
  // within the same second (Date) the second viewer gets the very buffer
  const undated = (t: string) => t.replace(/Date: [^\r]*/, "");
  assert.equal(undated(text(b.writes[0]!)), undated(wire));
  if (text(b.writes[0]!) === wire) {
    assert.equal(b.writes[0], a.writes[0], "made once");
  }
});

Deno.test("writeAnswer: HEAD, Connection: close and another status each get their own head", async () => {
  const body = new TextEncoder().encode("#EXTM3U\n");
  const answer: Answer = { status: 200, headers: HEADERS, body };
  const head = sink();
  await writeAnswer(head, answer, { head: true, close: false });
  const h = text(head.writes[0]!);
  assert.ok(h.endsWith("\r\n\r\n"), "no body after a HEAD's head");
  assert.match(h, new RegExp(`Content-Length: ${body.length}\r\n`));
  const closing = sink();
  await writeAnswer(closing, answer, { head: false, close: true });
  assert.match(text(closing.writes[0]!), /\r\nConnection: close\r\n/);
  const plain = sink();
  await writeAnswer(plain, answer, { head: false, close: false });
  assert.doesNotMatch(text(plain.writes[0]!), /Connection: close/);
  const gone = sink();
  await writeAnswer(gone, { ...answer, status: 404 }, {
    head: false,
    close: false,
  });
  assert.match(text(gone.writes[0]!), /^HTTP\/1\.1 404 /);
});

Deno.test("writeAnswer: a large shared body goes after its head, not joined", async () => {
  const body = new Uint8Array(64 * 1024).fill(7);
  const out = sink();
  await writeAnswer(out, { status: 200, headers: HEADERS, body }, {
    head: false,
    close: false,
  });
  assert.equal(out.writes.length, 2);
  assert.equal(out.writes[1], body, "the body itself, no copy");
});
