//! Hotel-local dates and UTC instants, with the IANA time-zone database bundled into the
//! component (the sandbox has no `/usr/share/zoneinfo`).
//!
//! Jack speaks hotel-local dates (`2024-03-31`); vendors such as Mews filter and answer in UTC
//! instants. A local day is not always 24 hours long: on the day clocks spring forward it has 23,
//! on the day they fall back 25. [`TimeZone::day_utc`] gives the exact half-open UTC interval of
//! a local day, and [`TimeZone::local_date`] the local date of a UTC instant.
//!
//! ```
//! use jack_pms_sdk::dates::Date;
//! use jack_pms_sdk::tz::TimeZone;
//!
//! let prague = TimeZone::get("Europe/Prague").unwrap();
//! // Clocks went from 02:00 to 03:00 on 2024-03-31: that day lasted 23 hours.
//! let day = prague.day_utc(Date::parse("2024-03-31").unwrap()).unwrap();
//! assert_eq!(day.start_utc, "2024-03-30T23:00:00Z");
//! assert_eq!(day.end_utc, "2024-03-31T22:00:00Z");
//! assert_eq!(prague.local_date("2024-03-31T21:30:00Z").unwrap().to_string(), "2024-03-31");
//! ```

use crate::PmsError;
use crate::dates::Date;

/// An IANA time zone (`Europe/Prague`, `America/New_York`, `UTC`).
#[derive(Clone, Debug)]
pub struct TimeZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

/// A half-open interval of UTC instants `[start_utc, end_utc)`, printed as RFC 3339 with `Z`
/// (`2024-03-30T23:00:00Z`), the form vendor APIs such as Mews' `StartUtc`/`EndUtc` take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtcInterval {
    /// First instant of the interval.
    pub start_utc: String,
    /// First instant after the interval.
    pub end_utc: String,
}

impl TimeZone {
    /// Looks up an IANA time-zone name in the bundled database; an unknown name answers
    /// `invalid-request` naming it (it comes from the hotel's config).
    ///
    /// ```
    /// # use jack_pms_sdk::tz::TimeZone;
    /// assert!(TimeZone::get("America/New_York").is_ok());
    /// assert!(TimeZone::get("Mars/Olympus_Mons").is_err());
    /// ```
    pub fn get(name: &str) -> Result<TimeZone, PmsError> {
        let zone = jiff::tz::TimeZone::get(name.trim()).map_err(|_| {
            PmsError::InvalidRequest(format!(
                "`{name}` is not an IANA time-zone name (like Europe/Prague)"
            ))
        })?;
        Ok(TimeZone {
            name: name.trim().to_string(),
            zone,
        })
    }

    /// The name it was looked up by.
    ///
    /// ```
    /// # use jack_pms_sdk::tz::TimeZone;
    /// assert_eq!(TimeZone::get("Europe/Prague").unwrap().name(), "Europe/Prague");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The UTC instant at which local day `date` begins: local midnight, or the first instant
    /// after it when a clock change skips midnight (some zones spring forward at 00:00).
    ///
    /// ```
    /// # use jack_pms_sdk::{dates::Date, tz::TimeZone};
    /// let new_york = TimeZone::get("America/New_York").unwrap();
    /// let start = new_york.start_of_day_utc(Date::parse("2024-07-04").unwrap()).unwrap();
    /// assert_eq!(start, "2024-07-04T04:00:00Z");
    /// ```
    pub fn start_of_day_utc(&self, date: Date) -> Result<String, PmsError> {
        Ok(self.start_of_day(date)?.to_string())
    }

