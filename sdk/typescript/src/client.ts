// The hand-written layer over the generated types: one method per operation, typed answers,
// typed problems, an `Idempotency-Key` on every write, and the event stream.

import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { problemFrom } from "./problems.js";
import { followEvents, type EventStreamOptions, type JackEvent } from "./events.js";

type Schemas = components["schemas"];
export type Guest = Schemas["Guest"];
export type Reservation = Schemas["Reservation"];
export type RoomStatus = Schemas["RoomStatus"];
export type Money = Schemas["Money"];
export type Charge = Schemas["Charge"];
export type Preference = Schemas["Preference"];
export type Meta = Schemas["Meta"];
export type Written = Schemas["Written"];
export type OperationRecord = Schemas["OperationRecord"];
export type HotelSummary = Schemas["HotelSummary"];
export type HotelHealth = Schemas["HotelHealth"];
export type RunOutcome = Schemas["RunOutcome"];
export type SyncStream = Schemas["SyncStream"];
export type StaffAction = Schemas["StaffAction"];
export type GuestQuery = NonNullable<paths["/v1/hotels/{hotel}/guests"]["get"]["parameters"]["query"]>;

/** A read's answer: the data and where it came from (`meta.stale` when served from the
 * last-known-good copy because the PMS could not answer). */
export interface Read<T> {
  data: T;
  meta: Meta;
}

/** A write's answer, with the idempotency key it was sent with (to retry it safely). */
export interface WriteResult extends Written {
  /** 200 when the PMS applied it, 202 when the host stored and queued it. */
  httpStatus: 200 | 202;
  /** The `Idempotency-Key` sent: the caller's, or the one generated for this write. */
  idempotencyKey: string;
}

/** Options of a write. */
export interface WriteOptions {
  /** Sent as `Idempotency-Key`; a random UUID when absent. Reuse it to retry the same write. */
  idempotencyKey?: string;
}

/** How to reach jack-pms. */
export interface JackClientOptions {
  /** Where the host listens, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** A bearer token of the host's `server.tokens`. */
  token: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /** Times a write is re-sent, with the same idempotency key, after a network failure
   * (never after an answer); default 2. */
  writeRetries?: number;
}

/** A typed client of jack-pms' HTTP API. Every method throws a `JackProblem` subclass on an
 * error answer. */
