/**
 * Network helpers for the streaming tests: a strategy's SSE reader over fetch that can stop
 * reading (backpressure), and a loopback proxy that can cut agent-inf off from the gateway.
 */

// ---------------------------------------------------------------------------------------------
// SSE over fetch

export interface SseMessage {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: Record<string, unknown>;
}

/** A strategy's SSE connection: every message kept; `paused` stops reading (backpressure). */
export class SseReader {
  readonly messages: SseMessage[] = [];
  readonly status: number;
  readonly headers: Headers;
  #reader:
    | { read(): Promise<{ done: boolean; value?: unknown }>; cancel(): Promise<void> }
    | undefined;
  #ended = false;
  #paused = false;
  #resume: (() => void) | undefined;

  private constructor(response: Response) {
    this.status = response.status;
    this.headers = response.headers;
    if (response.body !== null && response.status === 200) {
      this.#reader = response.body.getReader();
      void this.#read();
    }
  }

  static async open(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<SseReader & { body?: string }> {
    const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers } });
    const reader = new SseReader(response);
    if (response.status !== 200) {
      return Object.assign(reader, { body: await response.text() });
    }
    return reader;
  }

  get ended(): boolean {
    return this.#ended;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#resume?.();
  }

  of(event: string): SseMessage[] {
    return this.messages.filter((message) => message.event === event);
  }

  async close(): Promise<void> {
    this.#paused = false;
    this.#resume?.();
    await this.#reader?.cancel().catch(() => undefined);
  }

  async #read(): Promise<void> {
    const reader = this.#reader;
    if (reader === undefined) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        while (this.#paused) await new Promise<void>((resolve) => (this.#resume = resolve));
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value as Uint8Array, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          this.#parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // cancelled or cut
    } finally {
      this.#ended = true;
    }
  }

  #parse(block: string): void {
    let event = "message";
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "id") id = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return;
    this.messages.push({ event, id, data: JSON.parse(data.join("\n")) });
  }
}

// ---------------------------------------------------------------------------------------------
// A proxy that can cut the connection between agent-inf and the gateway

export interface CutProxy {
  /** tcp://127.0.0.1:PORT to give agent-inf instead of the gateway's endpoint. */
  readonly endpoint: string;
  /** Drop every connection and refuse new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): void;
}

interface ProxyPipe {
  readonly client: import("bun").Socket<ProxyPipe | undefined>;
  upstream: import("bun").Socket<undefined> | undefined;
  readonly toUpstream: Uint8Array[];
  readonly toClient: Uint8Array[];
  closed: boolean;
}

export function startCutProxy(target: string): CutProxy {
  const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(target);
  if (match === null) throw new Error(`bad endpoint ${target}`);
  const host = match[1] as string;
  const port = Number(match[2]);
  const pipes = new Set<ProxyPipe>();
  let refusing = false;
  const flush = (socket: import("bun").Socket<never> | undefined, queue: Uint8Array[]) => {
    if (socket === undefined) return;
    while (queue.length > 0) {
      const chunk = queue[0] as Uint8Array;
      const written = socket.write(chunk);
      if (written < chunk.length) {
        queue[0] = chunk.subarray(Math.max(0, written));
        return;
      }
      queue.shift();
    }
  };
  const close = (pipe: ProxyPipe) => {
    if (pipe.closed) return;
    pipe.closed = true;
    pipes.delete(pipe);
    pipe.client.terminate();
    pipe.upstream?.terminate();
  };
  const listener = Bun.listen<ProxyPipe | undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        if (refusing) {
          client.terminate();
          return;
        }
        const pipe: ProxyPipe = {
          client,
          upstream: undefined,
          toUpstream: [],
          toClient: [],
          closed: false,
        };
        client.data = pipe;
        pipes.add(pipe);
        void Bun.connect<undefined>({
          hostname: host,
          port,
          socket: {
            open(upstream) {
              pipe.upstream = upstream;
              flush(upstream as never, pipe.toUpstream);
            },
            data(_upstream, chunk) {
              pipe.toClient.push(new Uint8Array(chunk));
              flush(client as never, pipe.toClient);
            },
            drain: () => flush(pipe.upstream as never, pipe.toUpstream),
            close: () => close(pipe),
            error: () => close(pipe),
            connectError: () => close(pipe),
          },
        }).catch(() => close(pipe));
      },
      data(client, chunk) {
        const pipe = client.data;
        if (pipe === undefined) return;
        pipe.toUpstream.push(new Uint8Array(chunk));
        flush(pipe.upstream as never, pipe.toUpstream);
      },
      drain(client) {
        if (client.data !== undefined) flush(client as never, client.data.toClient);
      },
      close(client) {
        if (client.data !== undefined) close(client.data);
      },
      error(client) {
        if (client.data !== undefined) close(client.data);
      },
    },
  });
  return {
    endpoint: `tcp://127.0.0.1:${listener.port}`,
    cut() {
      refusing = true;
      for (const pipe of [...pipes]) close(pipe);
    },
    restore() {
      refusing = false;
    },
    close() {
      refusing = true;
      for (const pipe of [...pipes]) close(pipe);
      listener.stop(true);
    },
  };
}
