//! # jack-pms-sdk: write a PMS adapter for jack-pms
//!
//! An adapter is a WebAssembly component that exports the `jack:pms/adapter@0.1.0` interface
//! (see `wit/adapter.wit`) and reaches the PMS only through the host's `http` import. The host
//! applies credentials, rate limits and retries; the adapter only maps the vendor's API to the
//! common model.
//!
//! The same crate builds natively too, where [`testing::Harness`] plays the host: that is how the
//! example below runs as a plain test.
//!
//! ```
//! use jack_pms_sdk::prelude::*;
//!
//! #[derive(serde::Deserialize)]
//! struct MyReservation {
//!     id: String,
//!     number: String,
//! }
//!
//! pub struct MyPms;
//!
//! impl Adapter for MyPms {
//!     const VENDOR: &'static str = "mypms";
//!     const VERSION: &'static str = "0.1.0";
//!     const OPERATIONS: &'static [Operation] = &[Operation::GetReservation];
//!
//!     fn get_reservation(number: String) -> Result<Option<Reservation>, PmsError> {
//!         let base = config::require("baseUrl")?;
//!         let response = Request::get(format!("{base}/reservations/{number}"))
//!             .credentials(CredentialScheme::ApiKeyHeader)
//!             .send()?;
//!         if response.status() == 404 {
//!             return Ok(None);
//!         }
//!         let raw: MyReservation = response.error_for_status()?.json()?;
//!         Ok(Some(Reservation {
//!             id: raw.id,
//!             confirmation_number: raw.number,
//!             guest_pms_id: "G1".into(),
//!             guest_name: "Ada Lovelace".into(),
//!             status: ReservationStatus::Reserved,
//!             arrival_date: "2024-01-15".into(),
//!             departure_date: "2024-01-18".into(),
//!             checkout_time: None,
//!             room_number: None,
//!             room_type: None,
//!             adults: 1,
//!             children: 0,
//!             notes: vec![],
//!         }))
//!     }
//! }
//!
//! export_adapter!(MyPms);
//!
//! // In a native test, the harness answers settings and HTTP in place of the host.
//! use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
//! use serde_json::json;
//!
//! let pms = Harness::new()
//!     .setting("baseUrl", "https://pms.example")
//!     .exchange(Exchange::json("GET", "/reservations/ABC1", 200, json!({"id": "R1", "number": "ABC1"})));
//! let found = pms.run(|| MyPms::get_reservation("ABC1".into())).unwrap();
//! assert_eq!(found.map(|r| r.id).as_deref(), Some("R1"));
//! // A reservation the PMS does not know is `None`, not an error.
//! assert_eq!(pms.run(|| MyPms::get_reservation("NOPE".into())), Ok(None));
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the result is a component.
#![deny(missing_docs)]

extern crate self as jack_pms_sdk;

pub mod config;
pub mod dates;
pub mod errors;
mod host;
pub mod http;
pub mod log;
pub mod money;
pub mod notes;
pub mod paging;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod tz;

/// The generated guest bindings for `jack:pms@0.1.0`. Adapters rarely need them directly: the
/// useful types are re-exported at the crate root.
///
/// ```
/// use jack_pms_sdk::bindings::jack::pms::types;
///
/// // The crate root's types are these generated ones, under shorter names.
/// let status: jack_pms_sdk::ReservationStatus = types::ReservationStatus::CheckedIn;
/// assert_eq!(status, jack_pms_sdk::ReservationStatus::CheckedIn);
/// ```
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "jack:pms/pms-adapter@0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_pms_adapter",
        default_bindings_module: "jack_pms_sdk::bindings",
        runtime_path: "jack_pms_sdk::__wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub use bindings::jack::pms::http::CredentialScheme;
/// A guest profile: Jack's `Guest`. (In WIT it is `guest-profile`, because generated bindings
/// reserve the name `Guest` for the export trait.)
///
/// ```
/// use jack_pms_sdk::{Guest, Preference};
///
/// let guest = Guest {
///     pms_id: "P-1042".into(),
///     first_name: "Ada".into(),
///     last_name: "Lovelace".into(),
///     email: Some("ada@example.com".into()),
///     phone: None,
///     loyalty_tier: Some("GOLD".into()),
///     language: Some("en".into()),
///     vip: None,
///     preferences: vec![Preference { category: "PILLOW".into(), code: "FEATHER".into(), description: None }],
/// };
/// // The host publishes it as "<vendor>:<pms-id>"; the adapter only gives the PMS's own id.
/// assert_eq!(guest.pms_id, "P-1042");
/// ```
pub use bindings::jack::pms::types::GuestProfile as Guest;
pub use bindings::jack::pms::types::{
    AdapterInfo, Charge, GuestIdentifier, GuestProfile, GuestQuery, HealthStatus,
    HousekeepingStatus, Money, Operation, PmsError, Preference, Reservation, ReservationStatus,
    RoomStatus, WritePresence, WriteReceipt, WriteTarget,
};
pub use http::{Request, Response};

