// Verifies the `x-jack-signature` of jack-pms' signed event deliveries:
// `sha256=<hex HMAC-SHA256(secret, "<x-jack-timestamp>.<raw body>")>`. Uses Web Crypto, so it
// runs in Node 20+, Deno, Bun and edge runtimes alike.

/** A delivery as the receiver got it. */
export interface SignedDelivery {
  /** The receiver's shared secret (`events.webhooks[].secret`). */
  secret: string;
  /** The raw request body, exactly as received (bytes or the undecoded text). */
  body: Uint8Array | string;
  /** The `x-jack-timestamp` header (Unix seconds). */
  timestamp: string | null | undefined;
  /** The `x-jack-signature` header. */
  signature: string | null | undefined;
  /** Refuse deliveries signed longer ago (or further ahead) than this; default 300 seconds. */
  toleranceSeconds?: number;
  /** The current time in Unix seconds (for tests); default now. */
  now?: number;
}

const encoder = new TextEncoder();

/**
 * True when the signature is jack-pms' for this body and timestamp, and the timestamp is within
 * the tolerance (so a captured delivery cannot be replayed later). Compares in constant time.
 */
export async function verifyWebhookSignature(delivery: SignedDelivery): Promise<boolean> {
  const { secret, timestamp, signature } = delivery;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const tolerance = delivery.toleranceSeconds ?? 300;
  const now = delivery.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > tolerance) return false;
  const hex = signature.trim().replace(/^sha256=/, "");
  if (hex === signature.trim() || !/^[0-9a-f]{64}$/i.test(hex)) return false;
  const body = typeof delivery.body === "string" ? encoder.encode(delivery.body) : delivery.body;
  const signed = new Uint8Array(timestamp.length + 1 + body.length);
  signed.set(encoder.encode(`${timestamp}.`), 0);
  signed.set(body, timestamp.length + 1);
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const expected = new Uint8Array(hex.length / 2);
  for (let i = 0; i < expected.length; i++) {
    expected[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  // Web Crypto's verify compares in constant time.
  return crypto.subtle.verify("HMAC", key, expected, signed);
}
