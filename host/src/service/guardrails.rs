//! Guardrails on what an assistant may write: the host is the last line before a hotel's folio.
//!
//! Every write is checked against its hotel's rules (`writes:` laid under `hotels[].writes`,
//! [`crate::config::WriteRules`]) before anything is stored or sent. A write that breaks one is
//! refused (the API's 422 `write-refused`, naming the rule), audited with who asked and which
//! rule, and counted in `/metrics` (`jack_pms_guardrail_refusals_total{rule}`). A charge over the
//! hotel's approval threshold is not refused but held (`awaiting_approval`) until staff approve
//! or reject it (`jack-pms outbox approve|reject`).
//!
//! The rules, by name:
//!
//! | rule | what it refuses |
//! |---|---|
//! | `charge.amount.positive` | a charge of zero or less |
//! | `charge.amount.max` | a charge over `maxChargeAmount` |
//! | `charge.currency` | a charge in another currency than the hotel's `currency` |
//! | `charge.description` | an empty description, one over 200 characters or with control characters |
//! | `charge.rate` | more than `maxChargesPerReservationPerHour` charges to one reservation in an hour |
//! | `note.empty` | a note with no text |
//! | `note.length` | a note longer than the vendor keeps (the manifest's `note_max_chars`, else 4,000) |
//! | `note.control` | control characters (a line feed is allowed) |
//! | `checkout.before_arrival` | a check-out time before the stay's arrival day begins |
//! | `checkout.window` | a check-out time further than `checkoutWindowHours` from the departure day |
//! | `preferences.count` | more than `maxPreferencesPerGuest` preferences |
//! | `preferences.code` | an empty or over-long category or code, or control characters in one |

use super::ServiceError;
use super::registry::BoundHotel;
use super::writes::Outbox;
use crate::config::WriteRules;
use crate::metrics::{GuardrailLabels, metrics};
use crate::model::{Charge, Decimal, Preference, Reservation};
use crate::state::audit::AuditEntry;
use crate::state::outbox::WriteRequest;
use crate::zone::HotelZone;
use chrono::{DateTime, Utc};

/// Notes longer than this are refused when the manifest names no limit of its own.
const DEFAULT_NOTE_MAX_CHARS: u32 = 4000;
/// The longest charge description (what the guest reads on the folio).
const MAX_DESCRIPTION_CHARS: usize = 200;
/// The longest preference category or code.
const MAX_PREFERENCE_CODE_CHARS: usize = 64;

/// What the guardrails decided about a write that breaks none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Store and send it.
    Send,
    /// Store it held for staff approval; the reason names the threshold.
    Hold(String),
}

/// A broken rule: its name and what the write did against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    rule: &'static str,
    detail: String,
}

fn refuse(rule: &'static str, detail: impl Into<String>) -> Refusal {
    Refusal {
        rule,
        detail: detail.into(),
    }
}

impl Outbox {
    /// Checks `request` against `hotel`'s guardrails. A refusal is audited (as `caller`) and
    /// counted before it is returned as [`ServiceError::Guardrail`].
    pub(super) async fn guard(
        &self,
        bound: &BoundHotel,
        caller: &str,
        request: &WriteRequest,
    ) -> Result<Verdict, ServiceError> {
        let hotel = bound.id();
        let refusal = match self.check(bound, request).await? {
            Ok(verdict) => return Ok(verdict),
            Err(refusal) => refusal,
        };
        metrics()
            .guardrail_refusals
            .get_or_create(&GuardrailLabels {
                hotel: hotel.to_owned(),
                rule: refusal.rule,
            })
            .inc();
        tracing::warn!(%hotel, operation = %request.operation(), rule = refusal.rule, caller, "write refused by a guardrail");
        self.state
            .writer()
            .audit(AuditEntry {
                actor: caller.to_owned(),
                hotel: hotel.to_owned(),
                operation: request.operation().camel_name().to_owned(),
                // Never stored in the outbox: the id only ties the audit row to this request.
                operation_id: format!("op-{}", uuid::Uuid::new_v4().simple()),
                target: request.target(),
                event: "refused",
                attempt: None,
                outcome: format!("refused: {}", refusal.rule),
                detail: Some(refusal.detail.clone()),
                pms_request_id: None,
            })
            .await?;
        Err(ServiceError::Guardrail {
            rule: refusal.rule,
            detail: refusal.detail,
        })
    }

