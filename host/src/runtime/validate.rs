//! Checks what an adapter returned against the contract before anyone sees it: dates, instants
//! and money in their documented forms, guest ids prefixed with the vendor. A PMS returning
//! garbage becomes a clear error naming the field, never garbage passed on to Jack.

use crate::model::{Guest, Money, Reservation};
use crate::operation::{Operation, Outcome};

/// Validates and completes `outcome` of `operation` for `vendor`'s adapter.
pub fn outcome(vendor: &str, operation: Operation, outcome: Outcome) -> Result<Outcome, String> {
    let expected = matches!(
        (operation, &outcome),
        (Operation::Describe, Outcome::Info(_))
            | (Operation::HealthCheck, Outcome::Health(_))
            | (Operation::GetGuest, Outcome::Guest(_))
            | (Operation::SearchGuests, Outcome::Guests(_))
            | (Operation::GetReservation, Outcome::Reservation(_))
            | (
                Operation::GetArrivals | Operation::GetDepartures | Operation::GetInHouseGuests,
                Outcome::Reservations(_)
            )
            | (
                Operation::UpdateGuestPreferences
                    | Operation::AddReservationNote
                    | Operation::UpdateCheckoutTime
                    | Operation::PostCharge,
                Outcome::Receipt(_)
            )
            | (Operation::GetBalance, Outcome::Balance(_))
            | (Operation::GetRoomStatus, Outcome::Room(_))
            | (Operation::GetAllRoomStatuses, Outcome::Rooms(_))
            | (Operation::FindWrite, Outcome::Presence(_))
    );
    if !expected {
        return Err(format!("the result does not match {operation}"));
    }
    Ok(match outcome {
        Outcome::Guest(g) => Outcome::Guest(g.map(|g| guest(vendor, g)).transpose()?),
        Outcome::Guests(gs) => Outcome::Guests(
            gs.into_iter()
                .map(|g| guest(vendor, g))
                .collect::<Result<_, _>>()?,
        ),
        Outcome::Reservation(r) => {
            Outcome::Reservation(r.map(|r| reservation(vendor, r)).transpose()?)
        }
        Outcome::Reservations(rs) => Outcome::Reservations(
            rs.into_iter()
                .map(|r| reservation(vendor, r))
                .collect::<Result<_, _>>()?,
        ),
        Outcome::Balance(m) => Outcome::Balance(money(m)?),
        Outcome::Rooms(rooms) => {
            for r in &rooms {
                if let Some(t) = &r.updated_at {
                    instant("updatedAt", t)?;
                }
            }
            Outcome::Rooms(rooms)
        }
        Outcome::Room(room) => {
            if let Some(t) = room.as_ref().and_then(|r| r.updated_at.as_ref()) {
                instant("updatedAt", t)?;
            }
            Outcome::Room(room)
        }
        other => other,
    })
}

fn guest(vendor: &str, mut g: Guest) -> Result<Guest, String> {
    if g.external_ids.pms.is_empty() {
        return Err("a guest has an empty PMS id".into());
    }
    g.id = format!("{vendor}:{}", g.external_ids.pms);
    Ok(g)
}

fn reservation(vendor: &str, mut r: Reservation) -> Result<Reservation, String> {
    date("arrivalDate", &r.arrival_date)?;
    date("departureDate", &r.departure_date)?;
    if let Some(t) = &r.checkout_time {
        instant("checkoutTime", t)?;
    }
    if r.confirmation_number.is_empty() {
        return Err(format!("reservation {} has no confirmation number", r.id));
    }
    r.guest_id = format!("{vendor}:{}", r.guest_id);
    Ok(r)
}

/// Exactly `YYYY-MM-DD`, a day that exists. (Checked by hand: a list of reservations has two
/// dates each, and chrono's format-string parser re-reads its pattern for every one.)
fn date(field: &str, value: &str) -> Result<(), String> {
    let b = value.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let number = |range: std::ops::Range<usize>| value[range].parse::<u32>().ok();
    let exists = shaped
        && match (number(0..4), number(5..7), number(8..10)) {
            (Some(y), Some(m), Some(d)) => i32::try_from(y)
                .ok()
                .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, m, d))
                .is_some(),
            _ => false,
        };
    if exists {
        Ok(())
    } else {
        Err(format!("{field} `{value}` is not a YYYY-MM-DD date"))
    }
}

fn instant(field: &str, value: &str) -> Result<(), String> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|_| ())
        .map_err(|_| format!("{field} `{value}` is not an RFC 3339 instant"))
}

fn money(m: Money) -> Result<Money, String> {
    m.validate().map(|_| m)
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn dates_are_exactly_year_month_day_and_exist() {
        for good in ["2030-06-10", "2028-02-29", "0001-01-01"] {
            assert!(date("d", good).is_ok(), "{good}");
        }
        for bad in [
            "2030-6-10",
            "2030-06-1",
            "2030-02-30",
            "2029-02-29",
            "2030-13-01",
            "2030/06/10",
            "+030-06-10",
            "2030-06-10T00:00:00Z",
            "",
            "２０３０-06-10",
        ] {
            let e = date("arrivalDate", bad).expect_err(bad);
            assert!(e.contains("arrivalDate") && e.contains("YYYY-MM-DD"), "{e}");
        }
    }
}
