import { test } from "node:test";
import assert from "node:assert/strict";
import { PmsUnavailable } from "../src/index.js";
import { client, HOTEL, setFaults } from "./env.js";

const jack = client();

test("a read the PMS cannot answer is served stale from the last good copy", async (t) => {
  t.after(() => setFaults({}));
  // test/jack-pms.yaml keeps room statuses for 1 s: read once while the PMS is up…
  const fresh = await jack.room(HOTEL, "102");
  assert.equal(fresh.meta.stale, false);
  // …then the PMS goes down and the copy expires: the answer is the copy, marked stale.
  await setFaults({ down: true });
  await new Promise((r) => setTimeout(r, 1500));
  const stale = await jack.room(HOTEL, "102");
  assert.equal(stale.meta.stale, true);
  assert.equal(stale.data.roomNumber, "102");
  assert.equal(stale.meta.fetchedAt, fresh.meta.fetchedAt);
  // What was never read has no copy: the problem is typed.
  await assert.rejects(jack.getReservation(HOTEL, "CONF1004"), (e: unknown) => {
    assert.ok(e instanceof PmsUnavailable, String(e));
    assert.equal(e.status, 503);
    return true;
  });
});
