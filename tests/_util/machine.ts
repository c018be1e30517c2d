/**
 * Turns on this machine for the tests that share it. `deno test --parallel`
 * runs test files side by side; a test whose assertion is a timing (the
 * browser's live latency) measures its neighbours when they saturate both
 * cores. Every test Sluice holds a shared turn while it runs; a timing test
 * takes the machine alone, after the Sluices running then have closed and
 * before new ones start. The turns are `flock`s on two files in the temporary
 * folder, so they hold across test workers and across concurrent test runs.
 */

const DIR = Deno.env.get("TMPDIR") ?? "/tmp";
const GATE = `${DIR}/sluice-tests-gate.lock`;
const TURN = `${DIR}/sluice-tests-turn.lock`;

let shared: Deno.FsFile | undefined;
let sharers = 0;
let alone = false;

function open(path: string): Deno.FsFile {
  return Deno.openSync(path, { create: true, write: true });
}

/**
 * A shared turn, held until the returned function is called. It waits while
 * a test has the machine alone. Within one test worker the turns nest: a
 * test that starts two Sluices holds one lock.
 */
export function shareMachine(): () => void {
  if (alone) return () => {};
  if (sharers === 0) {
    // The gate queues sharers behind a test waiting to be alone, so a row of
    // interop tests cannot keep it waiting forever.
    const gate = open(GATE);
    try {
      gate.lockSync(true);
      const turn = open(TURN);
      turn.lockSync(false);
      shared = turn;
    } finally {
      gate.close();
    }
  }
  sharers++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--sharers === 0) {
      shared?.close();
      shared = undefined;
    }
  };
}

/**
 * The machine alone: resolves once no other test Sluice runs, and keeps new
 * ones from starting until disposed.
 */
export async function takeMachineAlone(): Promise<AsyncDisposable> {
  if (sharers > 0) throw new Error("this worker already shares the machine");
  const gate = open(GATE);
  const turn = open(TURN);
  try {
    await gate.lock(true);
    await turn.lock(true);
  } catch (e) {
    gate.close();
    turn.close();
    throw e;
  }
  alone = true;
  return {
    [Symbol.asyncDispose]: () => {
      alone = false;
      turn.close();
      gate.close();
      return Promise.resolve();
    },
  };
}
