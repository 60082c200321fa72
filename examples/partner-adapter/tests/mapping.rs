//! The adapter's mapping, tested natively with `cargo test`: the SDK's harness plays the host,
//! answering HTTP from the recorded Apaleo exchanges in `tests/fixtures/` (recorded on
//! 2026-05-01 in property MUC, whose UTC offset was +02:00).

use apaleo::ApaleoAdapter;
use jack_pms_sdk::prelude::*;
use jack_pms_sdk::testing::Harness;
use std::path::Path;

fn harness() -> Harness {
    Harness::from_fixtures(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
        .expect("fixtures")
        .setting("propertyId", "MUC")
}

/// Every request went to Apaleo's API origin, asked the host for the OAuth token, and matched a
/// recorded exchange.
fn assert_clean(h: &Harness) {
    assert!(h.unmatched().is_empty(), "unmatched: {:?}", h.unmatched());
    for r in h.requests() {
        assert!(r.url.starts_with("https://api.apaleo.com/"), "{}", r.url);
        assert_eq!(r.credentials, CredentialScheme::Oauth2ClientCredentials);
    }
}

#[test]
fn a_reservation_maps_to_the_common_model() {
    let h = harness();
    let r = h
        .run(|| ApaleoAdapter::get_reservation("FHXZQNDK-1".into()))
        .expect("no error")
        .expect("found");
    assert_eq!(r.id, "FHXZQNDK-1");
    assert_eq!(r.confirmation_number, "FHXZQNDK-1");
    assert_eq!(r.guest_pms_id, "FHXZQNDK-1");
    assert_eq!(r.guest_name, "Sarah Chen");
    assert_eq!(r.status, ReservationStatus::CheckedIn);
    // The date part of Apaleo's date-time is the hotel's own date (it carries the property offset).
    assert_eq!(r.arrival_date, "2026-04-30");
    assert_eq!(r.departure_date, "2026-05-03");
    assert_eq!(
        r.checkout_time.as_deref(),
        Some("2026-05-03T11:00:00+02:00")
    );
    assert_eq!(r.room_number.as_deref(), Some("101"));
    assert_eq!(r.room_type.as_deref(), Some("DBL"));
    assert_eq!((r.adults, r.children), (2, 1));
    // The guest's comment first, then the hotel's comment line by line, markers hidden.
    assert_eq!(
        r.notes,
        vec![
            "Feather pillows, please",
            "Late check-out requested",
            "Extra towels"
        ]
    );
    assert_clean(&h);
}

#[test]
fn a_channel_confirmation_code_finds_the_reservation() {
    let h = harness();
    let r = h
        .run(|| ApaleoAdapter::get_reservation("BDC-448812".into()))
        .expect("no error")
        .expect("found");
    assert_eq!(r.confirmation_number, "LQRVTMWE-1");
    assert_eq!(r.status, ReservationStatus::Reserved);
    assert_eq!(r.room_number, None);
    let search = &h.requests()[1];
    assert!(
        search.url.contains("externalCode=BDC-448812"),
        "{}",
        search.url
    );
    assert!(search.url.contains("propertyIds=MUC"), "{}", search.url);
    assert_clean(&h);
}

#[test]
fn missing_reservations_and_other_properties_read_as_none() {
    let h = harness();
    assert_eq!(
        h.run(|| ApaleoAdapter::get_reservation("NOPE-1".into())),
        Ok(None)
    );
    // The same Apaleo account's Berlin hotel is not this hotel's business.
    assert_eq!(
        h.run(|| ApaleoAdapter::get_reservation("ZZBERLIN-1".into())),
        Ok(None)
    );
    assert_eq!(
        h.run(|| ApaleoAdapter::get_balance("NOPE-1".into())),
        Err(PmsError::NotFound)
    );
    assert_clean(&h);
}

#[test]
fn in_house_follows_every_page() {
    let h = harness().setting("pageSize", "2");
    let list = h.run(ApaleoAdapter::get_in_house_guests).expect("in house");
    let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["FHXZQNDK-1", "WMTRBQJL-1", "KVXLDNGS-1"]);
    assert_eq!(h.requests().len(), 2);
    assert_clean(&h);
}

