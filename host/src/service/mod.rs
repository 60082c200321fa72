//! What DESIGN calls the engine: one method per operation, used by the API and the CLI. Each
//! method resolves the hotel once ([`HotelRegistry::resolve`]), checks the caller's input and
//! hands the request to the room that does the work:
//!
//! - [`registry`]: the hotels, bound to their adapters, and their reload;
//! - [`reads`]: calls and cached reads, with their provenance;
//! - [`writes`]: the [`Outbox`], which stores, attempts and replays writes (with the
//!   [`guardrails`] before them);
//! - [`health`]: each hotel's health and the metrics;
//! - [`sync`] and [`inbound`]: a sync run of a stream, and vendor webhooks.

mod guardrails;
mod health;
mod inbound;
pub mod reads;
pub mod registry;
mod sync;
mod writes;

pub use health::{CacheStats, HotelHealth, RateLimitUsage};
pub use inbound::{EventAction, Forget, WebhookReceipt, mews_event_action};
pub use reads::{Meta, Read, Source};
pub use registry::{BoundHotel, HotelProblem, HotelRegistry, HotelSummary, ReloadReport};
pub use sync::ServiceRunner;
pub use writes::{Outbox, StaffAction, StaffWrite, Written};

pub use crate::report::{OperationRecord, WriteState};

use crate::config::{Config, HotelSettings};
use crate::coordination::Coordination;
use crate::events::tracker::ChangeTracker;
use crate::model::{Charge, Guest, GuestQuery, Money, Preference, Reservation, RoomStatus};
use crate::operation::{Call, Outcome};
use crate::runtime::{CallError, Runtime};
use crate::state::outbox::WriteRequest;
use crate::state::{State, StateError};
use crate::sync::scheduler::Scheduler;
use crate::vault::SecretStore;
use crate::zone::HotelZone;
use chrono::DateTime;
use reads::Reads;
use std::sync::{Arc, OnceLock};

/// Why a service call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// No hotel with this id.
    #[error("unknown hotel `{0}`")]
    UnknownHotel(String),
    /// The hotel is configured but its adapter could not be bound.
    #[error("hotel `{hotel}` is unavailable: {reason}")]
    HotelUnavailable {
        /// Hotel.
        hotel: String,
        /// Why.
        reason: String,
    },
    /// The caller's input is invalid.
    #[error("{0}")]
    BadInput(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The call failed in the adapter or the PMS.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The PMS refused a stored write for good (it is `failed`).
    #[error("{error}")]
    Refused {
        /// Operation id.
        operation_id: String,
        /// The refusal.
        error: CallError,
    },
    /// A staff action the write's state does not allow now (approving a write that is not held,
    /// retrying one that was applied).
    #[error("{0}")]
    NotNow(String),
    /// The `Idempotency-Key` was first used for another write (another operation, target or
    /// content): nothing is written, and the first write stands.
    #[error(
        "this Idempotency-Key was first used for another write (operation `{operation_id}`); \
         use a new key for a new write"
    )]
    IdempotencyKeyReused {
        /// The first write's operation id.
        operation_id: String,
    },
    /// A write will not be applied (failed for good, or cancelled by staff).
    #[error("operation `{operation_id}` is {state}: {reason}")]
    WriteFailed {
        /// Operation id.
        operation_id: String,
        /// `failed` or `cancelled`.
        state: WriteState,
        /// Why.
        reason: String,
    },
    /// The write breaks one of the hotel's guardrails (`writes:`): refused before anything was
    /// stored or sent, and audited.
    #[error("refused by guardrail `{rule}`: {detail}")]
    Guardrail {
        /// The rule's name (`charge.amount.max`, `note.length`, …).
        rule: &'static str,
        /// What the write did against it.
        detail: String,
    },
    /// The thing is busy (a sync run of the same stream is in progress).
    #[error("{0}")]
    Busy(String),
    /// The caller could not prove who it is (a vendor webhook's token).
    #[error("{0}")]
    Unauthorized(String),
    /// The state file (outbox, audit log) could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The engine: the rooms above, behind one method per operation.
pub struct Service {
    runtime: Arc<Runtime>,
    hotels: Arc<HotelRegistry>,
    reads: Arc<Reads>,
    outbox: Arc<Outbox>,
    health: health::Health,
    tracker: Arc<ChangeTracker>,
    scheduler: OnceLock<Arc<Scheduler>>,
    /// The hosts sharing the state (for who ran each stream last).
    cluster: OnceLock<Arc<crate::cluster::Cluster>>,
    secrets: Arc<dyn SecretStore>,
}