    /// The rules of `request`'s kind; the outer error is a failure to check at all.
    async fn check(
        &self,
        bound: &BoundHotel,
        request: &WriteRequest,
    ) -> Result<Result<Verdict, Refusal>, ServiceError> {
        let hotel = bound.id();
        let rules = &bound.settings().writes;
        let binding = bound.binding();
        Ok(match request {
            WriteRequest::PostCharge {
                confirmation_number,
                charge,
            } => match charge_rules(rules, charge) {
                Err(refusal) => Err(refusal),
                Ok(amount) => {
                    let since = Utc::now() - chrono::Duration::hours(1);
                    let recent = self
                        .state
                        .outbox()
                        .recent(hotel, request.operation(), &request.target(), since)
                        .await?;
                    let cap = rules.max_charges_per_reservation_per_hour;
                    if recent >= u64::from(cap) {
                        Err(refuse(
                            "charge.rate",
                            format!(
                                "reservation {} already has {recent} charge(s) in the last hour; the hotel allows {cap}",
                                crate::untrusted::escape(confirmation_number, 64)
                            ),
                        ))
                    } else {
                        Ok(hold(rules, amount, &charge.currency))
                    }
                }
            },
            WriteRequest::AddReservationNote { note, .. } => note_rules(
                note,
                binding
                    .adapter
                    .manifest
                    .note_max_chars
                    .unwrap_or(DEFAULT_NOTE_MAX_CHARS),
            )
            .map(|()| Verdict::Send),
            WriteRequest::UpdateCheckoutTime {
                confirmation_number,
                time,
            } => {
                let reservation = self.reads.reservation(bound, confirmation_number).await?;
                checkout_rules(rules, &binding.zone, &reservation.data, time)
                    .map(|()| Verdict::Send)
            }
            WriteRequest::UpdateGuestPreferences { preferences, .. } => {
                preference_rules(rules, preferences).map(|()| Verdict::Send)
            }
        })
    }
}