/// Every operation of the `adapter` interface, for an adapter that implements them all:
/// `const OPERATIONS: &'static [Operation] = EVERY_OPERATION;`.
///
/// ```
/// use jack_pms_sdk::{EVERY_OPERATION, Operation};
///
/// assert_eq!(EVERY_OPERATION.len(), 15);
/// assert!(EVERY_OPERATION.contains(&Operation::FindWrite));
/// ```
pub const EVERY_OPERATION: &[Operation] = &[
    Operation::HealthCheck,
    Operation::GetGuest,
    Operation::SearchGuests,
    Operation::UpdateGuestPreferences,
    Operation::GetReservation,
    Operation::GetArrivals,
    Operation::GetDepartures,
    Operation::GetInHouseGuests,
    Operation::AddReservationNote,
    Operation::UpdateCheckoutTime,
    Operation::PostCharge,
    Operation::GetBalance,
    Operation::GetRoomStatus,
    Operation::GetAllRoomStatuses,
    Operation::FindWrite,
];

/// The stays of `reservations` that are happening: the contract's `get-arrivals` and
/// `get-departures` list neither cancelled nor no-show reservations, whatever the vendor's
/// search returns for the date (OHIP and Cloudbeds return them; the conformance suite checks).
///
/// ```
/// use jack_pms_sdk::{Reservation, ReservationStatus, happening};
///
/// let stay = |number: &str, status| Reservation {
///     id: number.into(), confirmation_number: number.into(), guest_pms_id: "G".into(),
///     guest_name: "Ann Lee".into(), status, arrival_date: "2024-05-01".into(),
///     departure_date: "2024-05-03".into(), checkout_time: None, room_number: None,
///     room_type: None, adults: 1, children: 0, notes: vec![],
/// };
/// let day = vec![
///     stay("1", ReservationStatus::Reserved),
///     stay("2", ReservationStatus::Cancelled),
///     stay("3", ReservationStatus::NoShow),
///     stay("4", ReservationStatus::CheckedIn),
/// ];
/// let kept: Vec<String> = happening(day).into_iter().map(|r| r.id).collect();
/// assert_eq!(kept, ["1", "4"]);
/// ```
pub fn happening(reservations: Vec<Reservation>) -> Vec<Reservation> {
    reservations
        .into_iter()
        .filter(|r| {
            !matches!(
                r.status,
                ReservationStatus::Cancelled | ReservationStatus::NoShow
            )
        })
        .collect()
}

/// Everything an adapter usually needs, in one `use`.
///
/// ```
/// use jack_pms_sdk::prelude::*;
///
/// // Requests, settings, dates, money and the common model's types are all in scope.
/// let request = Request::get("https://pms.example/folio").query("from", Date::parse("2024-01-15")?.to_string());
/// assert_eq!(request.url(), "https://pms.example/folio?from=2024-01-15");
/// let balance: Money = Amount::parse("12.5")?.with_currency("EUR");
/// assert_eq!(balance.amount, "12.50");
/// assert!(matches!(unsupported("get-balance"), PmsError::Unsupported(_)));
/// # Ok::<(), PmsError>(())
/// ```
pub mod prelude {
    pub use crate::config;
    pub use crate::dates::Date;
    pub use crate::errors::{internal, invalid_request, unsupported};
    pub use crate::http::{Method, Request, Response};
    pub use crate::money::Amount;
    pub use crate::{
        Adapter, AdapterInfo, Charge, CredentialScheme, EVERY_OPERATION, Guest, GuestIdentifier,
        GuestQuery, HealthStatus, HousekeepingStatus, Money, Operation, PmsError, Preference,
        Reservation, ReservationStatus, RoomStatus, WritePresence, WriteReceipt, WriteTarget,
        export_adapter, happening,
    };
}

/// The operations of `jack:pms/adapter`, as Rust functions with default bodies.
///
/// Implement the ones your PMS supports and list them in [`Adapter::OPERATIONS`]; every other
/// operation answers `unsupported`, as the contract requires (never a fake answer). Then call
/// [`export_adapter!`] once with your type.
///
/// ```
/// use jack_pms_sdk::prelude::*;
///
/// struct MyPms;
///
/// impl Adapter for MyPms {
///     const VENDOR: &'static str = "mypms";
///     const VERSION: &'static str = "0.1.0";
///     const OPERATIONS: &'static [Operation] = &[Operation::HealthCheck];
///
///     fn health_check() -> Result<HealthStatus, PmsError> {
///         Ok(HealthStatus { healthy: true, detail: None })
///     }
/// }
///
/// assert!(MyPms::health_check().unwrap().healthy);
/// // What the adapter does not implement answers `unsupported`.
/// assert!(matches!(MyPms::get_balance("ABC1".into()), Err(PmsError::Unsupported(_))));
/// ```
pub trait Adapter {
    /// Vendor key, lowercase; it prefixes guest ids (`"<vendor>:<pms-id>"`).
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// struct MyPms;
    /// impl Adapter for MyPms {
    ///     const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[];
    /// }
    /// assert_eq!(MyPms::describe().vendor, "mypms");
    /// ```
    const VENDOR: &'static str;
    /// The adapter's version, usually `env!("CARGO_PKG_VERSION")`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    ///     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    /// #   const OPERATIONS: &'static [Operation] = &[];
    /// }
    /// assert_eq!(MyPms::describe().adapter_version, env!("CARGO_PKG_VERSION"));
    /// ```
    const VERSION: &'static str;
    /// The operations this adapter implements.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    ///     const OPERATIONS: &'static [Operation] = &[Operation::GetReservation, Operation::GetArrivals];
    ///     // … and the two functions, implemented.
    /// }
    /// assert_eq!(MyPms::describe().operations.len(), 2);
    /// ```
    const OPERATIONS: &'static [Operation];