    /// The UTC interval covering local day `date`: from its first instant up to (excluding) the
    /// first instant of the next day. 23 or 25 hours long on days the clocks change.
    ///
    /// ```
    /// # use jack_pms_sdk::{dates::Date, tz::TimeZone};
    /// let prague = TimeZone::get("Europe/Prague").unwrap();
    /// // Clocks went back from 03:00 to 02:00 on 2024-10-27: that day lasted 25 hours.
    /// let day = prague.day_utc(Date::parse("2024-10-27").unwrap()).unwrap();
    /// assert_eq!((day.start_utc.as_str(), day.end_utc.as_str()),
    ///            ("2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z"));
    /// ```
    pub fn day_utc(&self, date: Date) -> Result<UtcInterval, PmsError> {
        self.days_utc(date, 1)
    }

    /// The UTC interval covering `days` local days from `date` on (`days` ≥ 1).
    ///
    /// ```
    /// # use jack_pms_sdk::{dates::Date, tz::TimeZone};
    /// let utc = TimeZone::get("UTC").unwrap();
    /// let week = utc.days_utc(Date::parse("2024-01-01").unwrap(), 7).unwrap();
    /// assert_eq!(week.end_utc, "2024-01-08T00:00:00Z");
    /// ```
    pub fn days_utc(&self, date: Date, days: u32) -> Result<UtcInterval, PmsError> {
        Ok(UtcInterval {
            start_utc: self.start_of_day(date)?.to_string(),
            end_utc: self
                .start_of_day(date.add_days(i64::from(days.max(1))))?
                .to_string(),
        })
    }

    /// The local date of a UTC (or offset) RFC 3339 instant, as the hotel's calendar shows it.
    /// A malformed instant answers `internal` naming it (vendors send these).
    ///
    /// ```
    /// # use jack_pms_sdk::tz::TimeZone;
    /// let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
    /// assert_eq!(tokyo.local_date("2024-01-15T16:30:00Z").unwrap().to_string(), "2024-01-16");
    /// assert!(tokyo.local_date("yesterday").is_err());
    /// ```
    pub fn local_date(&self, instant: &str) -> Result<Date, PmsError> {
        let date = parse_instant(instant)?.to_zoned(self.zone.clone()).date();
        Date::new(date.year().into(), date.month() as u8, date.day() as u8).ok_or_else(|| {
            PmsError::Internal(format!("`{instant}` is outside the supported date range"))
        })
    }

    fn start_of_day(&self, date: Date) -> Result<jiff::Timestamp, PmsError> {
        let out_of_range = || PmsError::InvalidRequest(format!("{date} is out of range"));
        let year = i16::try_from(date.year()).map_err(|_| out_of_range())?;
        let civil = jiff::civil::Date::new(year, date.month() as i8, date.day() as i8)
            .map_err(|_| out_of_range())?;
        // `to_zoned` resolves a skipped midnight to the first instant after the gap.
        let zoned = civil
            .to_zoned(self.zone.clone())
            .map_err(|_| out_of_range())?;
        Ok(zoned.timestamp())
    }
}

/// Normalizes an RFC 3339 instant with any offset to UTC with `Z` (what Mews' `…Utc` fields
/// take); a malformed one answers `invalid-request` naming it.
///
/// ```
/// # use jack_pms_sdk::tz::to_utc;
/// assert_eq!(to_utc("2024-03-31T11:00:00+02:00").unwrap(), "2024-03-31T09:00:00Z");
/// assert_eq!(to_utc("2024-03-31T09:00:00Z").unwrap(), "2024-03-31T09:00:00Z");
/// assert!(to_utc("noon").is_err());
/// ```
pub fn to_utc(instant: &str) -> Result<String, PmsError> {
    parse_instant(instant)
        .map(|t| t.to_string())
        .map_err(|_| PmsError::InvalidRequest(format!("`{instant}` is not an RFC 3339 instant")))
}

/// The current instant in UTC, RFC 3339 with `Z` (from the host's wall clock).
///
/// ```
/// # use jack_pms_sdk::tz::now_utc;
/// assert!(now_utc().ends_with('Z'));
/// ```
pub fn now_utc() -> String {
    jiff::Timestamp::now().to_string()
}

