/** `promise`, or a rejection saying which step took longer than `ms`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  step: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`Cannot finish ${step}: no answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
