//! `jack:pms@0.1.0`: the bindings, the conversions between its types and [`crate::model`], and
//! the import traits, which delegate to [`crate::capabilities`].
//!
//! Frozen with the published WIT version: a new version gets a new file beside this one.

use crate::capabilities::{http as http_cap, log as log_cap};
use crate::egress::credentials::SchemeKind;
use crate::egress::{EgressError, Method, OutboundRequest};
use crate::model;
use crate::operation::{Call, Outcome};
use crate::runtime::state::CallState;
use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

/// The generated bindings; nothing else lives here.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "jack:pms/pms-adapter@0.1.0",
        imports: { "jack:pms/http.send": async, default: },
        exports: { default: async },
    });
}

use generated::jack::pms::{config, http, log, types};
use generated::{PmsAdapter, PmsAdapterPre};

/// The export name that identifies this version.
pub const ADAPTER_EXPORT: &str = "jack:pms/adapter@0.1.0";

/// Adds this version's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    PmsAdapter::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)
}

/// A pre-instantiated adapter of this version.
pub struct Adapter {
    pre: PmsAdapterPre<CallState>,
}

impl Adapter {
    /// Wraps a linked `InstancePre`, checking the exports have this version's types.
    pub fn new(pre: wasmtime::component::InstancePre<CallState>) -> wasmtime::Result<Adapter> {
        Ok(Adapter {
            pre: PmsAdapterPre::new(pre)?,
        })
    }

    /// Instantiates the component in `store` and invokes `call`. The outer error is a trap.
    pub async fn invoke(
        &self,
        store: &mut Store<CallState>,
        call: Call,
    ) -> wasmtime::Result<Result<Outcome, model::PmsError>> {
        let bindings = self.pre.instantiate_async(&mut *store).await?;
        let a = bindings.jack_pms_adapter();
        let s = &mut *store;
        Ok(match call {
            Call::Describe => Ok(Outcome::Info(info(a.call_describe(s).await?))),
            Call::HealthCheck => a.call_health_check(s).await?.map(|h| {
                Outcome::Health(model::PmsHealth {
                    healthy: h.healthy,
                    detail: h.detail,
                })
            }),
            Call::GetGuest(id) => a
                .call_get_guest(s, &identifier(id))
                .await?
                .map(|g| Outcome::Guest(g.map(guest))),
            Call::SearchGuests(q) => {
                let q = types::GuestQuery {
                    email: q.email,
                    phone: q.phone,
                    name: q.name,
                };
                a.call_search_guests(s, &q)
                    .await?
                    .map(|gs| Outcome::Guests(gs.into_iter().map(guest).collect()))
            }
            Call::UpdateGuestPreferences {
                operation_id,
                guest_pms_id,
                preferences,
            } => {
                let prefs: Vec<_> = preferences.into_iter().map(preference_in).collect();
                a.call_update_guest_preferences(s, &operation_id, &guest_pms_id, &prefs)
                    .await?
                    .map(receipt)
            }
            Call::GetReservation(n) => a
                .call_get_reservation(s, &n)
                .await?
                .map(|r| Outcome::Reservation(r.map(reservation))),
            Call::GetArrivals(d) => a.call_get_arrivals(s, &d).await?.map(reservations),
            Call::GetDepartures(d) => a.call_get_departures(s, &d).await?.map(reservations),
            Call::GetInHouseGuests => a.call_get_in_house_guests(s).await?.map(reservations),
            Call::AddReservationNote {
                operation_id,
                confirmation_number,
                note,
            } => a
                .call_add_reservation_note(s, &operation_id, &confirmation_number, &note)
                .await?
                .map(receipt),
            Call::UpdateCheckoutTime {
                operation_id,
                confirmation_number,
                time,
            } => a
                .call_update_checkout_time(s, &operation_id, &confirmation_number, &time)
                .await?
                .map(receipt),
            Call::PostCharge {
                operation_id,
                confirmation_number,
                charge,
            } => {
                let c = types::Charge {
                    amount: types::Money {
                        amount: charge.amount,
                        currency: charge.currency,
                    },
                    description: charge.description,
                    code: charge.code,
                };
                a.call_post_charge(s, &operation_id, &confirmation_number, &c)
                    .await?
                    .map(receipt)
            }
            Call::GetBalance(n) => a.call_get_balance(s, &n).await?.map(|m| {
                Outcome::Balance(model::Money {
                    amount: m.amount,
                    currency: m.currency,
                })
            }),
            Call::GetRoomStatus(n) => a
                .call_get_room_status(s, &n)
                .await?
                .map(|r| Outcome::Room(r.map(room))),
            Call::GetAllRoomStatuses => a
                .call_get_all_room_statuses(s)
                .await?
                .map(|rs| Outcome::Rooms(rs.into_iter().map(room).collect())),
            Call::FindWrite {
                operation_id,
                target,
            } => a
                .call_find_write(s, &operation_id, &write_target(target))
                .await?
                .map(|p| Outcome::Presence(presence(p))),
        }
        .map_err(pms_error))
    }
}