impl Service {
    /// Binds every hotel of `config`. A hotel that cannot be bound stays listed as unavailable
    /// with its reason, so one broken hotel never takes the others down. `outages` is the
    /// PMS-down state the write path shares with `tracker`.
    pub fn new(
        config: &Config,
        runtime: Arc<Runtime>,
        secrets: Arc<dyn SecretStore>,
        state: Arc<State>,
        tracker: Arc<ChangeTracker>,
        coordination: &Coordination,
    ) -> Service {
        let hotels = Arc::new(HotelRegistry::new(config, runtime.clone(), secrets.clone()));
        let reads = Arc::new(Reads::new(runtime.clone(), coordination.read_cache()));
        let outbox = Arc::new(Outbox::new(
            config.outbox.clone(),
            coordination.outages.clone(),
            state,
            reads.clone(),
            hotels.clone(),
            tracker.clone(),
        ));
        Service {
            health: health::Health::new(
                runtime.clone(),
                outbox.clone(),
                reads.clone(),
                coordination.clone(),
                config.state.node_id.clone(),
            ),
            runtime,
            hotels,
            reads,
            outbox,
            tracker,
            scheduler: OnceLock::new(),
            cluster: OnceLock::new(),
            secrets,
        }
    }

    /// Gives the service this host's cluster membership (once): health then shows the runs of
    /// every host, not only this one's.
    pub fn attach_cluster(&self, cluster: Arc<crate::cluster::Cluster>) {
        let _ = self.cluster.set(cluster);
    }

    /// The change tracker (and through it the event log).
    pub fn tracker(&self) -> &Arc<ChangeTracker> {
        &self.tracker
    }

    /// Gives the service the running scheduler (once): its per-stream status shows in
    /// `/v1/hotels/{hotel}/health` and vendor webhooks trigger its streams.
    pub fn attach_scheduler(&self, scheduler: Arc<Scheduler>) {
        let _ = self.scheduler.set(scheduler);
    }

    /// Hotel ids and their resolved settings.
    pub fn hotel_settings(&self) -> Vec<HotelSettings> {
        self.hotels.settings()
    }

    /// Binds the hotels of `config` again and swaps them in (see [`HotelRegistry::reload`]).
    pub fn reload_hotels(&self, config: &Config) -> ReloadReport {
        self.hotels.reload(config)
    }

