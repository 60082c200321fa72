// @jack-pms/client: a typed client of jack-pms for Jack (see README "Calling jack-pms from Jack").

export * from "./client.js";
export * from "./problems.js";
export { type EventStreamOptions, type JackEvent } from "./events.js";
export { verifyWebhookSignature, type SignedDelivery } from "./webhooks.js";
export type { components, paths } from "./schema.js";