fn info(i: types::AdapterInfo) -> model::AdapterInfo {
    model::AdapterInfo {
        vendor: i.vendor,
        adapter_version: i.adapter_version,
        operations: i
            .operations
            .into_iter()
            .map(|o| operation(o).camel_name().to_string())
            .collect(),
    }
}

fn operation(o: types::Operation) -> crate::operation::Operation {
    use crate::operation::Operation as O;
    use types::Operation as W;
    match o {
        W::HealthCheck => O::HealthCheck,
        W::GetGuest => O::GetGuest,
        W::SearchGuests => O::SearchGuests,
        W::UpdateGuestPreferences => O::UpdateGuestPreferences,
        W::GetReservation => O::GetReservation,
        W::GetArrivals => O::GetArrivals,
        W::GetDepartures => O::GetDepartures,
        W::GetInHouseGuests => O::GetInHouseGuests,
        W::AddReservationNote => O::AddReservationNote,
        W::UpdateCheckoutTime => O::UpdateCheckoutTime,
        W::PostCharge => O::PostCharge,
        W::GetBalance => O::GetBalance,
        W::GetRoomStatus => O::GetRoomStatus,
        W::GetAllRoomStatuses => O::GetAllRoomStatuses,
        W::FindWrite => O::FindWrite,
    }
}

fn identifier(id: model::GuestIdentifier) -> types::GuestIdentifier {
    match id {
        model::GuestIdentifier::Id(v) => types::GuestIdentifier::Id(v),
        model::GuestIdentifier::Email(v) => types::GuestIdentifier::Email(v),
        model::GuestIdentifier::Phone(v) => types::GuestIdentifier::Phone(v),
        model::GuestIdentifier::ConfirmationNumber(v) => {
            types::GuestIdentifier::ConfirmationNumber(v)
        }
    }
}

/// Guests carry only the PMS id here; the runtime adds the `<vendor>:` prefix.
fn guest(g: types::GuestProfile) -> model::Guest {
    model::Guest {
        id: g.pms_id.clone(),
        external_ids: model::ExternalIds { pms: g.pms_id },
        first_name: g.first_name,
        last_name: g.last_name,
        email: g.email,
        phone: g.phone,
        loyalty_tier: g.loyalty_tier,
        language: g.language,
        vip: g.vip,
        preferences: g.preferences.into_iter().map(preference_out).collect(),
    }
}

fn preference_out(p: types::Preference) -> model::Preference {
    model::Preference {
        category: p.category,
        code: p.code,
        description: p.description,
    }
}

fn preference_in(p: model::Preference) -> types::Preference {
    types::Preference {
        category: p.category,
        code: p.code,
        description: p.description,
    }
}

fn reservation(r: types::Reservation) -> model::Reservation {
    use model::ReservationStatus as S;
    model::Reservation {
        id: r.id,
        confirmation_number: r.confirmation_number,
        guest_id: r.guest_pms_id,
        guest_name: r.guest_name,
        status: match r.status {
            types::ReservationStatus::Reserved => S::Reserved,
            types::ReservationStatus::CheckedIn => S::CheckedIn,
            types::ReservationStatus::CheckedOut => S::CheckedOut,
            types::ReservationStatus::Cancelled => S::Cancelled,
            types::ReservationStatus::NoShow => S::NoShow,
        },
        arrival_date: r.arrival_date,
        departure_date: r.departure_date,
        checkout_time: r.checkout_time,
        room_number: r.room_number,
        room_type: r.room_type,
        adults: r.adults,
        children: r.children,
        notes: r.notes,
    }
}

fn reservations(rs: Vec<types::Reservation>) -> Outcome {
    Outcome::Reservations(rs.into_iter().map(reservation).collect())
}

