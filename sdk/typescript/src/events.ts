// `GET /v1/events` as an async iterator: parses the server-sent events, remembers the last
// event id, and reconnects with `Last-Event-ID` after a dropped connection, so the caller sees
// every event once, in order, with no gap (within the host's retention).

import type { components } from "./schema.js";
import { JackProblem, problemFrom } from "./problems.js";

/** One change event (`reservation.created`, `room.status_changed`, `pms.unavailable`, …). */
export type JackEvent = components["schemas"]["Event"];

/** How to follow the stream. */
export interface EventStreamOptions {
  /** Only this hotel's events. */
  hotel?: string;
  /** Resume after this event id (the `id` of the last event you handled). */
  lastEventId?: string;
  /** Stops the stream (the iterator then ends). */
  signal?: AbortSignal;
  /** First reconnect delay in milliseconds (doubles up to `maxReconnectDelayMs`); default 500. */
  reconnectDelayMs?: number;
  /** Longest reconnect delay; default 30 000. */
  maxReconnectDelayMs?: number;
}

/** What the stream needs from the client. */
export interface StreamTransport {
  baseUrl: string;
  headers: () => Record<string, string>;
  fetch: typeof fetch;
}

/** One parsed server-sent event. */
interface RawEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/**
 * Follows `/v1/events` until `signal` aborts. Problems that retrying cannot fix (401, 404 for
 * an unknown hotel, 400) end the iterator with their typed error; dropped connections and
 * 5xx answers are retried with backoff from the last event id seen.
 */
export async function* followEvents(
  transport: StreamTransport,
  options: EventStreamOptions = {},
): AsyncGenerator<JackEvent, void, undefined> {
  let lastEventId = options.lastEventId;
  const firstDelay = options.reconnectDelayMs ?? 500;
  const maxDelay = options.maxReconnectDelayMs ?? 30_000;
  let delay = firstDelay;
  // Appended, not resolved: a base URL with a path prefix (behind a proxy) keeps it.
  const url = new URL(`${transport.baseUrl.replace(/\/$/, "")}/v1/events`);
  if (options.hotel !== undefined) url.searchParams.set("hotel", options.hotel);

  while (!options.signal?.aborted) {
    const headers: Record<string, string> = {
      ...transport.headers(),
      accept: "text/event-stream",
    };
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    let response: Response;
    try {
      const init: RequestInit = { headers };
      if (options.signal) init.signal = options.signal;
      response = await transport.fetch(url, init);
    } catch (e) {
      if (options.signal?.aborted) return;
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, maxDelay);
      continue;
    }
    if (!response.ok || response.body === null) {
      const body: unknown = await response.json().catch(() => undefined);
      const problem = problemFrom(response.status, body, response.headers.get("retry-after"));
      if (response.status < 500) throw problem;
      await sleep(problem.retryAfter !== undefined ? problem.retryAfter * 1000 : delay, options.signal);
      delay = Math.min(delay * 2, maxDelay);
      continue;
    }
    try {
      for await (const raw of parseStream(response.body)) {
        delay = firstDelay;
        if (raw.id !== undefined) lastEventId = raw.id;
        if (raw.data === "") continue;
        yield JSON.parse(raw.data) as JackEvent;
      }
    } catch (e) {
      if (options.signal?.aborted) return;
      if (e instanceof JackProblem || e instanceof SyntaxError) throw e;
      // The connection dropped mid-stream: reconnect from the last id below.
    }
    if (options.signal?.aborted) return;
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, maxDelay);
  }
}

/** Splits a `text/event-stream` body into events (the WHATWG format: fields, blank lines). */
async function* parseStream(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let current: RawEvent = { id: undefined, event: undefined, data: "" };
  let hasData = false;
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (hasData || current.id !== undefined) yield current;
          current = { id: undefined, event: undefined, data: "" };
          hasData = false;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") {
          current.data = hasData ? `${current.data}\n${value}` : value;
          hasData = true;
        } else if (field === "id") {
          current.id = value;
        } else if (field === "event") {
          current.event = value;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