    /// The runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Runs any call for a hotel, uncached (the CLI's `call`).
    pub async fn call(&self, hotel: &str, call: Call) -> Result<Outcome, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.call(&hotel, call).await
    }

    /// The hotels and the state of their adapters.
    pub fn hotels(&self) -> Vec<HotelSummary> {
        self.hotels.summaries()
    }

    /// The hotel's time zone (as its binding settled it).
    pub fn zone(&self, hotel: &str) -> Result<HotelZone, ServiceError> {
        Ok(self.hotels.resolve(hotel)?.binding().zone.clone())
    }

    /// `healthCheck`, timed, with the host's own figures for the hotel.
    pub async fn health(&self, hotel: &str) -> Result<HotelHealth, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.health
            .hotel(
                &hotel,
                self.scheduler.get().map(Arc::as_ref),
                self.cluster.get().map(Arc::as_ref),
            )
            .await
    }

    /// Refreshes the gauges read from live state and renders every metric (Prometheus text).
    pub async fn render_metrics(&self) -> String {
        self.health.render_metrics(&self.hotels.ids()).await
    }

    /// `getGuest` by Jack's guest id (`<vendor>:<pmsId>`, or a bare PMS id).
    pub async fn get_guest(
        &self,
        hotel: &str,
        guest_id: &str,
    ) -> Result<Read<Guest>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.guest(&hotel, guest_id).await
    }

    /// `searchGuests`; at least one field must be set.
    pub async fn search_guests(
        &self,
        hotel: &str,
        query: GuestQuery,
    ) -> Result<Read<Vec<Guest>>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.search_guests(&hotel, query).await
    }

    /// `updateGuestPreferences`.
    pub async fn update_guest_preferences(
        &self,
        hotel: &str,
        guest_id: &str,
        preferences: Vec<Preference>,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        let guest_pms_id = reads::pms_guest_id(&hotel, guest_id)?;
        for p in &preferences {
            if p.category.trim().is_empty() || p.code.trim().is_empty() {
                return Err(ServiceError::BadInput(
                    "every preference needs a category and a code".into(),
                ));
            }
        }
        let request = WriteRequest::UpdateGuestPreferences {
            guest_pms_id,
            preferences,
        };
        self.outbox
            .submit(&hotel, caller, idempotency_key, request)
            .await
    }

    /// `getReservation`.
    pub async fn get_reservation(
        &self,
        hotel: &str,
        number: &str,
    ) -> Result<Read<Reservation>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.reservation(&hotel, number).await
    }

    /// `getArrivals` for a hotel-local date; `None` is the hotel's today.
    pub async fn arrivals(
        &self,
        hotel: &str,
        date: Option<&str>,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.arrivals(&hotel, date).await
    }

    /// `getDepartures` for a hotel-local date; `None` is the hotel's today.
    pub async fn departures(
        &self,
        hotel: &str,
        date: Option<&str>,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.departures(&hotel, date).await
    }

    /// `getInHouseGuests`.
    pub async fn in_house(&self, hotel: &str) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.in_house(&hotel).await
    }

    /// `addReservationNote`.
    pub async fn add_note(
        &self,
        hotel: &str,
        number: &str,
        note: &str,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        // Empty, over-long and control-character notes are the guardrails' (422, audited).
        let request = WriteRequest::AddReservationNote {
            confirmation_number: number.to_string(),
            note: note.to_string(),
        };
        self.outbox
            .submit(&hotel, caller, idempotency_key, request)
            .await
    }

    /// `updateCheckoutTime`; `time` is RFC 3339.
    pub async fn update_checkout(
        &self,
        hotel: &str,
        number: &str,
        time: &str,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        DateTime::parse_from_rfc3339(time).map_err(|_| {
            ServiceError::BadInput(format!(
                "`{time}` is not an RFC 3339 date-time such as 2024-01-15T11:00:00+01:00"
            ))
        })?;
        let hotel = self.hotels.resolve(hotel)?;
        let request = WriteRequest::UpdateCheckoutTime {
            confirmation_number: number.to_string(),
            time: time.to_string(),
        };
        self.outbox
            .submit(&hotel, caller, idempotency_key, request)
            .await
    }

    /// `postCharge`.
    pub async fn post_charge(
        &self,
        hotel: &str,
        number: &str,
        charge: Charge,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        // A malformed amount is a bad request; an absurd one is the guardrails' (422, audited).
        charge.money().validate().map_err(ServiceError::BadInput)?;
        let hotel = self.hotels.resolve(hotel)?;
        let request = WriteRequest::PostCharge {
            confirmation_number: number.to_string(),
            charge,
        };
        self.outbox
            .submit(&hotel, caller, idempotency_key, request)
            .await
    }

    /// Any write, already checked (`jack-pms call` for writes).
    pub async fn submit(
        &self,
        hotel: &str,
        caller: &str,
        idempotency_key: Option<&str>,
        request: WriteRequest,
    ) -> Result<Written, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.outbox
            .submit(&hotel, caller, idempotency_key, request)
            .await
    }

    /// `getBalance`.
    pub async fn balance(&self, hotel: &str, number: &str) -> Result<Read<Money>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.balance(&hotel, number).await
    }

    /// `getRoomStatus`.
    pub async fn room(&self, hotel: &str, room: &str) -> Result<Read<RoomStatus>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.room(&hotel, room).await
    }

    /// `getAllRoomStatuses`.
    pub async fn rooms(&self, hotel: &str) -> Result<Read<Vec<RoomStatus>>, ServiceError> {
        let hotel = self.hotels.resolve(hotel)?;
        self.reads.rooms(&hotel).await
    }

    /// Strips and checks the `<vendor>:` prefix of a guest id.
    pub fn pms_guest_id(&self, hotel: &str, guest_id: &str) -> Result<String, ServiceError> {
        reads::pms_guest_id(&self.hotels.resolve(hotel)?, guest_id)
    }

    /// The state of a write.
    pub async fn operation(&self, id: &str) -> Result<OperationRecord, ServiceError> {
        self.outbox.operation(id).await
    }

    /// Writes a person may need to act on (see [`Outbox::for_staff`]).
    pub async fn writes_for_staff(
        &self,
        hotel: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StaffWrite>, ServiceError> {
        self.outbox.for_staff(hotel, limit).await
    }

    /// Audit rows matching `filter`, oldest first.
    pub async fn audit(
        &self,
        filter: &crate::state::audit::AuditFilter,
    ) -> Result<Vec<crate::state::audit::AuditRecord>, ServiceError> {
        self.outbox.audit(filter).await
    }

    /// Checks every audit chain: rows, heads, breaks.
    pub async fn verify_audit(&self) -> Result<crate::state::audit::Verification, ServiceError> {
        self.outbox.verify_audit().await
    }

    /// A person's decision on a stored write (retry, resend, cancel, approve, reject).
    pub async fn act(
        &self,
        id: &str,
        action: StaffAction,
        by: &crate::state::Staff<'_>,
    ) -> Result<OperationRecord, ServiceError> {
        self.outbox.act(id, action, by).await
    }

    /// Queues every write a stopped process left mid-attempt (see
    /// [`Outbox::recover_interrupted`]). Call before serving.
    pub async fn recover_interrupted(&self) -> Result<u64, ServiceError> {
        self.outbox.recover_interrupted().await
    }

    /// Starts the outbox's replay worker until `shutdown` resolves.
    pub fn spawn_replay(
        &self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.outbox.spawn_replay(shutdown)
    }
}
