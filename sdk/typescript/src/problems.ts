// Typed RFC 9457 problems: every error jack-pms answers is one, and each `type` has a class, so
// callers can `catch (e) { if (e instanceof PmsUnavailable) … }` instead of parsing strings.

import type { components } from "./schema.js";

/** The problem body exactly as the OpenAPI document describes it. */
export type ProblemBody = components["schemas"]["Problem"];
/** Every `type` URI jack-pms answers. */
export type ProblemType = components["schemas"]["ProblemType"];

/** Any problem jack-pms answered (or, with `status` 0, a response that was not one). */
export class JackProblem extends Error {
  /** The `type` URI: switch on this (or on the subclass), never on `title` or `detail`. */
  readonly type: ProblemType | "urn:jack-pms:client:unexpected-response";
  /** The HTTP status. */
  readonly status: number;
  /** The kind's short summary. */
  readonly title: string;
  /** What happened in this case, for a person. */
  readonly detail: string;
  /** Seconds to wait before retrying, when the host said. */
  readonly retryAfter: number | undefined;
  /** The write's operation id, when the problem concerns a stored write. */
  readonly operationId: string | undefined;
  /** The guardrail a refused write broke (`charge.amount.max`, …). */
  readonly rule: string | undefined;

  constructor(body: ProblemBody | UnexpectedBody) {
    super(`${body.title}: ${body.detail}`);
    this.name = new.target.name;
    this.type = body.type;
    this.status = body.status;
    this.title = body.title;
    this.detail = body.detail;
    this.retryAfter = body.retryAfter ?? undefined;
    this.operationId = body.operationId ?? undefined;
    this.rule = body.rule ?? undefined;
  }
}

interface UnexpectedBody {
  type: "urn:jack-pms:client:unexpected-response";
  status: number;
  title: string;
  detail: string;
  retryAfter?: undefined;
  operationId?: undefined;
  rule?: undefined;
}

/** 400: the request is malformed. */
export class BadRequest extends JackProblem {}
/** 401: no token or an unknown one. */
export class Unauthorized extends JackProblem {}
/** 403: the token lacks the scope the action needs (`operator`, `approver`). */
export class Forbidden extends JackProblem {}
/** 404: the hotel is not one of this host's. */
export class UnknownHotel extends JackProblem {}
/** 404: no such guest, reservation, room, operation or route. */
export class NotFound extends JackProblem {}
/** 409: the write (of this idempotency key) failed for good or was cancelled. */
export class WriteFailed extends JackProblem {}
/** 409: the PMS refused the change. */
export class Conflict extends JackProblem {}
/** 409: the write's state does not allow the action now (approving one that is not held). */
export class OperationState extends JackProblem {}
/** 409: the same sync stream is already running. */
export class Busy extends JackProblem {}
/** 413: the body is over the host's limit. */
export class PayloadTooLarge extends JackProblem {}
/** 422: the write breaks one of the hotel's guardrails (`rule` names it). */
export class WriteRefused extends JackProblem {}
/** 422: the `Idempotency-Key` was first used for another write (`operationId` names it). */
export class IdempotencyKeyReused extends JackProblem {}
/** 422: the PMS refused the request's content (valid for jack-pms, not for this PMS). */
export class PmsRefused extends JackProblem {}
/** 501: the hotel's PMS does not support the operation (or reload is unavailable). */
export class Unsupported extends JackProblem {}
/** 502: the adapter failed, reported an error, or the PMS refused the host's credentials. */
export class AdapterFailure extends JackProblem {}
/** 503: the PMS is down or the hotel's adapter is unavailable; `retryAfter` when known. */
export class PmsUnavailable extends JackProblem {}
/** 503: the PMS, or the host's limiter for it, is rate limiting; wait `retryAfter` seconds. */
export class RateLimited extends JackProblem {
  declare readonly retryAfter: number | undefined;
}
/** 504: the adapter ran out of time. */
export class AdapterTimeout extends JackProblem {}
/** 500: the host failed (it keeps serving others). */
export class HostError extends JackProblem {}

type ProblemClass = new (body: ProblemBody) => JackProblem;

/** The class of each `type` (the compiler holds this to every type the document lists); a
 * `type` from a newer host than this client stays a `JackProblem`. */
const CLASSES: Record<ProblemType, ProblemClass> = {
  "urn:jack-pms:problem:bad-request": BadRequest,
  "urn:jack-pms:problem:unauthorized": Unauthorized,
  "urn:jack-pms:problem:forbidden": Forbidden,
  "urn:jack-pms:problem:not-found": NotFound,
  "urn:jack-pms:problem:method-not-allowed": BadRequest,
  "urn:jack-pms:problem:payload-too-large": PayloadTooLarge,
  "urn:jack-pms:problem:unsupported-media-type": BadRequest,
  "urn:jack-pms:problem:internal": HostError,
  "urn:jack-pms:problem:unknown-hotel": UnknownHotel,
  "urn:jack-pms:problem:hotel-unavailable": PmsUnavailable,
  "urn:jack-pms:problem:write-failed": WriteFailed,
  "urn:jack-pms:problem:write-refused": WriteRefused,
  "urn:jack-pms:problem:idempotency-key-reused": IdempotencyKeyReused,
  "urn:jack-pms:problem:operation-state": OperationState,
  "urn:jack-pms:problem:busy": Busy,
  "urn:jack-pms:problem:state-unavailable": HostError,
  "urn:jack-pms:problem:adapter-timeout": AdapterTimeout,
  "urn:jack-pms:problem:adapter-failure": AdapterFailure,
  "urn:jack-pms:problem:host-busy": PmsUnavailable,
  "urn:jack-pms:problem:adapter-suspended": PmsUnavailable,
  "urn:jack-pms:problem:pms-unauthorized": AdapterFailure,
  "urn:jack-pms:problem:pms-rate-limited": RateLimited,
  "urn:jack-pms:problem:pms-unavailable": PmsUnavailable,
  "urn:jack-pms:problem:unsupported": Unsupported,
  "urn:jack-pms:problem:conflict": Conflict,
  "urn:jack-pms:problem:pms-refused": PmsRefused,
  "urn:jack-pms:problem:adapter-error": AdapterFailure,
  "urn:jack-pms:problem:reload-unavailable": Unsupported,
};

/** The typed problem of an error response: its body when it is a problem, else a summary. */
export function problemFrom(status: number, body: unknown, retryAfterHeader?: string | null): JackProblem {
  if (isProblemBody(body)) {
    const retryAfter = body.retryAfter ?? parseRetryAfter(retryAfterHeader);
    const typed: ProblemBody = retryAfter === undefined ? body : { ...body, retryAfter };
    const Class: ProblemClass = CLASSES[body.type] ?? JackProblem;
    return new Class(typed);
  }
  return new JackProblem({
    type: "urn:jack-pms:client:unexpected-response",
    status,
    title: "Unexpected response",
    detail: `HTTP ${status} without a problem body`,
  });
}

function isProblemBody(body: unknown): body is ProblemBody {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b.type === "string" && typeof b.status === "number" && typeof b.title === "string";
}

function parseRetryAfter(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number.parseInt(header, 10);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
