import { test } from "node:test";
import assert from "node:assert/strict";
import type { JackEvent } from "../src/index.js";
import { UnknownHotel } from "../src/index.js";
import { client, HOTEL, setRoom } from "./env.js";

const jack = client();

/** Changes room 104 at the PMS and runs the room sync, so the host emits a change event. */
async function changeRoom(housekeeping: string): Promise<void> {
  await setRoom(HOTEL, "104", housekeeping);
  await jack.runSync(HOTEL, "roomStatus");
}

async function next(events: AsyncGenerator<JackEvent>, type: string): Promise<JackEvent> {
  for (;;) {
    const { value, done } = await events.next();
    assert.ok(!done, "the stream ended");
    if (value.type === type) return value;
  }
}

test("the event stream delivers live events and resumes after Last-Event-ID", async () => {
  await jack.runSync(HOTEL, "roomStatus"); // the baseline the next change is compared with
  const stop = new AbortController();
  const live = jack.events({ hotel: HOTEL, signal: stop.signal });
  const first = next(live, "room.status_changed");
  // Let the stream connect before changing anything (it starts at the log's end).
  await new Promise((r) => setTimeout(r, 300));
  await changeRoom("CLEAN");
  const seen = await first;
  assert.equal(seen.hotel, HOTEL);
  stop.abort();

  // Two more changes while nobody listens…
  await changeRoom("DIRTY");
  await changeRoom("INSPECTED");
  // …are delivered, in order, to a stream resuming after the first one.
  const resume = new AbortController();
  const resumed = jack.events({ hotel: HOTEL, lastEventId: seen.id, signal: resume.signal });
  const a = await next(resumed, "room.status_changed");
  const b = await next(resumed, "room.status_changed");
  resume.abort();
  assert.ok(Number(a.id) > Number(seen.id));
  assert.ok(Number(b.id) > Number(a.id));
});

test("an unknown hotel's stream is a typed problem, not a reconnect loop", async () => {
  const events = jack.events({ hotel: "NOPE" });
  await assert.rejects(events.next(), UnknownHotel);
});
