//! Reads: one call into the hotel's adapter (timed and counted), and reads through the read
//! cache (fresh copy, one coalesced fetch, or the last-known-good copy flagged stale when the PMS
//! cannot answer), each typed as the API answers it with its provenance ([`Meta`]).

use super::ServiceError;
use super::registry::BoundHotel;
use crate::cache::{Key as CacheKey, ReadCache};
use crate::metrics::{CacheLabels, CallLabels, OperationLabels, metrics};
use crate::model::{Guest, GuestIdentifier, GuestQuery, Money, Reservation, RoomStatus};
use crate::operation::{Call, Operation, Outcome};
use crate::runtime::{CallError, Runtime};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Where read data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Fresh from the PMS.
    Pms,
    /// From the host's cache.
    Cache,
}

/// Provenance of a read.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"source": "cache", "stale": false, "fetchedAt": "2024-01-15T10:30:00Z"}))]
pub struct Meta {
    /// Where the data came from.
    pub source: Source,
    /// True when the data is older than its TTL (served because the PMS is unavailable).
    pub stale: bool,
    /// When the data was fetched from the PMS (RFC 3339).
    pub fetched_at: DateTime<Utc>,
}

impl Meta {
    /// Provenance of an answer fetched from the PMS just now.
    fn fresh() -> Meta {
        Meta {
            source: Source::Pms,
            stale: false,
            fetched_at: Utc::now(),
        }
    }
}

/// A read result with its provenance.
#[derive(Debug, Clone)]
pub struct Read<T> {
    /// The data.
    pub data: T,
    /// Provenance.
    pub meta: Meta,
}

/// Calls and cached reads against the hotels' adapters.
pub struct Reads {
    runtime: Arc<Runtime>,
    cache: Arc<ReadCache>,
}

impl Reads {
    /// Reads through `runtime`, cached in `cache`.
    pub fn new(runtime: Arc<Runtime>, cache: Arc<ReadCache>) -> Reads {
        Reads { runtime, cache }
    }

    /// The read cache (writes and webhooks invalidate it, sync runs fill it).
    pub fn cache(&self) -> &ReadCache {
        &self.cache
    }

