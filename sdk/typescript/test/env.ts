// Where the live host of the tests runs: `tests/contract/run` starts `jack-pms serve` with
// test/jack-pms.yaml (and its mock PMS) and passes these in the environment.

import { JackClient } from "../src/index.js";

function need(name: string, fallback: string): string {
  return process.env[name] ?? fallback;
}

export const HOST_URL = need("JACK_URL", "http://127.0.0.1:18080");
export const MOCK_PMS_URL = need("JACK_MOCK_PMS_URL", "http://127.0.0.1:19090");
export const TOKEN = need("JACK_TOKEN", "jack-dev-token");
/** A token with the operator and approver scopes (tests/contract/jack-pms.yaml). */
export const STAFF_TOKEN = need("JACK_STAFF_TOKEN", "contract-staff-token");
export const WEBHOOK_PORT = Number(need("JACK_WEBHOOK_PORT", "18181"));
export const WEBHOOK_SECRET = need("JACK_WEBHOOK_SECRET", "ts-client-test-secret");
export const HOTEL = "DEMO1";

export function client(): JackClient {
  return new JackClient({ baseUrl: HOST_URL, token: TOKEN });
}

/** Sets the mock PMS's faults (`{}` clears them). */
export async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${MOCK_PMS_URL}/admin/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  if (!r.ok) throw new Error(`mock PMS faults: HTTP ${r.status} ${await r.text()}`);
}

/** Sets a room's housekeeping at the mock PMS's front desk. */
export async function setRoom(hotel: string, room: string, housekeeping: string): Promise<void> {
  const r = await fetch(`${MOCK_PMS_URL}/admin/hotels/${hotel}/rooms/${room}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ housekeeping }),
  });
  if (!r.ok) throw new Error(`mock PMS room: HTTP ${r.status} ${await r.text()}`);
}