fn room(r: types::RoomStatus) -> model::RoomStatus {
    use model::Housekeeping as H;
    model::RoomStatus {
        room_number: r.room_number,
        housekeeping: match r.housekeeping {
            types::HousekeepingStatus::Clean => H::Clean,
            types::HousekeepingStatus::Dirty => H::Dirty,
            types::HousekeepingStatus::Inspected => H::Inspected,
            types::HousekeepingStatus::Pickup => H::Pickup,
            types::HousekeepingStatus::OutOfOrder => H::OutOfOrder,
            types::HousekeepingStatus::OutOfService => H::OutOfService,
        },
        occupied: r.occupied,
        updated_at: r.updated_at,
    }
}

fn receipt(r: types::WriteReceipt) -> Outcome {
    Outcome::Receipt(model::WriteReceipt {
        pms_reference: r.pms_reference,
    })
}

fn write_target(t: model::WriteTarget) -> types::WriteTarget {
    match t {
        model::WriteTarget::ReservationNote(v) => types::WriteTarget::ReservationNote(v),
        model::WriteTarget::GuestPreferences(v) => types::WriteTarget::GuestPreferences(v),
        model::WriteTarget::Charge(v) => types::WriteTarget::Charge(v),
        model::WriteTarget::CheckoutTime(v) => types::WriteTarget::CheckoutTime(v),
    }
}

fn presence(p: types::WritePresence) -> model::WritePresence {
    match p {
        types::WritePresence::Applied => model::WritePresence::Applied,
        types::WritePresence::Absent => model::WritePresence::Absent,
        types::WritePresence::Unknown => model::WritePresence::Unknown,
    }
}

fn pms_error(e: types::PmsError) -> model::PmsError {
    use model::PmsError as M;
    use types::PmsError as W;
    match e {
        W::NotFound => M::NotFound,
        W::Unauthorized(m) => M::Unauthorized(m),
        W::RateLimited(ms) => M::RateLimited(ms),
        W::Unavailable(m) => M::Unavailable(m),
        W::InvalidRequest(m) => M::InvalidRequest(m),
        W::Unsupported(m) => M::Unsupported(m),
        W::Conflict(m) => M::Conflict(m),
        W::Internal(m) => M::Internal(m),
    }
}

impl types::Host for CallState {}

impl http::Host for CallState {
    async fn send(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        let outbound = OutboundRequest {
            method: match request.method {
                http::Method::Get => Method::Get,
                http::Method::Post => Method::Post,
                http::Method::Put => Method::Put,
                http::Method::Patch => Method::Patch,
                http::Method::Delete => Method::Delete,
                http::Method::Head => Method::Head,
            },
            url: request.url,
            headers: request.headers,
            body: request.body,
            credentials: match request.credentials {
                http::CredentialScheme::None => SchemeKind::None,
                http::CredentialScheme::ApiKeyHeader => SchemeKind::ApiKeyHeader,
                http::CredentialScheme::JsonBodyCredentials => SchemeKind::JsonBodyCredentials,
                http::CredentialScheme::Oauth2ClientCredentials => {
                    SchemeKind::OAuth2ClientCredentials
                }
                http::CredentialScheme::Oauth2Password => SchemeKind::OAuth2Password,
            },
        };
        match self.http.send(outbound).await {
            Ok(r) => Ok(http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(http_cap::SendError::RequestLimitExceeded(n)) => {
                Err(http::HttpError::RequestLimitExceeded(n))
            }
            Err(http_cap::SendError::Egress(e)) => Err(match e {
                EgressError::ForbiddenDestination(m) => http::HttpError::ForbiddenDestination(m),
                EgressError::ForbiddenHeader(m) => http::HttpError::ForbiddenHeader(m),
                EgressError::Credentials(m) => http::HttpError::Credentials(m),
                EgressError::ResponseTooLarge(n) => http::HttpError::ResponseTooLarge(n),
                EgressError::Timeout => http::HttpError::Timeout,
                EgressError::Connection(m) => http::HttpError::Connection(m),
                EgressError::InvalidRequest(m) => http::HttpError::InvalidRequest(m),
            }),
        }
    }
}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => log_cap::Level::Trace,
            log::Level::Debug => log_cap::Level::Debug,
            log::Level::Info => log_cap::Level::Info,
            log::Level::Warn => log_cap::Level::Warn,
            log::Level::Error => log_cap::Level::Error,
        };
        self.log.log(level, &message);
    }
}

impl config::Host for CallState {
    fn get(&mut self, key: String) -> Option<String> {
        self.config.get(&key)
    }

    fn all(&mut self) -> Vec<(String, String)> {
        self.config.all()
    }
}
