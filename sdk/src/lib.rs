//! # jack-pms-sdk: write a PMS adapter for jack-pms
//!
//! An adapter is a WebAssembly component that exports the `jack:pms/adapter@0.1.0` interface
//! (see `wit/adapter.wit`) and reaches the PMS only through the host's `http` import. The host
//! applies credentials, rate limits and retries; the adapter only maps the vendor's API to the
//! common model.
//!
//! ```no_run
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
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the result is a component.
#![deny(missing_docs)]

extern crate self as jack_pms_sdk;

pub mod config;
pub mod dates;
pub mod errors;
pub mod http;
pub mod log;

/// The generated guest bindings for `jack:pms@0.1.0`. Adapters rarely need them directly: the
/// useful types are re-exported at the crate root.
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
pub use bindings::jack::pms::types::GuestProfile as Guest;
pub use bindings::jack::pms::types::{
    AdapterInfo, Charge, GuestIdentifier, GuestProfile, GuestQuery, HealthStatus,
    HousekeepingStatus, Money, Operation, PmsError, Preference, Reservation, ReservationStatus,
    RoomStatus, WritePresence, WriteReceipt, WriteTarget,
};
pub use http::{Request, Response};

/// Everything an adapter usually needs, in one `use`.
pub mod prelude {
    pub use crate::config;
    pub use crate::dates::Date;
    pub use crate::errors::{internal, invalid_request, unsupported};
    pub use crate::http::{Method, Request, Response};
    pub use crate::{
        Adapter, AdapterInfo, Charge, CredentialScheme, Guest, GuestIdentifier, GuestQuery,
        HealthStatus, HousekeepingStatus, Money, Operation, PmsError, Preference, Reservation,
        ReservationStatus, RoomStatus, WritePresence, WriteReceipt, WriteTarget, export_adapter,
    };
}

/// The operations of `jack:pms/adapter`, as Rust functions with default bodies.
///
/// Implement the ones your PMS supports and list them in [`Adapter::OPERATIONS`]; every other
/// operation answers `unsupported`, as the contract requires (never a fake answer). Then call
/// [`export_adapter!`] once with your type.
pub trait Adapter {
    /// Vendor key, lowercase; it prefixes guest ids (`"<vendor>:<pms-id>"`).
    const VENDOR: &'static str;
    /// The adapter's version, usually `env!("CARGO_PKG_VERSION")`.
    const VERSION: &'static str;
    /// The operations this adapter implements.
    const OPERATIONS: &'static [Operation];

    /// Describes the adapter. The default builds the answer from the constants.
    fn describe() -> AdapterInfo {
        AdapterInfo {
            vendor: Self::VENDOR.to_string(),
            adapter_version: Self::VERSION.to_string(),
            operations: Self::OPERATIONS.to_vec(),
        }
    }

    /// See `health-check` in `wit/adapter.wit`.
    fn health_check() -> Result<HealthStatus, PmsError> {
        Err(unsupported("health-check"))
    }

    /// See `get-guest` in `wit/adapter.wit`.
    fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        let _ = identifier;
        Err(unsupported("get-guest"))
    }

    /// See `search-guests` in `wit/adapter.wit`.
    fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
        let _ = query;
        Err(unsupported("search-guests"))
    }

    /// See `update-guest-preferences` in `wit/adapter.wit`.
    fn update_guest_preferences(
        operation_id: String,
        guest_pms_id: String,
        preferences: Vec<Preference>,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, guest_pms_id, preferences);
        Err(unsupported("update-guest-preferences"))
    }

    /// See `get-reservation` in `wit/adapter.wit`.
    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        let _ = confirmation_number;
        Err(unsupported("get-reservation"))
    }

    /// See `get-arrivals` in `wit/adapter.wit`.
    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        let _ = date;
        Err(unsupported("get-arrivals"))
    }

    /// See `get-departures` in `wit/adapter.wit`.
    fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
        let _ = date;
        Err(unsupported("get-departures"))
    }

    /// See `get-in-house-guests` in `wit/adapter.wit`.
    fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
        Err(unsupported("get-in-house-guests"))
    }

    /// See `add-reservation-note` in `wit/adapter.wit`.
    fn add_reservation_note(
        operation_id: String,
        confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, confirmation_number, note);
        Err(unsupported("add-reservation-note"))
    }

    /// See `update-checkout-time` in `wit/adapter.wit`.
    fn update_checkout_time(
        operation_id: String,
        confirmation_number: String,
        time: String,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, confirmation_number, time);
        Err(unsupported("update-checkout-time"))
    }

    /// See `post-charge` in `wit/adapter.wit`.
    fn post_charge(
        operation_id: String,
        confirmation_number: String,
        charge: Charge,
    ) -> Result<WriteReceipt, PmsError> {
        let _ = (operation_id, confirmation_number, charge);
        Err(unsupported("post-charge"))
    }

    /// See `get-balance` in `wit/adapter.wit`.
    fn get_balance(confirmation_number: String) -> Result<Money, PmsError> {
        let _ = confirmation_number;
        Err(unsupported("get-balance"))
    }

    /// See `get-room-status` in `wit/adapter.wit`.
    fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
        let _ = room_number;
        Err(unsupported("get-room-status"))
    }

    /// See `get-all-room-statuses` in `wit/adapter.wit`.
    fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
        Err(unsupported("get-all-room-statuses"))
    }

    /// See `find-write` in `wit/adapter.wit`. The default answers `unknown`, which makes the host
    /// hand an uncertain write to a human rather than risk sending it twice.
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
