/**
 * The gateway's event stream for the dashboard: Server-Sent Events read with fetch (not
 * EventSource, which hides the status and error of a refused stream), resumed with
 * Last-Event-ID after a drop so no trade event is missed, reconnecting after 1 s, backing off
 * to 10 s while the agent refuses.
 */
import { toLogin } from "./dom.mjs";

const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 10_000;

/**
 * Open `gateway`'s stream with trade events and the quotes of `symbols`. `onMessage` gets every
 * message (SNAPSHOT, QUOTE, DEAL, ...), `onState` a line of text about the stream itself.
 */
export function openStream({ gateway, symbols, onMessage, onState }) {
  const controller = new AbortController();
  let lastId;
  let quotes = symbols.slice(0, 64);
  let retryMs = MIN_RETRY_MS;

  const run = async () => {
    while (!controller.signal.aborted) {
      let wait = MIN_RETRY_MS;
      const query = new URLSearchParams({ gateway, events: "1" });
      if (quotes.length > 0) query.set("quotes", quotes.join(","));
      try {
        const response = await fetch(`/dashboard/v1/stream?${query}`, {
          headers: lastId === undefined ? {} : { "last-event-id": lastId },
          credentials: "same-origin",
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 401) return toLogin();
        if (!response.ok || response.body === null) {
          const error = (await response.json().catch(() => ({}))).error ?? {};
          if (error.code === "UNKNOWN_SYMBOL" && quotes.length > 0) {
            // One symbol the broker does not know would keep every event away: go on without quotes
            onState(`quotes unavailable (${error.message}); events only`);
            quotes = [];
            continue;
          }
          throw new Error(error.message ?? `HTTP ${response.status}`);
        }
        onState(quotes.length > 0 ? "live" : "live (events only)");
        retryMs = MIN_RETRY_MS;
        await read(response.body, (message, id) => {
          if (id !== undefined) lastId = id;
          onMessage(message);
        });
        if (!controller.signal.aborted) onState("stream ended; reconnecting");
      } catch (error) {
        if (controller.signal.aborted) return;
        onState(`stream down (${error.message ?? error}); retrying in ${retryMs / 1000} s`);
        wait = retryMs;
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  void run();
  return { close: () => controller.abort() };
}

/** Parse `text/event-stream` (HTML Living Standard §9.2.6) into JSON messages. */
async function read(body, deliver) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replaceAll("\r\n", "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      let id;
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = text;
        else if (field === "data") data.push(text);
      }
      if (data.length === 0) continue;
      try {
        deliver(JSON.parse(data.join("\n")), id);
      } catch (error) {
        console.error("dashboard: a stream message could not be read", error);
      }
    }
  }
}
