/**
 * The dashboard's refresh loops (app.mjs): run a task now, then again a while after each run
 * ends, and sooner when an event says its data changed; but never two starts of one task within
 * MIN_GAP_MS, however the events fall (the issue: no polling faster than 1 s).
 *
 * One timer holds each loop's next run, so a poke and the regular period cannot both fire in the
 * same second, and a task never overlaps itself. `timers` is injectable for the tests.
 */

export const MIN_GAP_MS = 1000;
/** A poke waits this long, so several events at once cost one refresh. */
export const POKE_DELAY_MS = 150;

const BROWSER_TIMERS = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/**
 * Run `task` now and then `everyMs` (at least MIN_GAP_MS) after each run ends; `poke()` runs it
 * early, but never sooner than MIN_GAP_MS after the last run started. A task's failure goes to
 * `onError` and the loop goes on.
 */
export function every(everyMs, task, { onError = () => {}, timers = BROWSER_TIMERS } = {}) {
  const period = Math.max(MIN_GAP_MS, everyMs);
  let timer;
  /** When the timer fires (timers.now() ms). */
  let due = Number.POSITIVE_INFINITY;
  let started = Number.NEGATIVE_INFINITY;
  let running = false;
  /** Poked during a run: run again as soon as the gap allows. */
  let again = false;
  const at = (time) => {
    timers.clearTimeout(timer);
    due = time;
    timer = timers.setTimeout(run, Math.max(0, time - timers.now()));
  };
  const run = async () => {
    running = true;
    again = false;
    due = Number.POSITIVE_INFINITY;
    started = timers.now();
    try {
      await task();
    } catch (error) {
      onError(error);
    } finally {
      running = false;
      at(again ? started + MIN_GAP_MS : timers.now() + period);
    }
  };
  at(timers.now());
  return {
    poke: () => {
      if (running) {
        again = true;
        return;
      }
      const time = Math.max(timers.now() + POKE_DELAY_MS, started + MIN_GAP_MS);
      if (time < due) at(time);
    },
  };
}