/// A charge's own rules; its amount when it passes them.
fn charge_rules(rules: &WriteRules, charge: &Charge) -> Result<Decimal, Refusal> {
    let amount = Decimal::parse(&charge.amount).map_err(|e| refuse("charge.amount.positive", e))?;
    if amount <= Decimal::ZERO {
        return Err(refuse(
            "charge.amount.positive",
            format!("a charge must be more than zero, not {amount}"),
        ));
    }
    if amount > rules.max_charge_amount {
        return Err(refuse(
            "charge.amount.max",
            format!(
                "{amount} is over the hotel's largest charge, {}",
                rules.max_charge_amount
            ),
        ));
    }
    if let Some(currency) = &rules.currency
        && currency != &charge.currency
    {
        return Err(refuse(
            "charge.currency",
            format!(
                "the hotel charges in {currency}, not {}",
                crate::untrusted::escape(&charge.currency, 8)
            ),
        ));
    }
    // Lengths count the whole text as sent (what the OpenAPI document's maxLength says).
    let description = charge.description.as_str();
    if description.trim().is_empty() {
        return Err(refuse(
            "charge.description",
            "a charge needs a description (the guest reads it on the folio)",
        ));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(refuse(
            "charge.description",
            format!("the description is longer than {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    if description.chars().any(char::is_control) {
        return Err(refuse(
            "charge.description",
            "the description holds control characters",
        ));
    }
    Ok(amount)
}

/// Held when over the approval threshold, else sent.
fn hold(rules: &WriteRules, amount: Decimal, currency: &str) -> Verdict {
    match rules.approval_threshold {
        Some(threshold) if amount > threshold => Verdict::Hold(format!(
            "{amount} {} is over the hotel's approval threshold, {threshold}",
            crate::untrusted::escape(currency, 8)
        )),
        _ => Verdict::Send,
    }
}

fn note_rules(note: &str, max_chars: u32) -> Result<(), Refusal> {
    if note.trim().is_empty() {
        return Err(refuse("note.empty", "the note is empty"));
    }
    let chars = note.chars().count();
    if chars > max_chars as usize {
        return Err(refuse(
            "note.length",
            format!("the note has {chars} characters; this PMS keeps at most {max_chars}"),
        ));
    }
    if let Some(c) = note.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(refuse(
            "note.control",
            format!(
                "the note holds the control character U+{:04X} (line feeds are allowed)",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// A new check-out time: not before the stay's arrival day begins (at the hotel), and within
/// the window around the booked departure day.
fn checkout_rules(
    rules: &WriteRules,
    zone: &HotelZone,
    reservation: &Reservation,
    time: &str,
) -> Result<(), Refusal> {
    let bad = |what: &str| {
        refuse(
            "checkout.window",
            format!(
                "cannot place {what} of reservation {} in the hotel's calendar",
                crate::untrusted::escape(&reservation.confirmation_number, 64)
            ),
        )
    };
    let at = DateTime::parse_from_rfc3339(time)
        .map_err(|_| bad("the new check-out time"))?
        .with_timezone(&Utc);
    let arrival = day_start(zone, &reservation.arrival_date).ok_or_else(|| bad("the arrival"))?;
    let departure =
        day_start(zone, &reservation.departure_date).ok_or_else(|| bad("the departure"))?;
    if at < arrival {
        return Err(refuse(
            "checkout.before_arrival",
            format!(
                "{time} is before the stay arrives ({} at the hotel)",
                reservation.arrival_date
            ),
        ));
    }
    let window =
        chrono::Duration::from_std(rules.checkout_window).unwrap_or(chrono::Duration::hours(24));
    let earliest = departure - window;
    let latest = departure + chrono::Duration::days(1) + window;
    if at < earliest || at >= latest {
        return Err(refuse(
            "checkout.window",
            format!(
                "{time} is more than {} h from the booked departure day ({})",
                window.num_hours(),
                reservation.departure_date
            ),
        ));
    }
    Ok(())
}

/// The instant local day `date` (`YYYY-MM-DD`) begins at the hotel.
fn day_start(zone: &HotelZone, date: &str) -> Option<DateTime<Utc>> {
    let day: jiff::civil::Date = date.parse().ok()?;
    let start = day.to_zoned(zone.tz().clone()).ok()?;
    DateTime::from_timestamp_millis(start.timestamp().as_millisecond())
}

fn preference_rules(rules: &WriteRules, preferences: &[Preference]) -> Result<(), Refusal> {
    let cap = rules.max_preferences_per_guest;
    if preferences.len() > cap as usize {
        return Err(refuse(
            "preferences.count",
            format!(
                "{} preferences; the hotel allows {cap} per guest",
                preferences.len()
            ),
        ));
    }
    for p in preferences {
        for (what, value) in [("category", &p.category), ("code", &p.code)] {
            if value.trim().is_empty()
                || value.chars().count() > MAX_PREFERENCE_CODE_CHARS
                || value.chars().any(char::is_control)
            {
                return Err(refuse(
                    "preferences.code",
                    format!(
                        "preference {what} `{}` must be 1 to {MAX_PREFERENCE_CODE_CHARS} characters without control characters",
                        crate::untrusted::escape(value, 80)
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReservationStatus;
    use std::time::Duration;

    fn rules() -> WriteRules {
        WriteRules {
            max_charge_amount: Decimal::parse("500").unwrap(),
            currency: Some("EUR".into()),
            approval_threshold: Some(Decimal::parse("200.00").unwrap()),
            ..WriteRules::default()
        }
    }

    fn charge(amount: &str, currency: &str, description: &str) -> Charge {
        Charge {
            amount: amount.into(),
            currency: currency.into(),
            description: description.into(),
            code: None,
        }
    }

    fn rule_of<T: std::fmt::Debug>(r: Result<T, Refusal>) -> &'static str {
        r.expect_err("refused").rule
    }

    #[test]
    fn charges_are_positive_bounded_in_the_hotels_currency_and_described() {
        let r = rules();
        assert_eq!(
            rule_of(charge_rules(&r, &charge("-5", "EUR", "Minibar"))),
            "charge.amount.positive"
        );
        assert_eq!(
            rule_of(charge_rules(&r, &charge("0.00", "EUR", "Minibar"))),
            "charge.amount.positive"
        );
        assert_eq!(
            rule_of(charge_rules(
                &r,
                &charge("99999999999.99", "EUR", "Minibar")
            )),
            "charge.amount.max"
        );
        assert_eq!(
            rule_of(charge_rules(&r, &charge("10", "USD", "Minibar"))),
            "charge.currency"
        );
        assert_eq!(
            rule_of(charge_rules(&r, &charge("10", "EUR", "  "))),
            "charge.description"
        );
        assert_eq!(
            rule_of(charge_rules(&r, &charge("10", "EUR", "Mini\u{7}bar"))),
            "charge.description"
        );
        let ok = charge_rules(&r, &charge("500.00", "EUR", "Spa")).expect("at the maximum");
        assert_eq!(
            hold(&r, ok, "EUR"),
            Verdict::Hold("500.00 EUR is over the hotel's approval threshold, 200.00".into())
        );
        let small = charge_rules(&r, &charge("200.00", "EUR", "Spa")).expect("ok");
        assert_eq!(
            hold(&r, small, "EUR"),
            Verdict::Send,
            "at the threshold is not over it"
        );
    }

    #[test]
    fn notes_are_non_empty_bounded_and_free_of_control_characters() {
        assert_eq!(rule_of(note_rules(" \n ", 100)), "note.empty");
        assert_eq!(rule_of(note_rules(&"é".repeat(101), 100)), "note.length");
        assert!(
            note_rules(&"é".repeat(100), 100).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(rule_of(note_rules("late\u{1b}[2J", 100)), "note.control");
        assert!(note_rules("Late arrival\nAllergic to feathers", 100).is_ok());
    }

    fn stay(arrival: &str, departure: &str) -> Reservation {
        Reservation::stay("C1", ReservationStatus::CheckedIn, arrival, departure)
    }

    #[test]
    fn checkout_times_fall_between_arrival_and_the_departure_window_at_the_hotel() {
        let tokyo = HotelZone::parse("Asia/Tokyo").unwrap();
        let r = WriteRules {
            checkout_window: Duration::from_secs(6 * 3600),
            ..rules()
        };
        let s = stay("2026-12-01", "2026-12-03");
        // 11:00 on the departure day in Tokyo.
        assert!(checkout_rules(&r, &tokyo, &s, "2026-12-03T11:00:00+09:00").is_ok());
        // Departure day starts at 2026-12-02T15:00Z; six hours before is still inside.
        assert!(checkout_rules(&r, &tokyo, &s, "2026-12-02T09:00:00Z").is_ok());
        assert_eq!(
            rule_of(checkout_rules(&r, &tokyo, &s, "2026-12-02T08:59:00Z")),
            "checkout.window"
        );
        assert_eq!(
            rule_of(checkout_rules(&r, &tokyo, &s, "2026-12-04T06:00:00+09:00")),
            "checkout.window"
        );
        assert_eq!(
            rule_of(checkout_rules(
                &r,
                &tokyo,
                &stay("2026-12-03", "2026-12-03"),
                "2026-12-02T23:00:00+09:00"
            )),
            "checkout.before_arrival"
        );
    }

    #[test]
    fn preferences_are_counted_and_their_codes_bounded() {
        let p = |c: &str, code: &str| Preference {
            category: c.into(),
            code: code.into(),
            description: None,
        };
        let r = WriteRules {
            max_preferences_per_guest: 2,
            ..rules()
        };
        assert!(preference_rules(&r, &[p("PILLOW", "FEATHER"), p("FLOOR", "HIGH")]).is_ok());
        assert_eq!(
            rule_of(preference_rules(
                &r,
                &[p("A", "1"), p("B", "2"), p("C", "3")]
            )),
            "preferences.count"
        );
        assert_eq!(
            rule_of(preference_rules(&r, &[p("PILLOW", "")])),
            "preferences.code"
        );
        assert_eq!(
            rule_of(preference_rules(&r, &[p("PILLOW", &"X".repeat(65))])),
            "preferences.code"
        );
    }
}
