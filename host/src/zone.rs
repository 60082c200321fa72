//! A hotel's time zone: what "today" means at the hotel.
//!
//! Jack speaks hotel-local dates (`2026-12-02`): the arrivals of "today" are the guests arriving
//! on the hotel's calendar day, which for a hotel in Tokyo begins nine hours before UTC's and for
//! one in Los Angeles eight hours after. Every default date the host computes (the API's
//! `date` when a caller leaves it out, the sync streams' dates and their `lookAheadDays`) comes
//! from here, never from the host machine's clock zone or UTC.
//!
//! The IANA database is bundled into the binary (jiff's `tzdb-bundle-always`), so a container
//! without `/usr/share/zoneinfo` behaves exactly like a workstation, and a zone's rules are the
//! ones this build shipped with.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The time zone of one hotel, by its IANA name (`Asia/Tokyo`, `America/Los_Angeles`, `UTC`).
#[derive(Clone, Debug)]
pub struct HotelZone {
    name: String,
    tz: TimeZone,
}

impl PartialEq for HotelZone {
    fn eq(&self, other: &HotelZone) -> bool {
        self.name == other.name
    }
}

impl Eq for HotelZone {}

impl HotelZone {
    /// Looks `name` up in the bundled IANA database. Only names are accepted (not POSIX `TZ`
    /// strings or fixed offsets such as `+09:00`): a hotel's zone has daylight-saving rules that
    /// an offset cannot carry.
    pub fn parse(name: &str) -> Result<HotelZone, String> {
        let not_a_zone = || {
            format!(
                "`{}` is not an IANA time-zone name (like Europe/Prague or Asia/Tokyo)",
                crate::untrusted::escape(name, 80)
            )
        };
        let trimmed = name.trim();
        if trimmed.is_empty() || trimmed.len() > 64 || trimmed.starts_with(['+', '-']) {
            return Err(not_a_zone());
        }
        let tz = TimeZone::get(trimmed).map_err(|_| not_a_zone())?;
        Ok(HotelZone {
            name: trimmed.to_owned(),
            tz,
        })
    }

    /// UTC, for a hotel whose zone nobody configured.
    pub fn utc() -> HotelZone {
        HotelZone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The hotel's calendar date at instant `now`.
    pub fn date_at(&self, now: Timestamp) -> Date {
        self.tz.to_datetime(now).date()
    }

    /// The hotel's calendar date now.
    pub fn today(&self) -> Date {
        self.date_at(Timestamp::now())
    }

    /// `days` consecutive hotel-local dates from the hotel's date at `now` (`days` = 0 gives
    /// none), as `YYYY-MM-DD`.
    pub fn dates_from(&self, now: Timestamp, days: u32) -> Vec<String> {
        let first = self.date_at(now);
        (0..i64::from(days))
            .map_while(|d| first.checked_add(d.days()).ok())
            .map(|d| d.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn today_is_the_hotels_calendar_day() {
        let tokyo = HotelZone::parse("Asia/Tokyo").unwrap();
        let la = HotelZone::parse("America/Los_Angeles").unwrap();
        // 2026-12-01 20:00 UTC is already Dec 2 in Tokyo (05:00) and still Dec 1 in LA (12:00).
        let now = at("2026-12-01T20:00:00Z");
        assert_eq!(tokyo.date_at(now).to_string(), "2026-12-02");
        assert_eq!(la.date_at(now).to_string(), "2026-12-01");
        // 2026-12-02 01:00 UTC: Dec 2 in Tokyo, Dec 1 (17:00) in LA.
        let now = at("2026-12-02T01:00:00Z");
        assert_eq!(la.date_at(now).to_string(), "2026-12-01");
        assert_eq!(
            tokyo.dates_from(now, 3),
            ["2026-12-02", "2026-12-03", "2026-12-04"]
        );
        assert!(tokyo.dates_from(now, 0).is_empty());
    }

    #[test]
    fn a_day_across_a_clock_change_is_one_date() {
        // New York springs forward at 02:00 local on 2026-03-08: 06:59 UTC is 01:59 EST, 07:00
        // UTC is 03:00 EDT, both on March 8.
        let ny = HotelZone::parse("America/New_York").unwrap();
        assert_eq!(
            ny.date_at(at("2026-03-08T06:59:00Z")).to_string(),
            "2026-03-08"
        );
        assert_eq!(
            ny.date_at(at("2026-03-09T03:59:00Z")).to_string(),
            "2026-03-08"
        );
        assert_eq!(
            ny.date_at(at("2026-03-09T04:00:00Z")).to_string(),
            "2026-03-09"
        );
    }

    #[test]
    fn names_not_offsets() {
        for bad in [
            "",
            "Mars/Olympus_Mons",
            "+09:00",
            "-05",
            "Europe/Prague\u{1b}[31m",
        ] {
            let e = HotelZone::parse(bad).unwrap_err();
            assert!(e.contains("IANA"), "{e}");
            assert!(!e.contains('\u{1b}'), "escaped: {e}");
        }
        assert_eq!(HotelZone::parse(" UTC ").unwrap().name(), "UTC");
    }
}