export class JackClient {
  /** The generated client, for anything the methods below do not cover. */
  readonly raw: Client<paths>;
  readonly #options: JackClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: JackClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.raw = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/$/, ""),
      headers: { authorization: `Bearer ${options.token}` },
      fetch: this.#fetch,
    });
  }

  /** Every hotel of the host, with its adapter and readiness. */
  async hotels(): Promise<HotelSummary[]> {
    return answer(await this.raw.GET("/v1/hotels"));
  }

  /** The hotel's health: PMS reachability, limits, cache, outbox, coordination. */
  async health(hotel: string): Promise<HotelHealth> {
    return answer(await this.raw.GET("/v1/hotels/{hotel}/health", { params: { path: { hotel } } }));
  }

  /** A guest by id (`<vendor>:<pmsId>`). */
  async getGuest(hotel: string, guestId: string): Promise<Read<Guest>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/guests/{guestId}", {
        params: { path: { hotel, guestId } },
      }),
    );
  }

  /** Guests matching every field given (at least one). */
  async searchGuests(hotel: string, query: GuestQuery): Promise<Read<Guest[]>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/guests", { params: { path: { hotel }, query } }),
    );
  }

  /** A reservation by confirmation number. */
  async getReservation(hotel: string, confirmationNumber: string): Promise<Read<Reservation>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/reservations/{confirmationNumber}", {
        params: { path: { hotel, confirmationNumber } },
      }),
    );
  }

  /** The stays arriving on a hotel-local date (`YYYY-MM-DD`; default: today at the hotel). */
  async arrivals(hotel: string, date?: string): Promise<Read<Reservation[]>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/arrivals", {
        params: { path: { hotel }, query: date === undefined ? {} : { date } },
      }),
    );
  }

  /** The stays departing on a hotel-local date (default: today at the hotel). */
  async departures(hotel: string, date?: string): Promise<Read<Reservation[]>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/departures", {
        params: { path: { hotel }, query: date === undefined ? {} : { date } },
      }),
    );
  }

  /** The stays in house now. */
  async inHouse(hotel: string): Promise<Read<Reservation[]>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/in-house", { params: { path: { hotel } } }),
    );
  }

  /** What the reservation's folio owes. */
  async balance(hotel: string, confirmationNumber: string): Promise<Read<Money>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/reservations/{confirmationNumber}/balance", {
        params: { path: { hotel, confirmationNumber } },
      }),
    );
  }

  /** Every room's housekeeping status. */
  async rooms(hotel: string): Promise<Read<RoomStatus[]>> {
    return answer(await this.raw.GET("/v1/hotels/{hotel}/rooms", { params: { path: { hotel } } }));
  }

  /** One room's status. */
  async room(hotel: string, roomNumber: string): Promise<Read<RoomStatus>> {
    return answer(
      await this.raw.GET("/v1/hotels/{hotel}/rooms/{roomNumber}", {
        params: { path: { hotel, roomNumber } },
      }),
    );
  }

  /** A write's state by its operation id. */
  async operation(id: string): Promise<OperationRecord> {
    return answer(await this.raw.GET("/v1/operations/{id}", { params: { path: { id } } }));
  }

  /** A person's decision on a stored write (`retry`, `resend`, `cancel` with an operator token;
   * `approve`, `reject` with an approver token), with the reason for the audit log when given;
   * answers the write as it then stands. */
  async act(id: string, action: StaffAction, reason?: string): Promise<OperationRecord> {
    return answer(
      await this.raw.POST("/v1/operations/{id}/{action}", {
        params: { path: { id, action } },
        ...(reason === undefined ? {} : { body: { reason } }),
      }),
    );
  }

  /** Adds a note to a reservation. */
  async addReservationNote(
    hotel: string,
    confirmationNumber: string,
    note: string,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.#write(options, (key) =>
      this.raw.POST("/v1/hotels/{hotel}/reservations/{confirmationNumber}/notes", {
        params: { path: { hotel, confirmationNumber }, header: { "Idempotency-Key": key } },
        body: { note },
      }),
    );
  }

  /** Sets the expected check-out (RFC 3339 with an offset). */
  async updateCheckoutTime(
    hotel: string,
    confirmationNumber: string,
    checkoutTime: string,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.#write(options, (key) =>
      this.raw.PUT("/v1/hotels/{hotel}/reservations/{confirmationNumber}/checkout", {
        params: { path: { hotel, confirmationNumber }, header: { "Idempotency-Key": key } },
        body: { checkoutTime },
      }),
    );
  }

  /** Posts a charge to the reservation's folio. */
  async postCharge(
    hotel: string,
    confirmationNumber: string,
    charge: Charge,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.#write(options, (key) =>
      this.raw.POST("/v1/hotels/{hotel}/reservations/{confirmationNumber}/charges", {
        params: { path: { hotel, confirmationNumber }, header: { "Idempotency-Key": key } },
        body: charge,
      }),
    );
  }

  /** Replaces a guest's preferences. */
  async updateGuestPreferences(
    hotel: string,
    guestId: string,
    preferences: Preference[],
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.#write(options, (key) =>
      this.raw.PUT("/v1/hotels/{hotel}/guests/{guestId}/preferences", {
        params: { path: { hotel, guestId }, header: { "Idempotency-Key": key } },
        body: { preferences },
      }),
    );
  }

  /** Runs one sync stream of a hotel now. */
  async runSync(hotel: string, stream: SyncStream): Promise<RunOutcome> {
    return answer(
      await this.raw.POST("/v1/hotels/{hotel}/sync/{stream}", {
        params: { path: { hotel, stream } },
      }),
    );
  }

  /** The change events, live, resuming after `lastEventId` and across reconnects. */
  events(options: EventStreamOptions = {}): AsyncGenerator<JackEvent, void, undefined> {
    const base = this.#options.baseUrl;
    const token = this.#options.token;
    return followEvents(
      { baseUrl: base, headers: () => ({ authorization: `Bearer ${token}` }), fetch: this.#fetch },
      options,
    );
  }

  async #write(
    options: WriteOptions,
    send: (key: string) => Promise<FetchResult<Written>>,
  ): Promise<WriteResult> {
    const idempotencyKey = options.idempotencyKey ?? crypto.randomUUID();
    const retries = this.#options.writeRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      let result: FetchResult<Written>;
      try {
        result = await send(idempotencyKey);
      } catch (e) {
        // No answer came back: the same key makes sending again safe.
        if (attempt >= retries) throw e;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        continue;
      }
      const written = answer(result);
      return {
        ...written,
        httpStatus: result.response.status === 200 ? 200 : 202,
        idempotencyKey,
      };
    }
  }
}

/** What openapi-fetch answers. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer, or its typed problem thrown. */
function answer<T>(result: FetchResult<T>): T {
  if (result.response.ok && result.data !== undefined) return result.data;
  throw problemFrom(result.response.status, result.error, result.response.headers.get("retry-after"));
}