#[test]
fn arrivals_ask_for_the_local_day_and_skip_cancellations() {
    let h = harness();
    let list = h
        .run(|| ApaleoAdapter::get_arrivals("2026-05-01".into()))
        .expect("arrivals");
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|r| r.arrival_date == "2026-05-01"));
    let url = &h.requests()[0].url;
    for part in [
        "dateFilter=Arrival",
        "from=2026-05-01",
        "to=2026-05-02",
        "status=Confirmed%2CInHouse%2CCheckedOut",
    ] {
        assert!(url.contains(part), "{url} lacks {part}");
    }
    // An empty day is Apaleo's 204 No Content.
    assert_eq!(
        h.run(|| ApaleoAdapter::get_departures("2026-05-01".into())),
        Ok(vec![])
    );
    assert_eq!(
        h.run(|| ApaleoAdapter::get_arrivals("1 May".into())),
        Err(PmsError::InvalidRequest(
            "`1 May` is not a date of the form YYYY-MM-DD".into()
        ))
    );
    assert_clean(&h);
}

#[test]
fn guests_come_from_the_primary_guest() {
    let h = harness();
    let by_email = h
        .run(|| ApaleoAdapter::get_guest(GuestIdentifier::Email("sarah.chen@example.com".into())))
        .expect("no error")
        .expect("found");
    assert_eq!(by_email.pms_id, "FHXZQNDK-1");
    assert_eq!(
        (by_email.first_name.as_str(), by_email.last_name.as_str()),
        ("Sarah", "Chen")
    );
    assert_eq!(by_email.phone.as_deref(), Some("+31 6 12345678"));
    assert_eq!(by_email.language.as_deref(), Some("en"));
    let by_id = h
        .run(|| ApaleoAdapter::get_guest(GuestIdentifier::Id("FHXZQNDK-1".into())))
        .expect("no error");
    assert_eq!(by_id, Some(by_email));
    // textSearch also matched Jonas Weber (Apaleo searches several fields); the name must match.
    let found = h
        .run(|| {
            ApaleoAdapter::search_guests(GuestQuery {
                email: None,
                phone: None,
                name: Some("Chen".into()),
            })
        })
        .expect("search");
    assert_eq!(found.len(), 1);
    assert!(matches!(
        h.run(|| ApaleoAdapter::get_guest(GuestIdentifier::Phone("+31 6 12345678".into()))),
        Err(PmsError::Unsupported(m)) if m.contains("phone")
    ));
    assert_clean(&h);
}

#[test]
fn the_balance_is_what_the_guest_owes() {
    let h = harness();
    let owed = h
        .run(|| ApaleoAdapter::get_balance("FHXZQNDK-1".into()))
        .expect("balance");
    assert_eq!(
        (owed.amount.as_str(), owed.currency.as_str()),
        ("120.50", "EUR")
    );
    assert_clean(&h);
}

#[test]
fn a_note_is_appended_to_the_comment_with_its_operation_id() {
    let h = harness();
    let receipt = h
        .run(|| {
            ApaleoAdapter::add_reservation_note(
                "op-42".into(),
                "FHXZQNDK-1".into(),
                "Guest asked for a taxi at 7:00".into(),
            )
        })
        .expect("written");
    assert_eq!(receipt.pms_reference.as_deref(), Some("FHXZQNDK-1"));
    let patch = h
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("a PATCH");
    assert_eq!(
        patch.json(),
        Some(serde_json::json!([{
            "op": "replace",
            "path": "/comment",
            "value": "Late check-out requested\nExtra towels [jack:op-earlier]\nGuest asked for a taxi at 7:00 [jack:op-42]"
        }]))
    );
    assert_clean(&h);
}

#[test]
fn find_write_reads_the_marker_back() {
    let h = harness();
    let target = || WriteTarget::ReservationNote("FHXZQNDK-1".into());
    assert_eq!(
        h.run(|| ApaleoAdapter::find_write("op-earlier".into(), target())),
        Ok(WritePresence::Applied)
    );
    assert_eq!(
        h.run(|| ApaleoAdapter::find_write("op-never".into(), target())),
        Ok(WritePresence::Absent)
    );
    // A replay of a note that arrived does not write it again.
    h.run(|| {
        ApaleoAdapter::add_reservation_note("op-earlier".into(), "FHXZQNDK-1".into(), "x".into())
    })
    .expect("replay");
    assert!(h.requests().iter().all(|r| r.method == "GET"));
    assert_clean(&h);
}