    /// Runs any call for the hotel, uncached: timed, logged and counted.
    pub async fn call(&self, hotel: &BoundHotel, call: Call) -> Result<Outcome, ServiceError> {
        let id = hotel.id();
        let operation = call.operation();
        let started = Instant::now();
        let result = self.runtime.call(hotel.binding(), call).await;
        let elapsed = started.elapsed();
        let ms = elapsed.as_millis() as u64;
        let outcome = match &result {
            Ok(_) => {
                tracing::info!(hotel = %id, %operation, ms, "call ok");
                "ok"
            }
            Err(e) => {
                tracing::warn!(hotel = %id, %operation, ms, error = %e, "call failed");
                match e {
                    CallError::Pms(_) => "pms_error",
                    CallError::CircuitOpen { .. } | CallError::Instantiate { .. } => "rejected",
                    _ => "adapter_failure",
                }
            }
        };
        let m = metrics();
        let operation = operation.camel_name().to_string();
        m.call_seconds
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
            })
            .observe(elapsed.as_secs_f64());
        m.calls
            .get_or_create(&CallLabels {
                hotel: id.to_string(),
                operation,
                outcome,
            })
            .inc();
        Ok(result?)
    }

    /// A call whose answer is kept in the cache for the hotel's TTL of its kind (sync runs:
    /// always fresh from the PMS, and what they fetched answers the next reads).
    pub async fn fetch_and_keep(
        &self,
        hotel: &BoundHotel,
        call: Call,
    ) -> Result<Outcome, ServiceError> {
        let key = CacheKey::of(&hotel.binding().hotel_id, &call);
        let outcome = self.call(hotel, call).await?;
        if let Some(key) = key {
            let ttl = ReadCache::ttl(key.kind, &hotel.settings().pms.cache);
            self.cache.put(key, ttl, outcome.clone()).await;
        }
        Ok(outcome)
    }

    /// A read through the cache: fresh copy, one coalesced fetch, or (when the PMS fails) the
    /// last-known-good copy flagged stale.
    async fn read(&self, hotel: &BoundHotel, call: Call) -> Result<Read<Outcome>, ServiceError> {
        let Some(key) = CacheKey::of(&hotel.binding().hotel_id, &call) else {
            let data = self.call(hotel, call).await?;
            return Ok(Read {
                data,
                meta: Meta::fresh(),
            });
        };
        let ttl = ReadCache::ttl(key.kind, &hotel.settings().pms.cache);
        let fetch = async {
            match self.call(hotel, call).await {
                // "Not found" is not cached: the guest or booking may appear any moment.
                Ok(outcome) if is_absent(&outcome) => Err(Fetch::Absent(outcome)),
                Ok(outcome) => Ok(outcome),
                Err(e) => Err(Fetch::Failed(e)),
            }
        };
        let stale_ok =
            |e: &Fetch| matches!(e, Fetch::Failed(ServiceError::Call(c)) if pms_is_down(c));
        let result = self.cache.get_or_fetch(key, ttl, fetch, stale_ok).await;
        let lookup = match &result {
            Ok(c) if c.stale => "stale",
            Ok(c) if c.from_cache => "hit",
            _ => "miss",
        };
        metrics()
            .cache
            .get_or_create(&CacheLabels {
                hotel: hotel.id().to_string(),
                result: lookup,
            })
            .inc();
        match result {
            Ok(c) => Ok(Read {
                data: c.outcome,
                meta: Meta {
                    source: if c.from_cache {
                        Source::Cache
                    } else {
                        Source::Pms
                    },
                    stale: c.stale,
                    fetched_at: c.fetched_at,
                },
            }),
            Err(e) => match &*e {
                Fetch::Absent(outcome) => {
                    // The seed: "404 → return null, log for investigation".
                    tracing::info!(hotel = %hotel.id(), operation = %outcome_operation(outcome), "not found in the PMS");
                    Ok(Read {
                        data: outcome.clone(),
                        meta: Meta::fresh(),
                    })
                }
                Fetch::Failed(error) => Err(error.clone()),
            },
        }
    }

    /// `getGuest` by Jack's guest id (`<vendor>:<pmsId>`, or a bare PMS id).
    pub async fn guest(
        &self,
        hotel: &BoundHotel,
        guest_id: &str,
    ) -> Result<Read<Guest>, ServiceError> {
        let pms_id = pms_guest_id(hotel, guest_id)?;
        let read = self
            .read(hotel, Call::GetGuest(GuestIdentifier::Id(pms_id)))
            .await?;
        match read.data {
            Outcome::Guest(Some(g)) => Ok(Read {
                data: g,
                meta: read.meta,
            }),
            _ => Err(ServiceError::NotFound(format!(
                "no guest `{guest_id}` in hotel `{}`",
                hotel.id()
            ))),
        }
    }

    /// `searchGuests`; at least one field must be set.
    pub async fn search_guests(
        &self,
        hotel: &BoundHotel,
        query: GuestQuery,
    ) -> Result<Read<Vec<Guest>>, ServiceError> {
        // A criterion given empty is a mistake, not a wildcard (the API documents each as
        // non-blank): refused rather than silently searching on the others.
        for (name, value) in [
            ("email", &query.email),
            ("phone", &query.phone),
            ("name", &query.name),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(ServiceError::BadInput(format!("`{name}` is empty")));
            }
        }
        if query.email.is_none() && query.phone.is_none() && query.name.is_none() {
            return Err(ServiceError::BadInput(
                "give at least one of email, phone or name".into(),
            ));
        }
        let read = self.read(hotel, Call::SearchGuests(query)).await?;
        match read.data {
            Outcome::Guests(gs) => Ok(Read {
                data: gs,
                meta: read.meta,
            }),
            _ => Err(unexpected(Operation::SearchGuests)),
        }
    }

    /// `getReservation`.
    pub async fn reservation(
        &self,
        hotel: &BoundHotel,
        number: &str,
    ) -> Result<Read<Reservation>, ServiceError> {
        let read = self
            .read(hotel, Call::GetReservation(number.to_string()))
            .await?;
        match read.data {
            Outcome::Reservation(Some(r)) => Ok(Read {
                data: r,
                meta: read.meta,
            }),
            _ => Err(ServiceError::NotFound(format!(
                "no reservation `{number}` in hotel `{}`",
                hotel.id()
            ))),
        }
    }

    /// `getArrivals` for a hotel-local date; `None` is the hotel's today.
    pub async fn arrivals(
        &self,
        hotel: &BoundHotel,
        date: Option<&str>,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let date = local_date(hotel, date)?;
        self.reservations(hotel, Call::GetArrivals(date)).await
    }

    /// `getDepartures` for a hotel-local date; `None` is the hotel's today.
    pub async fn departures(
        &self,
        hotel: &BoundHotel,
        date: Option<&str>,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let date = local_date(hotel, date)?;
        self.reservations(hotel, Call::GetDepartures(date)).await
    }

    /// `getInHouseGuests`.
    pub async fn in_house(
        &self,
        hotel: &BoundHotel,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        self.reservations(hotel, Call::GetInHouseGuests).await
    }

    async fn reservations(
        &self,
        hotel: &BoundHotel,
        call: Call,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let operation = call.operation();
        let read = self.read(hotel, call).await?;
        match read.data {
            Outcome::Reservations(rs) => Ok(Read {
                data: rs,
                meta: read.meta,
            }),
            _ => Err(unexpected(operation)),
        }
    }

    /// `getBalance`.
    pub async fn balance(
        &self,
        hotel: &BoundHotel,
        number: &str,
    ) -> Result<Read<Money>, ServiceError> {
        let read = self
            .read(hotel, Call::GetBalance(number.to_string()))
            .await
            .map_err(|e| match e {
                ServiceError::Call(CallError::Pms(crate::model::PmsError::NotFound)) => {
                    ServiceError::NotFound(format!(
                        "no reservation `{number}` in hotel `{}`",
                        hotel.id()
                    ))
                }
                other => other,
            })?;
        match read.data {
            Outcome::Balance(m) => Ok(Read {
                data: m,
                meta: read.meta,
            }),
            _ => Err(unexpected(Operation::GetBalance)),
        }
    }

    /// `getRoomStatus`.
    pub async fn room(
        &self,
        hotel: &BoundHotel,
        room: &str,
    ) -> Result<Read<RoomStatus>, ServiceError> {
        let read = self
            .read(hotel, Call::GetRoomStatus(room.to_string()))
            .await?;
        match read.data {
            Outcome::Room(Some(r)) => Ok(Read {
                data: r,
                meta: read.meta,
            }),
            _ => Err(ServiceError::NotFound(format!(
                "no room `{room}` in hotel `{}`",
                hotel.id()
            ))),
        }
    }

    /// `getAllRoomStatuses`.
    pub async fn rooms(&self, hotel: &BoundHotel) -> Result<Read<Vec<RoomStatus>>, ServiceError> {
        let read = self.read(hotel, Call::GetAllRoomStatuses).await?;
        match read.data {
            Outcome::Rooms(rs) => Ok(Read {
                data: rs,
                meta: read.meta,
            }),
            _ => Err(unexpected(Operation::GetAllRoomStatuses)),
        }
    }
}

