import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BadRequest,
  Forbidden,
  IdempotencyKeyReused,
  JackClient,
  WriteRefused,
} from "../src/index.js";
import { client, HOST_URL, HOTEL, setFaults, STAFF_TOKEN } from "./env.js";

const jack = client();

test("every write answers its operation, and replaying its key writes nothing new", async () => {
  const note = await jack.addReservationNote(HOTEL, "CONF1001", "Extra towels, please");
  assert.ok([200, 202].includes(note.httpStatus));
  assert.match(note.idempotencyKey, /^[0-9a-f-]{36}$/);
  const replay = await jack.addReservationNote(HOTEL, "CONF1001", "Extra towels, please", {
    idempotencyKey: note.idempotencyKey,
  });
  assert.equal(replay.operationId, note.operationId);
  const record = await jack.operation(note.operationId);
  assert.equal(record.id, note.operationId);
  const reservation = await jack.getReservation(HOTEL, "CONF1001");
  const towels = reservation.data.notes.filter((n) => n.includes("Extra towels, please"));
  assert.equal(towels.length, 1, JSON.stringify(reservation.data.notes));

  const charge = await jack.postCharge(HOTEL, "CONF1001", {
    amount: "12.50",
    currency: "EUR",
    description: "Minibar",
    code: "MB",
  });
  const again = await jack.postCharge(
    HOTEL,
    "CONF1001",
    { amount: "12.50", currency: "EUR", description: "Minibar", code: "MB" },
    { idempotencyKey: charge.idempotencyKey },
  );
  assert.equal(again.operationId, charge.operationId);
  // The same key for another charge is refused, naming the first write.
  await assert.rejects(
    jack.postCharge(
      HOTEL,
      "CONF1001",
      { amount: "13.00", currency: "EUR", description: "Minibar", code: "MB" },
      { idempotencyKey: charge.idempotencyKey },
    ),
    (e: unknown) => {
      assert.ok(e instanceof IdempotencyKeyReused, String(e));
      assert.equal(e.operationId, charge.operationId);
      return true;
    },
  );

  const arrival = reservation.data.arrivalDate;
  const departure = reservation.data.departureDate;
  assert.ok(arrival && departure);
  const checkout = await jack.updateCheckoutTime(HOTEL, "CONF1001", `${departure}T13:00:00+00:00`);
  assert.ok([200, 202].includes(checkout.httpStatus));

  const prefs = await jack.updateGuestPreferences(HOTEL, "mock:G1001", [
    { category: "PILLOW", code: "FEATHER" },
    { category: "FLOOR", code: "HIGH", description: "High floor" },
  ]);
  assert.ok([200, 202].includes(prefs.httpStatus));
  const guest = await jack.getGuest(HOTEL, "mock:G1001");
  assert.equal(guest.data.preferences.length, 2);
});

test("writes the host refuses are typed problems", async () => {
  await assert.rejects(
    jack.postCharge(HOTEL, "CONF1001", { amount: "99999.00", currency: "EUR", description: "Suite" }),
    (e: unknown) => {
      assert.ok(e instanceof WriteRefused);
      assert.equal(e.rule, "charge.amount.max");
      assert.equal(e.status, 422);
      return true;
    },
  );
  await assert.rejects(
    jack.postCharge(HOTEL, "CONF1001", { amount: "twelve", currency: "EUR", description: "x" }),
    BadRequest,
  );
});

test("deciding about a stored write needs a scoped token", async () => {
  const note = await jack.addReservationNote(HOTEL, "CONF1002", "Quiet room, please");
  await assert.rejects(jack.act(note.operationId, "approve"), Forbidden);
});

test("a staff tool cancels a queued write, giving its reason", async (t) => {
  const staff = new JackClient({ baseUrl: HOST_URL, token: STAFF_TOKEN });
  t.after(() => setFaults({}));
  await setFaults({ down: true });
  const note = await jack.addReservationNote(HOTEL, "CONF1003", "Wake-up call at six");
  assert.equal(note.httpStatus, 202);
  const cancelled = await staff.act(note.operationId, "cancel", "The guest called it off.");
  assert.equal(cancelled.state, "cancelled");
  await assert.rejects(staff.act(note.operationId, "cancel", "  "), BadRequest);
});