    /// Describes the adapter. The default builds the answer from the constants.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// struct MyPms;
    /// impl Adapter for MyPms {
    ///     const VENDOR: &'static str = "mypms";
    ///     const VERSION: &'static str = "1.2.0";
    ///     const OPERATIONS: &'static [Operation] = &[Operation::GetBalance];
    /// }
    /// let info = MyPms::describe();
    /// assert_eq!((info.vendor.as_str(), info.adapter_version.as_str()), ("mypms", "1.2.0"));
    /// assert_eq!(info.operations, vec![Operation::GetBalance]);
    /// ```
    fn describe() -> AdapterInfo {
        AdapterInfo {
            vendor: Self::VENDOR.to_string(),
            adapter_version: Self::VERSION.to_string(),
            operations: Self::OPERATIONS.to_vec(),
        }
    }

    /// See `health-check` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::HealthCheck];
    ///     fn health_check() -> Result<HealthStatus, PmsError> {
    ///         let base = config::require("baseUrl")?;
    ///         let about: serde_json::Value = Request::get(format!("{base}/about"))
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         Ok(HealthStatus { healthy: true, detail: about["version"].as_str().map(String::from) })
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/about", 200, json!({"version": "7.2"})));
    /// let health = pms.run(MyPms::health_check).unwrap();
    /// assert_eq!(health.detail.as_deref(), Some("7.2"));
    /// // Bad credentials are `unauthorized`, not an unhealthy answer.
    /// let pms = pms.exchange(Exchange::json("GET", "/about", 401, json!({"error": "bad key"})));
    /// assert!(matches!(pms.run(MyPms::health_check), Err(PmsError::Unauthorized(_))));
    /// ```
    fn health_check() -> Result<HealthStatus, PmsError> {
        Err(unsupported("health-check"))
    }