/// The instant `seconds` after RFC 3339 `instant`, in UTC with `Z`.
///
/// ```
/// # use jack_pms_sdk::tz::add_seconds;
/// assert_eq!(add_seconds("2024-01-01T23:59:30Z", 60).unwrap(), "2024-01-02T00:00:30Z");
/// ```
pub fn add_seconds(instant: &str, seconds: i64) -> Result<String, PmsError> {
    let t = parse_instant(instant)?;
    t.checked_add(jiff::SignedDuration::from_secs(seconds))
        .map(|t| t.to_string())
        .map_err(|_| PmsError::InvalidRequest(format!("`{instant}` + {seconds}s is out of range")))
}

fn parse_instant(instant: &str) -> Result<jiff::Timestamp, PmsError> {
    instant
        .trim()
        .parse::<jiff::Timestamp>()
        .map_err(|_| PmsError::Internal(format!("`{instant}` is not an RFC 3339 instant")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn an_ordinary_day_is_24_hours_from_local_midnight() {
        let prague = TimeZone::get("Europe/Prague").unwrap();
        let day = prague.day_utc(d("2024-01-15")).unwrap();
        assert_eq!(day.start_utc, "2024-01-14T23:00:00Z");
        assert_eq!(day.end_utc, "2024-01-15T23:00:00Z");
        let summer = prague.day_utc(d("2024-07-15")).unwrap();
        assert_eq!(summer.start_utc, "2024-07-14T22:00:00Z");
    }

    #[test]
    fn dst_changes_give_23_and_25_hour_days() {
        let prague = TimeZone::get("Europe/Prague").unwrap();
        let spring = prague.day_utc(d("2024-03-31")).unwrap();
        assert_eq!(
            (spring.start_utc.as_str(), spring.end_utc.as_str()),
            ("2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z")
        );
        let autumn = prague.day_utc(d("2024-10-27")).unwrap();
        assert_eq!(
            (autumn.start_utc.as_str(), autumn.end_utc.as_str()),
            ("2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z")
        );
        let new_york = TimeZone::get("America/New_York").unwrap();
        let spring = new_york.day_utc(d("2024-03-10")).unwrap();
        assert_eq!(
            (spring.start_utc.as_str(), spring.end_utc.as_str()),
            ("2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z")
        );
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_after_the_gap() {
        // Santiago springs forward at 24:00 (2024-09-08 00:00 → 01:00).
        let santiago = TimeZone::get("America/Santiago").unwrap();
        let start = santiago.start_of_day_utc(d("2024-09-08")).unwrap();
        assert_eq!(start, "2024-09-08T04:00:00Z");
        assert_eq!(santiago.local_date(&start).unwrap(), d("2024-09-08"));
    }

    #[test]
    fn local_dates_around_the_change() {
        let prague = TimeZone::get("Europe/Prague").unwrap();
        assert_eq!(
            prague.local_date("2024-03-31T21:59:59Z").unwrap(),
            d("2024-03-31")
        );
        assert_eq!(
            prague.local_date("2024-03-31T22:00:00Z").unwrap(),
            d("2024-04-01")
        );
        assert_eq!(
            prague.local_date("2024-03-30T23:00:00Z").unwrap(),
            d("2024-03-31")
        );
        assert_eq!(
            prague.local_date("2024-03-30T22:59:59Z").unwrap(),
            d("2024-03-30")
        );
        assert!(matches!(
            prague.local_date("2024-03-30"),
            Err(PmsError::Internal(_))
        ));
    }

    #[test]
    fn unknown_zones_and_bad_instants_are_errors_not_panics() {
        assert!(matches!(
            TimeZone::get("Europe/Atlantis"),
            Err(PmsError::InvalidRequest(m)) if m.contains("Atlantis")
        ));
        assert!(to_utc("2024-13-01T00:00:00Z").is_err());
        assert_eq!(
            add_seconds("2024-03-31T01:59:59Z", 1).unwrap(),
            "2024-03-31T02:00:00Z"
        );
    }
}