/// Strips and checks the `<vendor>:` prefix of a guest id.
pub fn pms_guest_id(hotel: &BoundHotel, guest_id: &str) -> Result<String, ServiceError> {
    let vendor = &hotel.binding().adapter.manifest.vendor;
    let pms_id = match guest_id.split_once(':') {
        Some((prefix, rest)) if prefix == vendor => rest,
        // Another vendor's guest is no guest of this hotel: not found, as the API documents
        // (a 400 would refuse an id the document allows). Both parts are the caller's input:
        // escaped before they are echoed.
        Some((prefix, _)) => {
            return Err(ServiceError::NotFound(format!(
                "no guest `{}` at hotel `{}`: its ids are `{vendor}:…`, not `{}:…`",
                crate::untrusted::escape(guest_id, 120),
                hotel.id(),
                crate::untrusted::escape(prefix, 40)
            )));
        }
        None => guest_id,
    };
    if pms_id.is_empty() {
        return Err(ServiceError::BadInput("the guest id is empty".into()));
    }
    Ok(pms_id.to_string())
}

/// `date` checked, or the hotel's today when the caller gave none.
fn local_date(hotel: &BoundHotel, date: Option<&str>) -> Result<String, ServiceError> {
    match date {
        Some(date) => check_date(date),
        None => Ok(hotel.binding().zone.today().to_string()),
    }
}

/// Why a cached read could not be answered fresh.
enum Fetch {
    /// The PMS has no such thing (answered, never cached).
    Absent(Outcome),
    /// The read failed.
    Failed(ServiceError),
}

fn outcome_operation(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Guest(_) => "getGuest",
        Outcome::Reservation(_) => "getReservation",
        Outcome::Room(_) => "getRoomStatus",
        _ => "read",
    }
}

fn is_absent(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Guest(None) | Outcome::Reservation(None) | Outcome::Room(None)
    )
}

/// Failures that mean "the PMS cannot answer now", when a stale copy beats an error.
pub(crate) fn pms_is_down(error: &CallError) -> bool {
    use crate::model::PmsError;
    matches!(
        error,
        CallError::Pms(PmsError::Unavailable(_) | PmsError::RateLimited(_))
            | CallError::Deadline { .. }
            | CallError::CircuitOpen { .. }
            | CallError::Instantiate { .. }
    )
}

fn unexpected(operation: Operation) -> ServiceError {
    ServiceError::Call(CallError::InvalidOutput {
        adapter: String::new(),
        operation,
        reason: "unexpected result kind".into(),
    })
}

fn check_date(date: &str) -> Result<String, ServiceError> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| {
            ServiceError::BadInput(format!("`{date}` is not a date of the form YYYY-MM-DD"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert!(check_date("2024-02-30").is_err());
        assert_eq!(check_date("2024-02-29").unwrap(), "2024-02-29");
    }
}