    /// See `get-guest` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetGuest];
    ///     fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
    ///         let base = config::require("baseUrl")?;
    ///         let request = match identifier {
    ///             GuestIdentifier::Id(id) => Request::get(format!("{base}/guests/{id}")),
    ///             GuestIdentifier::Email(email) => Request::get(format!("{base}/guests")).query("email", email),
    ///             _ => return Err(unsupported("get-guest by phone or confirmation number")),
    ///         };
    ///         let response = request.credentials(CredentialScheme::ApiKeyHeader).send()?;
    ///         if response.status() == 404 {
    ///             return Ok(None);
    ///         }
    ///         let raw: serde_json::Value = response.error_for_status()?.json()?;
    ///         Ok(Some(Guest {
    ///             pms_id: raw["id"].as_str().unwrap_or_default().into(),
    ///             first_name: raw["first"].as_str().unwrap_or_default().into(),
    ///             last_name: raw["last"].as_str().unwrap_or_default().into(),
    ///             email: raw["email"].as_str().map(String::from),
    ///             phone: None,
    ///             loyalty_tier: None,
    ///             language: None,
    ///             vip: None,
    ///             preferences: vec![],
    ///         }))
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/guests/P7", 200, json!({"id": "P7", "first": "Ada", "last": "Lovelace"})));
    /// let guest = pms.run(|| MyPms::get_guest(GuestIdentifier::Id("P7".into()))).unwrap();
    /// assert_eq!(guest.map(|g| g.last_name).as_deref(), Some("Lovelace"));
    /// assert_eq!(pms.run(|| MyPms::get_guest(GuestIdentifier::Id("P8".into()))), Ok(None));
    /// ```
    fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        let _ = identifier;
        Err(unsupported("get-guest"))
    }

    /// See `search-guests` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # fn to_guest(raw: &serde_json::Value) -> Guest {
    /// #     Guest { pms_id: raw["id"].as_str().unwrap_or_default().into(), first_name: String::new(),
    /// #         last_name: raw["last"].as_str().unwrap_or_default().into(), email: None, phone: None,
    /// #         loyalty_tier: None, language: None, vip: None, preferences: vec![] }
    /// # }
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::SearchGuests];
    ///     fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
    ///         let found: Vec<serde_json::Value> = Request::get(format!("{}/guests", config::require("baseUrl")?))
    ///             .query_opt("email", query.email)
    ///             .query_opt("phone", query.phone)
    ///             .query_opt("name", query.name)
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         Ok(found.iter().map(to_guest).collect())
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/guests", 200, json!([{"id": "P7", "last": "Chen"}])).with_query("name", "Chen"));
    /// let query = GuestQuery { email: None, phone: None, name: Some("Chen".into()) };
    /// let guests = pms.run(|| MyPms::search_guests(query)).unwrap();
    /// assert_eq!(guests.len(), 1);
    /// assert_eq!(pms.requests()[0].url, "https://pms.example/guests?name=Chen");
    /// ```
    fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
        let _ = query;
        Err(unsupported("search-guests"))
    }

    /// See `update-guest-preferences` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::UpdateGuestPreferences];
    ///     fn update_guest_preferences(
    ///         operation_id: String,
    ///         guest_pms_id: String,
    ///         preferences: Vec<Preference>,
    ///     ) -> Result<WriteReceipt, PmsError> {
    ///         let codes: Vec<String> = preferences.iter().map(|p| format!("{}:{}", p.category, p.code)).collect();
    ///         let saved: serde_json::Value = Request::put(format!("{}/guests/{guest_pms_id}/preferences", config::require("baseUrl")?))
    ///             // The operation id travels with the write so that `find_write` can look it up.
    ///             .json(&json!({"preferences": codes, "externalId": operation_id}))?
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         Ok(WriteReceipt { pms_reference: saved["requestId"].as_str().map(String::from) })
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("PUT", "/guests/P7/preferences", 200, json!({"requestId": "Q-9"})));
    /// let pillow = Preference { category: "PILLOW".into(), code: "FEATHER".into(), description: None };
    /// let receipt = pms.run(|| MyPms::update_guest_preferences("op-1".into(), "P7".into(), vec![pillow])).unwrap();
    /// assert_eq!(receipt.pms_reference.as_deref(), Some("Q-9"));
    /// assert_eq!(pms.requests()[0].json(), Some(json!({"preferences": ["PILLOW:FEATHER"], "externalId": "op-1"})));
    /// ```
    fn update_guest_preferences(
        operation_id: String,
        guest_pms_id: String,
        preferences: Vec<Preference>,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, guest_pms_id, preferences);
        Err(unsupported("update-guest-preferences"))
    }

    /// See `get-reservation` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # fn to_reservation(raw: &serde_json::Value) -> Reservation {
    /// #     let text = |k: &str| raw[k].as_str().unwrap_or_default().to_string();
    /// #     Reservation { id: text("id"), confirmation_number: text("number"), guest_pms_id: text("guest"),
    /// #         guest_name: String::new(), status: ReservationStatus::Reserved, arrival_date: text("arrival"),
    /// #         departure_date: text("departure"), checkout_time: None, room_number: None, room_type: None,
    /// #         adults: 1, children: 0, notes: vec![] }
    /// # }
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetReservation];
    ///     fn get_reservation(number: String) -> Result<Option<Reservation>, PmsError> {
    ///         let response = Request::get(format!("{}/reservations", config::require("baseUrl")?))
    ///             .query("confirmation", &number)
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?;
    ///         // This vendor answers a search: an empty list means "no such reservation".
    ///         let found: Vec<serde_json::Value> = response.json()?;
    ///         Ok(found.first().map(to_reservation))
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/reservations", 200, json!([])))
    ///     .exchange(Exchange::json("GET", "/reservations", 200, json!([{"id": "R1", "number": "ABC1"}])).with_query("confirmation", "ABC1"));
    /// let found = pms.run(|| MyPms::get_reservation("ABC1".into())).unwrap();
    /// assert_eq!(found.map(|r| r.id).as_deref(), Some("R1"));
    /// assert_eq!(pms.run(|| MyPms::get_reservation("ZZZ".into())), Ok(None));
    /// ```
    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        let _ = confirmation_number;
        Err(unsupported("get-reservation"))
    }

    /// See `get-arrivals` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::paging::{self, Page};
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # fn to_reservation(raw: &serde_json::Value) -> Reservation {
    /// #     let text = |k: &str| raw[k].as_str().unwrap_or_default().to_string();
    /// #     Reservation { id: text("id"), confirmation_number: text("number"), guest_pms_id: text("guest"),
    /// #         guest_name: String::new(), status: ReservationStatus::Reserved, arrival_date: text("arrival"),
    /// #         departure_date: text("departure"), checkout_time: None, room_number: None, room_type: None,
    /// #         adults: 1, children: 0, notes: vec![] }
    /// # }
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetArrivals];
    ///     fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
    ///         let date = Date::parse(&date)?; // `invalid-request` for anything but YYYY-MM-DD
    ///         let base = config::require("baseUrl")?;
    ///         // Every page, to the end: a partial arrivals list would look complete.
    ///         paging::by_page_number(100, |page| {
    ///             let body: serde_json::Value = Request::get(format!("{base}/reservations"))
    ///                 .query("arrival", date.to_string())
    ///                 .query("page", page.to_string())
    ///                 .credentials(CredentialScheme::ApiKeyHeader)
    ///                 .send()?
    ///                 .error_for_status()?
    ///                 .json()?;
    ///             let items = body["items"].as_array().map(|a| a.iter().map(to_reservation).collect()).unwrap_or_default();
    ///             Ok(Page { items, more: body["hasMore"] == true })
    ///         })
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/reservations", 200, json!({"items": [{"id": "R1"}], "hasMore": true})).with_query("page", "1"))
    ///     .exchange(Exchange::json("GET", "/reservations", 200, json!({"items": [{"id": "R2"}], "hasMore": false})).with_query("page", "2"));
    /// let arrivals = pms.run(|| MyPms::get_arrivals("2024-01-15".into())).unwrap();
    /// assert_eq!(arrivals.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["R1", "R2"]);
    /// assert!(matches!(pms.run(|| MyPms::get_arrivals("15/01/2024".into())), Err(PmsError::InvalidRequest(_))));
    /// ```
    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        let _ = date;
        Err(unsupported("get-arrivals"))
    }

    /// See `get-departures` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # fn to_reservation(raw: &serde_json::Value) -> Reservation {
    /// #     let text = |k: &str| raw[k].as_str().unwrap_or_default().to_string();
    /// #     Reservation { id: text("id"), confirmation_number: text("number"), guest_pms_id: text("guest"),
    /// #         guest_name: String::new(), status: ReservationStatus::CheckedIn, arrival_date: text("arrival"),
    /// #         departure_date: text("departure"), checkout_time: None, room_number: None, room_type: None,
    /// #         adults: 1, children: 0, notes: vec![] }
    /// # }
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetDepartures];
    ///     fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
    ///         // This vendor wants a half-open range: [date, date + 1).
    ///         let from = Date::parse(&date)?;
    ///         let found: Vec<serde_json::Value> = Request::get(format!("{}/reservations", config::require("baseUrl")?))
    ///             .query("departureFrom", from.to_string())
    ///             .query("departureTo", from.add_days(1).to_string())
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         Ok(found.iter().map(to_reservation).collect())
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/reservations", 200, json!([{"id": "R1"}])).with_query("departureTo", "2024-03-01"));
    /// let departures = pms.run(|| MyPms::get_departures("2024-02-29".into())).unwrap();
    /// assert_eq!(departures.len(), 1);
    /// ```
    fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
        let _ = date;
        Err(unsupported("get-departures"))
    }

    /// See `get-in-house-guests` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetInHouseGuests];
    ///     fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
    ///         let found: Vec<serde_json::Value> = Request::get(format!("{}/reservations", config::require("baseUrl")?))
    ///             .query("status", "IN_HOUSE")
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         found.iter().map(|raw| {
    ///             let text = |k: &str| raw[k].as_str().map(String::from).ok_or_else(|| internal(format!("a reservation without `{k}`")));
    ///             Ok(Reservation {
    ///                 id: text("id")?,
    ///                 confirmation_number: text("number")?,
    ///                 guest_pms_id: text("guest")?,
    ///                 guest_name: text("guestName")?,
    ///                 status: ReservationStatus::CheckedIn,
    ///                 arrival_date: text("arrival")?,
    ///                 departure_date: text("departure")?,
    ///                 checkout_time: None,
    ///                 room_number: raw["room"].as_str().map(String::from),
    ///                 room_type: None,
    ///                 adults: 2,
    ///                 children: 0,
    ///                 notes: vec![],
    ///             })
    ///         }).collect()
    ///     }
    /// }
    ///
    /// let stay = json!({"id": "R1", "number": "ABC1", "guest": "P7", "guestName": "Ada Lovelace",
    ///                   "arrival": "2024-01-15", "departure": "2024-01-18", "room": "204"});
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/reservations", 200, json!([stay])).with_query("status", "IN_HOUSE"));
    /// let in_house = pms.run(MyPms::get_in_house_guests).unwrap();
    /// assert_eq!(in_house[0].room_number.as_deref(), Some("204"));
    /// // A record missing a field becomes `internal`, never a trap.
    /// let pms = pms.exchange(Exchange::json("GET", "/reservations", 200, json!([{"id": "R2"}])));
    /// assert!(matches!(pms.run(MyPms::get_in_house_guests), Err(PmsError::Internal(_))));
    /// ```
    fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
        Err(unsupported("get-in-house-guests"))
    }

    /// See `add-reservation-note` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::AddReservationNote];
    ///     fn add_reservation_note(operation_id: String, number: String, note: String) -> Result<WriteReceipt, PmsError> {
    ///         let created: serde_json::Value = Request::post(format!("{}/reservations/{number}/notes", config::require("baseUrl")?))
    ///             .json(&json!({"text": note, "externalId": operation_id}))?
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         Ok(WriteReceipt { pms_reference: created["id"].as_str().map(String::from) })
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("POST", "/reservations/ABC1/notes", 201, json!({"id": "N-77"})))
    ///     .exchange(Exchange::json("POST", "/reservations/GONE/notes", 409, json!({"error": "checked out"})));
    /// let receipt = pms.run(|| MyPms::add_reservation_note("op-1".into(), "ABC1".into(), "Late arrival".into()));
    /// assert_eq!(receipt.unwrap().pms_reference.as_deref(), Some("N-77"));
    /// let refused = pms.run(|| MyPms::add_reservation_note("op-2".into(), "GONE".into(), "Hi".into()));
    /// assert!(matches!(refused, Err(PmsError::Conflict(m)) if m.contains("checked out")));
    /// ```
    fn add_reservation_note(
        operation_id: String,
        confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, confirmation_number, note);
        Err(unsupported("add-reservation-note"))
    }

    /// See `update-checkout-time` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::UpdateCheckoutTime];
    ///     fn update_checkout_time(operation_id: String, number: String, time: String) -> Result<WriteReceipt, PmsError> {
    ///         // Refuse a malformed instant before it reaches the PMS.
    ///         jack_pms_sdk::dates::parse_rfc3339_date(&time)?;
    ///         Request::patch(format!("{}/reservations/{number}", config::require("baseUrl")?))
    ///             .json(&json!({"departureTime": time, "externalId": operation_id}))?
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?;
    ///         Ok(WriteReceipt { pms_reference: None })
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("PATCH", "/reservations/ABC1", 200, json!({})));
    /// assert!(pms.run(|| MyPms::update_checkout_time("op-1".into(), "ABC1".into(), "2024-01-18T13:00:00Z".into())).is_ok());
    /// let bad = pms.run(|| MyPms::update_checkout_time("op-2".into(), "ABC1".into(), "1pm".into()));
    /// assert!(matches!(bad, Err(PmsError::InvalidRequest(_))));
    /// assert_eq!(pms.requests().len(), 1); // the bad one never left the adapter
    /// ```
    fn update_checkout_time(
        operation_id: String,
        confirmation_number: String,
        time: String,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, confirmation_number, time);
        Err(unsupported("update-checkout-time"))
    }

    /// See `post-charge` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::PostCharge];
    ///     fn post_charge(operation_id: String, number: String, charge: Charge) -> Result<WriteReceipt, PmsError> {
    ///         let amount = Amount::parse(&charge.amount.amount)?;
    ///         let posted: serde_json::Value = Request::post(format!("{}/reservations/{number}/charges", config::require("baseUrl")?))
    ///             .json(&json!({
    ///                 "amount": amount.to_string(),
    ///                 "currency": charge.amount.currency,
    ///                 "text": charge.description,
    ///                 "externalId": operation_id,
    ///             }))?
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         Ok(WriteReceipt { pms_reference: posted["transactionId"].as_str().map(String::from) })
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("POST", "/reservations/ABC1/charges", 201, json!({"transactionId": "T-5"})));
    /// let charge = Charge { amount: Amount::parse("4.5")?.with_currency("EUR"), description: "Minibar".into(), code: None };
    /// let receipt = pms.run(|| MyPms::post_charge("op-1".into(), "ABC1".into(), charge))?;
    /// assert_eq!(receipt.pms_reference.as_deref(), Some("T-5"));
    /// assert_eq!(pms.requests()[0].json().unwrap()["amount"], "4.50");
    /// # Ok::<(), PmsError>(())
    /// ```
    fn post_charge(
        operation_id: String,
        confirmation_number: String,
        charge: Charge,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, confirmation_number, charge);
        Err(unsupported("post-charge"))
    }

    /// See `get-balance` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetBalance];
    ///     fn get_balance(number: String) -> Result<Money, PmsError> {
    ///         let folio: serde_json::Value = Request::get(format!("{}/reservations/{number}/folio", config::require("baseUrl")?))
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         // The vendor sends a JSON number; `Amount` keeps it exact.
    ///         let balance = Amount::from_json(&folio["balance"])?;
    ///         Ok(balance.with_currency(config::get("currency").unwrap_or_else(|| "EUR".into())))
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .setting("currency", "CHF")
    ///     .exchange(Exchange::json("GET", "/reservations/ABC1/folio", 200, json!({"balance": 120.1})));
    /// let balance = pms.run(|| MyPms::get_balance("ABC1".into())).unwrap();
    /// assert_eq!((balance.amount.as_str(), balance.currency.as_str()), ("120.10", "CHF"));
    /// // No such reservation: a 404 from the PMS is `not-found`.
    /// assert_eq!(pms.run(|| MyPms::get_balance("ZZZ".into())), Err(PmsError::NotFound));
    /// ```
    fn get_balance(confirmation_number: String) -> Result<Money, PmsError> {
        let _ = confirmation_number;
        Err(unsupported("get-balance"))
    }

    /// See `get-room-status` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetRoomStatus];
    ///     fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
    ///         let response = Request::get(format!("{}/rooms/{room_number}", config::require("baseUrl")?))
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?;
    ///         if response.status() == 404 {
    ///             return Ok(None);
    ///         }
    ///         let room: serde_json::Value = response.error_for_status()?.json()?;
    ///         let housekeeping = match room["state"].as_str() {
    ///             Some("CLEAN") => HousekeepingStatus::Clean,
    ///             Some("DIRTY") => HousekeepingStatus::Dirty,
    ///             Some("INSPECTED") => HousekeepingStatus::Inspected,
    ///             other => return Err(internal(format!("unknown room state {other:?}"))),
    ///         };
    ///         Ok(Some(RoomStatus { room_number, housekeeping, occupied: room["occupied"].as_bool(), updated_at: None }))
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/rooms/204", 200, json!({"state": "DIRTY", "occupied": false})));
    /// let room = pms.run(|| MyPms::get_room_status("204".into())).unwrap().unwrap();
    /// assert_eq!(room.housekeeping, HousekeepingStatus::Dirty);
    /// assert_eq!(pms.run(|| MyPms::get_room_status("999".into())), Ok(None));
    /// ```
    fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
        let _ = room_number;
        Err(unsupported("get-room-status"))
    }

    /// See `get-all-room-statuses` in `wit/adapter.wit`.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::GetAllRoomStatuses];
    ///     fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
    ///         let rooms: Vec<serde_json::Value> = Request::get(format!("{}/rooms", config::require("baseUrl")?))
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         rooms.iter().map(|room| Ok(RoomStatus {
    ///             room_number: room["number"].as_str().ok_or_else(|| internal("a room without a number"))?.into(),
    ///             housekeeping: if room["clean"] == true { HousekeepingStatus::Clean } else { HousekeepingStatus::Dirty },
    ///             occupied: None,
    ///             updated_at: None,
    ///         })).collect()
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/rooms", 200, json!([{"number": "101", "clean": true}, {"number": "102"}])));
    /// let rooms = pms.run(MyPms::get_all_room_statuses).unwrap();
    /// assert_eq!(rooms.iter().map(|r| r.housekeeping).collect::<Vec<_>>(), [HousekeepingStatus::Clean, HousekeepingStatus::Dirty]);
    /// ```
    fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
        Err(unsupported("get-all-room-statuses"))
    }

    /// See `find-write` in `wit/adapter.wit`. The default answers `unknown`, which makes the host
    /// hand an uncertain write to a human rather than risk sending it twice.
    ///
    /// ```
    /// # use jack_pms_sdk::prelude::*;
    /// # use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// # use serde_json::json;
    /// # struct MyPms;
    /// impl Adapter for MyPms {
    /// #   const VENDOR: &'static str = "mypms";
    /// #   const VERSION: &'static str = "0.1.0";
    /// #   const OPERATIONS: &'static [Operation] = &[Operation::AddReservationNote, Operation::FindWrite];
    ///     fn find_write(operation_id: String, target: WriteTarget) -> Result<WritePresence, PmsError> {
    ///         // Notes carry the operation id as `externalId` (see `add_reservation_note`).
    ///         let WriteTarget::ReservationNote(number) = target else {
    ///             return Ok(WritePresence::Unknown);
    ///         };
    ///         let notes: Vec<serde_json::Value> = Request::get(format!("{}/reservations/{number}/notes", config::require("baseUrl")?))
    ///             .credentials(CredentialScheme::ApiKeyHeader)
    ///             .send()?
    ///             .error_for_status()?
    ///             .json()?;
    ///         let found = notes.iter().any(|n| n["externalId"] == operation_id.as_str());
    ///         Ok(if found { WritePresence::Applied } else { WritePresence::Absent })
    ///     }
    /// }
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/reservations/ABC1/notes", 200, json!([{"externalId": "op-1"}])));
    /// let note = |op: &str| MyPms::find_write(op.into(), WriteTarget::ReservationNote("ABC1".into()));
    /// assert_eq!(pms.run(|| note("op-1")), Ok(WritePresence::Applied));
    /// assert_eq!(pms.run(|| note("op-2")), Ok(WritePresence::Absent));
    /// let charge = MyPms::find_write("op-3".into(), WriteTarget::Charge("ABC1".into()));
    /// assert_eq!(charge, Ok(WritePresence::Unknown));
    /// ```
    fn find_write(operation_id: String, target: WriteTarget) -> Result<WritePresence, PmsError> {
        let _ = (operation_id, target);
        Ok(WritePresence::Unknown)
    }
}

use errors::unsupported;

/// Exports a type implementing [`Adapter`] as the component's `jack:pms/adapter` interface.
///
/// Call it once, at the crate root of a `cdylib` crate. The component exports are emitted only when
/// building for a wasm target, so the same crate also builds natively for unit tests.
///
/// ```
/// use jack_pms_sdk::prelude::*;
///
/// pub struct MyPms;
///
/// impl Adapter for MyPms {
///     const VENDOR: &'static str = "mypms";
///     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
///     const OPERATIONS: &'static [Operation] = &[];
/// }
///
/// export_adapter!(MyPms);
///
/// // The export is the WIT interface's `Guest` trait, forwarding to `Adapter`.
/// use jack_pms_sdk::bindings::exports::jack::pms::adapter::Guest as Exported;
/// assert_eq!(<MyPms as Exported>::describe().vendor, "mypms");
/// assert!(matches!(<MyPms as Exported>::get_in_house_guests(), Err(PmsError::Unsupported(_))));
/// ```
#[macro_export]
macro_rules! export_adapter {
    ($ty:ident) => {
        impl $crate::bindings::exports::jack::pms::adapter::Guest for $ty {
            fn describe() -> $crate::AdapterInfo {
                <$ty as $crate::Adapter>::describe()
            }
            fn health_check() -> ::core::result::Result<$crate::HealthStatus, $crate::PmsError> {
                <$ty as $crate::Adapter>::health_check()
            }
            fn get_guest(
                identifier: $crate::GuestIdentifier,
            ) -> ::core::result::Result<::core::option::Option<$crate::Guest>, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_guest(identifier)
            }
            fn search_guests(
                query: $crate::GuestQuery,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Guest>, $crate::PmsError> {
                <$ty as $crate::Adapter>::search_guests(query)
            }
            fn update_guest_preferences(
                operation_id: ::std::string::String,
                guest_pms_id: ::std::string::String,
                preferences: ::std::vec::Vec<$crate::Preference>,
            ) -> ::core::result::Result<$crate::WriteReceipt, $crate::PmsError> {
                <$ty as $crate::Adapter>::update_guest_preferences(operation_id, guest_pms_id, preferences)
            }
            fn get_reservation(
                confirmation_number: ::std::string::String,
            ) -> ::core::result::Result<::core::option::Option<$crate::Reservation>, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_reservation(confirmation_number)
            }
            fn get_arrivals(
                date: ::std::string::String,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Reservation>, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_arrivals(date)
            }
            fn get_departures(
                date: ::std::string::String,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Reservation>, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_departures(date)
            }
            fn get_in_house_guests()
            -> ::core::result::Result<::std::vec::Vec<$crate::Reservation>, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_in_house_guests()
            }
            fn add_reservation_note(
                operation_id: ::std::string::String,
                confirmation_number: ::std::string::String,
                note: ::std::string::String,
            ) -> ::core::result::Result<$crate::WriteReceipt, $crate::PmsError> {
                <$ty as $crate::Adapter>::add_reservation_note(operation_id, confirmation_number, note)
            }
            fn update_checkout_time(
                operation_id: ::std::string::String,
                confirmation_number: ::std::string::String,
                time: ::std::string::String,
            ) -> ::core::result::Result<$crate::WriteReceipt, $crate::PmsError> {
                <$ty as $crate::Adapter>::update_checkout_time(operation_id, confirmation_number, time)
            }
            fn post_charge(
                operation_id: ::std::string::String,
                confirmation_number: ::std::string::String,
                charge: $crate::Charge,
            ) -> ::core::result::Result<$crate::WriteReceipt, $crate::PmsError> {
                <$ty as $crate::Adapter>::post_charge(operation_id, confirmation_number, charge)
            }
            fn get_balance(
                confirmation_number: ::std::string::String,
            ) -> ::core::result::Result<$crate::Money, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_balance(confirmation_number)
            }
            fn get_room_status(
                room_number: ::std::string::String,
            ) -> ::core::result::Result<::core::option::Option<$crate::RoomStatus>, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_room_status(room_number)
            }
            fn get_all_room_statuses()
            -> ::core::result::Result<::std::vec::Vec<$crate::RoomStatus>, $crate::PmsError> {
                <$ty as $crate::Adapter>::get_all_room_statuses()
            }
            fn find_write(
                operation_id: ::std::string::String,
                target: $crate::WriteTarget,
            ) -> ::core::result::Result<$crate::WritePresence, $crate::PmsError> {
                <$ty as $crate::Adapter>::find_write(operation_id, target)
            }
        }
        // Component exports exist only in the wasm build; natively (unit tests of an adapter's
        // mapping code, benchmarks) the crate builds without them.
        #[cfg(target_family = "wasm")]
        $crate::bindings::__export_pms_adapter!($ty with_types_in $crate::bindings);
    };
}
