import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { verifyWebhookSignature } from "../src/index.js";
import { client, HOTEL, setRoom, WEBHOOK_PORT, WEBHOOK_SECRET } from "./env.js";

const jack = client();

interface Delivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

test("a signed delivery verifies; a tampered or replayed one does not", async (t) => {
  const deliveries: Delivery[] = [];
  let arrived: () => void = () => {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
      arrived();
    });
  });
  await new Promise<void>((r) => server.listen(WEBHOOK_PORT, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));

  const delivered = new Promise<void>((r) => (arrived = r));
  await jack.runSync(HOTEL, "roomStatus");
  await setRoom(HOTEL, "105", "CLEAN");
  await jack.runSync(HOTEL, "roomStatus");
  await Promise.race([
    delivered,
    new Promise((_, no) => setTimeout(() => no(new Error("no delivery within 20 s")), 20_000)),
  ]);

  const d = deliveries[0];
  assert.ok(d);
  const timestamp = header(d.headers, "x-jack-timestamp");
  const signature = header(d.headers, "x-jack-signature");
  const base = { secret: WEBHOOK_SECRET, timestamp, signature };
  assert.equal(await verifyWebhookSignature({ ...base, body: d.body }), true);
  assert.equal(await verifyWebhookSignature({ ...base, body: d.body.toString("utf8") }), true);

  const tampered = Buffer.from(d.body.toString("utf8").replace(HOTEL, "DEMO2"));
  assert.equal(await verifyWebhookSignature({ ...base, body: tampered }), false);
  assert.equal(await verifyWebhookSignature({ ...base, secret: "another", body: d.body }), false);
  const later = Number(timestamp) + 3600;
  assert.equal(await verifyWebhookSignature({ ...base, body: d.body, now: later }), false);
  assert.equal(await verifyWebhookSignature({ ...base, signature: undefined, body: d.body }), false);
  const event = JSON.parse(d.body.toString("utf8")) as { id: string; type: string };
  assert.equal(header(d.headers, "x-jack-event-id"), event.id);
});
