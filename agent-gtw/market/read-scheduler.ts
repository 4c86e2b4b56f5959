/**
 * Market reads are CPU work on the gateway's one event loop (the sim generates history; a page can
 * take tens of milliseconds). Run unscheduled, a client pipelining hundreds of them would hold
 * the loop for seconds: other clients' orders, PINGs and the EA link would wait behind it. So
 * reads run one at a time, the loop gets a turn between two of them (socket reads, order
 * replies, timers go first), clients take turns (round robin, so one client's backlog cannot
 * starve another's page), and each client may have only so many reads waiting.
 */

/** Reads one client may have waiting or running; more are refused with RATE_LIMITED. */
export const MAX_QUEUED_READS_PER_CLIENT = 32;

interface Task {
  readonly run: () => Promise<void>;
}

export class ReadScheduler {
  readonly #maxPerClient: number;
  readonly #queues = new Map<string, Task[]>();
  /** Clients with waiting tasks, in turn order. */
  readonly #turns: string[] = [];
  #pumping = false;

  constructor(maxPerClient = MAX_QUEUED_READS_PER_CLIENT) {
    this.#maxPerClient = maxPerClient;
  }

  /** Tasks waiting or running, all clients together (for tests and status). */
  get pending(): number {
    let count = 0;
    for (const queue of this.#queues.values()) count += queue.length;
    return count;
  }

  /** Queue `work` for `client`; undefined when the client already has its maximum waiting. */
  run<T>(client: string, work: () => Promise<T>): Promise<T> | undefined {
    const queue = this.#queues.get(client) ?? [];
    if (queue.length >= this.#maxPerClient) return undefined;
    const result = new Promise<T>((resolve, reject) => {
      queue.push({ run: () => Promise.resolve().then(work).then(resolve, reject) });
    });
    if (!this.#queues.has(client)) {
      this.#queues.set(client, queue);
      this.#turns.push(client);
    }
    if (!this.#pumping) void this.#pump();
    return result;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#turns.length > 0) {
        // Let I/O and timers run before each read, including the first
        await new Promise<void>((resolve) => setImmediate(resolve));
        const client = this.#turns.shift() as string;
        const queue = this.#queues.get(client) as Task[];
        await (queue[0] as Task).run();
        queue.shift();
        if (queue.length > 0) this.#turns.push(client);
        else this.#queues.delete(client);
      }
    } finally {
      this.#pumping = false;
    }
  }
}