#[test]
fn units_map_condition_and_maintenance() {
    let h = harness();
    let rooms = h.run(ApaleoAdapter::get_all_room_statuses).expect("rooms");
    let got: Vec<(&str, HousekeepingStatus, Option<bool>)> = rooms
        .iter()
        .map(|r| (r.room_number.as_str(), r.housekeeping, r.occupied))
        .collect();
    assert_eq!(
        got,
        [
            ("101", HousekeepingStatus::Clean, Some(true)),
            ("102", HousekeepingStatus::Dirty, Some(false)),
            ("103", HousekeepingStatus::Clean, Some(false)),
            ("201", HousekeepingStatus::OutOfService, Some(false)),
            ("202", HousekeepingStatus::OutOfOrder, Some(false)),
        ]
    );
    // Where the property inspects rooms, Apaleo's Clean comes after inspection.
    let inspecting = harness().setting("inspectsRooms", "true");
    let room = inspecting
        .run(|| ApaleoAdapter::get_room_status("101".into()))
        .expect("no error")
        .expect("found");
    assert_eq!(room.housekeeping, HousekeepingStatus::Inspected);
    assert_eq!(
        h.run(|| ApaleoAdapter::get_room_status("999".into())),
        Ok(None)
    );
    assert_clean(&h);
    assert_clean(&inspecting);
}

#[test]
fn the_health_check_names_the_property() {
    let h = harness();
    let health = h.run(ApaleoAdapter::health_check).expect("health");
    assert!(health.healthy);
    assert_eq!(
        health.detail.as_deref(),
        Some("property MUC (Hotel Munich)")
    );
    assert_clean(&h);
}

#[test]
fn broken_answers_become_errors_not_traps() {
    let h = harness();
    assert!(matches!(
        h.run(|| ApaleoAdapter::get_reservation("TRUNCATED-1".into())),
        Err(PmsError::Internal(m)) if m.contains("cannot read")
    ));
    assert!(matches!(
        h.run(|| ApaleoAdapter::get_reservation("ODDSTATUS-1".into())),
        Err(PmsError::Internal(m)) if m.contains("Teleported")
    ));
    assert_eq!(
        h.run(|| ApaleoAdapter::get_reservation("SLOWDOWN-1".into())),
        Err(PmsError::RateLimited(Some(3000)))
    );
    let unconfigured = Harness::new();
    assert!(matches!(
        unconfigured.run(ApaleoAdapter::get_in_house_guests),
        Err(PmsError::InvalidRequest(m)) if m.contains("propertyId")
    ));
    assert!(unconfigured.requests().is_empty());
}

#[test]
fn writes_apaleo_cannot_do_say_why() {
    let h = harness();
    let charge = Charge {
        amount: Money {
            amount: "5.00".into(),
            currency: "EUR".into(),
        },
        description: "Minibar".into(),
        code: None,
    };
    for result in [
        h.run(|| ApaleoAdapter::post_charge("op".into(), "FHXZQNDK-1".into(), charge.clone())),
        h.run(|| {
            ApaleoAdapter::update_checkout_time(
                "op".into(),
                "FHXZQNDK-1".into(),
                "2026-05-03T12:00:00+02:00".into(),
            )
        }),
        h.run(|| ApaleoAdapter::update_guest_preferences("op".into(), "G".into(), vec![])),
    ] {
        assert!(
            matches!(&result, Err(PmsError::Unsupported(m)) if m.contains("Apaleo")),
            "{result:?}"
        );
    }
    assert!(
        h.requests().is_empty(),
        "unsupported operations never call Apaleo"
    );
    let info = ApaleoAdapter::describe();
    assert_eq!(info.vendor, "apaleo");
    assert!(!info.operations.contains(&Operation::PostCharge));
}
