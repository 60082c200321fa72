import { test } from "node:test";
import assert from "node:assert/strict";
import { BadRequest, JackClient, NotFound, Unauthorized, UnknownHotel } from "../src/index.js";
import { client, HOST_URL, HOTEL } from "./env.js";

const jack = client();

test("hotels lists the mock hotels", async () => {
  const hotels = await jack.hotels();
  assert.deepEqual(hotels.map((h) => h.id).sort(), ["DEMO1", "DEMO2"]);
});

test("health answers for a hotel", async () => {
  const health = await jack.health(HOTEL);
  assert.equal(health.hotel, HOTEL);
  assert.equal(health.healthy, true);
});

test("every read answers the envelope", async () => {
  const guest = await jack.getGuest(HOTEL, "mock:G1001");
  assert.equal(guest.data.lastName, "Chen");
  assert.equal(guest.meta.stale, false);
  assert.ok(["pms", "cache"].includes(guest.meta.source));

  const found = await jack.searchGuests(HOTEL, { email: "sarah.chen@example.com" });
  assert.deepEqual(found.data.map((g) => g.id), ["mock:G1001"]);

  const reservation = await jack.getReservation(HOTEL, "CONF1001");
  assert.equal(reservation.data.confirmationNumber, "CONF1001");
  assert.equal(reservation.data.guestId, "mock:G1001");

  const inHouse = await jack.inHouse(HOTEL);
  assert.ok(inHouse.data.some((r) => r.confirmationNumber === "CONF1001"));

  const arrivals = await jack.arrivals(HOTEL);
  const departures = await jack.departures(HOTEL);
  for (const r of [...arrivals.data, ...departures.data]) {
    assert.ok(!["cancelled", "no_show"].includes(r.status), r.status);
  }
  const dated = await jack.arrivals(HOTEL, "2020-01-01");
  assert.deepEqual(dated.data, []);

  const balance = await jack.balance(HOTEL, "CONF1001");
  assert.match(balance.data.amount, /^-?\d+\.\d{2,4}$/);
  assert.equal(balance.data.currency, "EUR");

  const rooms = await jack.rooms(HOTEL);
  assert.ok(rooms.data.length > 5);
  const room = await jack.room(HOTEL, "101");
  assert.equal(room.data.roomNumber, "101");
});

test("problems are typed", async () => {
  await assert.rejects(jack.getReservation(HOTEL, "NO-SUCH-CONF"), (e: unknown) => {
    assert.ok(e instanceof NotFound);
    assert.equal(e.status, 404);
    assert.equal(e.type, "urn:jack-pms:problem:not-found");
    return true;
  });
  await assert.rejects(jack.rooms("NOPE"), UnknownHotel);
  await assert.rejects(jack.arrivals(HOTEL, "2024-02-30"), BadRequest);
  const stranger = new JackClient({ baseUrl: HOST_URL, token: "not-a-token" });
  await assert.rejects(stranger.hotels(), Unauthorized);
});
