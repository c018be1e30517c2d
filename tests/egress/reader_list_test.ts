import assert from "node:assert/strict";
import { ReaderList } from "../../lib/egress/_reader_list.ts";

Deno.test("ReaderList: a list handed out never changes; adding and removing make a new one", () => {
  const readers = new ReaderList<string>();
  readers.add("a");
  readers.add("b");
  readers.add("a"); // already there
  const before = readers.list;
  assert.deepEqual(before, ["a", "b"]);
  readers.delete("a");
  readers.add("c");
  readers.delete("x"); // not there
  assert.deepEqual(
    before,
    ["a", "b"],
    "a walk that began before goes on unchanged",
  );
  assert.deepEqual(readers.list, ["b", "c"]);
  assert.equal(readers.size, 2);
  assert.deepEqual(readers.clear(), ["b", "c"]);
  assert.equal(readers.size, 0);
  assert.deepEqual(before, ["a", "b"]);
});
