/**
 * Test-only: running promise-based code on a TestClock. Between clock steps the queued promise
 * callbacks must run, or a reply that arrived "at" a step is only seen one step later.
 */
import type { TestClock } from "./test-clock.ts";

/** Let every queued promise callback run. */
export async function flush(): Promise<void> {
  for (let index = 0; index < 10; index++) await Promise.resolve();
}

/**
 * Advance `clock` in steps of `stepMs`, letting callbacks run between steps, until `promise`
 * settles; then return what it resolved to (or throw what it rejected with). Fails the test if
 * it has not settled after `limitMs` of clock time.
 */
export async function settle<T>(
  clock: TestClock,
  promise: Promise<T>,
  options: { readonly stepMs?: number; readonly limitMs?: number } = {},
): Promise<T> {
  const stepMs = options.stepMs ?? 10;
  const limitMs = options.limitMs ?? 600_000;
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let elapsed = 0; ; elapsed += stepMs) {
    await flush();
    if (settled) return promise;
    if (elapsed >= limitMs) throw new Error(`not settled after ${limitMs} ms of clock time`);
    clock.advance(stepMs);
  }
}
