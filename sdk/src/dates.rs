//! Calendar dates (`YYYY-MM-DD`) for hotel-local date arithmetic, without a time-zone database.
//!
//! Jack passes hotel-local dates; vendors want them as strings in the same form, or as day
//! ranges. [`Date`] parses, validates, adds days and prints them. (For instants in the hotel's
//! time zone, see [`crate::tz`].)
//!
//! ```
//! use jack_pms_sdk::dates::Date;
//!
//! // A stay from the arrival date for three nights.
//! let arrival = Date::parse("2024-02-28")?;
//! let departure = arrival.add_days(3);
//! assert_eq!(departure.to_string(), "2024-03-02");
//! assert_eq!(departure.days_since_epoch() - arrival.days_since_epoch(), 3);
//! # Ok::<(), jack_pms_sdk::PmsError>(())
//! ```

use crate::PmsError;
use core::fmt;

/// A proleptic Gregorian calendar date.
///
/// It orders chronologically and prints as `YYYY-MM-DD`.
///
/// ```
/// use jack_pms_sdk::dates::Date;
///
/// let arrival = Date::parse("2024-01-15")?;
/// let departure = Date::parse("2024-01-18")?;
/// assert!(arrival < departure);
/// assert_eq!(format!("{arrival}..{departure}"), "2024-01-15..2024-01-18");
/// # Ok::<(), jack_pms_sdk::PmsError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// Builds a date, checking that it exists.
    ///
    /// ```
    /// use jack_pms_sdk::dates::Date;
    ///
    /// assert_eq!(Date::new(2024, 2, 29).map(|d| d.to_string()).as_deref(), Some("2024-02-29"));
    /// assert_eq!(Date::new(2023, 2, 29), None);
    /// ```
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`, answering `invalid-request` with the offending text otherwise.
    ///
    /// ```
    /// use jack_pms_sdk::{PmsError, dates::Date};
    ///
    /// assert_eq!(Date::parse("2024-01-15").map(|d| d.day()), Ok(15));
    /// assert!(matches!(Date::parse("15/01/2024"), Err(PmsError::InvalidRequest(m)) if m.contains("15/01/2024")));
    /// ```
    pub fn parse(text: &str) -> Result<Date, PmsError> {
        let bad =
            || PmsError::InvalidRequest(format!("`{text}` is not a date of the form YYYY-MM-DD"));
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        let number = |range: core::ops::Range<usize>| -> Result<u32, PmsError> {
            let part = &text[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let year = number(0..4)? as i32;
        let month = number(5..7)? as u8;
        let day = number(8..10)? as u8;
        Date::new(year, month, day).ok_or_else(bad)
    }

    /// The year.
    ///
    /// ```
    /// # use jack_pms_sdk::dates::Date;
    /// assert_eq!(Date::parse("2024-01-15")?.year(), 2024);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    ///
    /// ```
    /// # use jack_pms_sdk::dates::Date;
    /// assert_eq!(Date::parse("2024-01-15")?.month(), 1);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    ///
    /// ```
    /// # use jack_pms_sdk::dates::Date;
    /// assert_eq!(Date::parse("2024-01-15")?.day(), 15);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn day(self) -> u8 {
        self.day
    }

    /// The date `days` days later (or earlier, when negative).
    ///
    /// ```
    /// # use jack_pms_sdk::dates::Date;
    /// let new_year = Date::parse("2024-01-01")?;
    /// assert_eq!(new_year.add_days(-1).to_string(), "2023-12-31");
    /// assert_eq!(new_year.add_days(59).to_string(), "2024-02-29");
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn add_days(self, days: i64) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch() + days)
    }

    /// Days since 1970-01-01 (negative before).
    ///
    /// ```
    /// # use jack_pms_sdk::dates::Date;
    /// // Nights of a stay.
    /// let nights = Date::parse("2024-03-02")?.days_since_epoch() - Date::parse("2024-02-28")?.days_since_epoch();
    /// assert_eq!(nights, 3);
    /// assert_eq!(Date::parse("1969-12-31")?.days_since_epoch(), -1);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    ///
    /// ```
    /// # use jack_pms_sdk::dates::Date;
    /// // A vendor that counts days since the Unix epoch.
    /// assert_eq!(Date::from_days_since_epoch(19_737).to_string(), "2024-01-15");
    /// ```
    pub fn from_days_since_epoch(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Checks that `text` looks like an RFC 3339 instant (`2024-01-15T11:00:00Z` or with an offset),
/// answering `invalid-request` otherwise. Returns the date part.
///
/// ```
/// use jack_pms_sdk::{PmsError, dates::parse_rfc3339_date};
///
/// assert_eq!(parse_rfc3339_date("2024-01-18T11:00:00+01:00")?.to_string(), "2024-01-18");
/// // A time without a zone is ambiguous: refused before it reaches the PMS.
/// assert!(matches!(parse_rfc3339_date("2024-01-18T11:00:00"), Err(PmsError::InvalidRequest(_))));
/// # Ok::<(), PmsError>(())
/// ```
pub fn parse_rfc3339_date(text: &str) -> Result<Date, PmsError> {
    let bad = || PmsError::InvalidRequest(format!("`{text}` is not an RFC 3339 date-time"));
    let (date, rest) = text.split_at_checked(10).ok_or_else(bad)?;
    let date = Date::parse(date).map_err(|_| bad())?;
    let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
    let time = rest.get(..8).ok_or_else(bad)?;
    let tb = time.as_bytes();
    let two = |i: usize| -> Option<u8> {
        let s = time.get(i..i + 2)?;
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    match (two(0), two(3), two(6)) {
        (Some(h), Some(m), Some(s))
            if tb[2] == b':' && tb[5] == b':' && h < 24 && m < 60 && s <= 60 => {}
        _ => return Err(bad()),
    }
    let mut zone = &rest[8..];
    if let Some(frac) = zone.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        zone = &frac[digits..];
    }
    let zone_ok = matches!(zone, "Z" | "z")
        || (zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone.as_bytes()[3] == b':'
            && zone[1..3]
                .bytes()
                .chain(zone[4..6].bytes())
                .all(|b| b.is_ascii_digit()));
    if zone_ok { Ok(date) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d = Date::parse("2024-02-29").unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2024-13-01").is_err());
        assert!(Date::parse("2024-1-01").is_err());
        assert!(Date::parse("20a4-01-01").is_err());
        assert!(Date::parse("").is_err());
    }

    #[test]
    fn adds_days_across_months_years_and_leap_days() {
        let d = Date::parse("2024-02-28").unwrap();
        assert_eq!(d.add_days(1).to_string(), "2024-02-29");
        assert_eq!(d.add_days(2).to_string(), "2024-03-01");
        assert_eq!(
            Date::parse("2023-12-31").unwrap().add_days(1).to_string(),
            "2024-01-01"
        );
        assert_eq!(
            Date::parse("2024-01-01").unwrap().add_days(-1).to_string(),
            "2023-12-31"
        );
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        for n in [-800_000i64, -1, 0, 1, 19_000, 800_000] {
            assert_eq!(Date::from_days_since_epoch(n).days_since_epoch(), n);
        }
    }

    #[test]
    fn checks_rfc3339() {
        assert_eq!(
            parse_rfc3339_date("2024-01-15T11:00:00Z")
                .unwrap()
                .to_string(),
            "2024-01-15"
        );
        assert!(parse_rfc3339_date("2024-01-15T11:00:00.250+01:00").is_ok());
        assert!(parse_rfc3339_date("2024-01-15 11:00:00-05:30").is_ok());
        assert!(parse_rfc3339_date("2024-01-15T25:00:00Z").is_err());
        assert!(parse_rfc3339_date("2024-01-15T11:00:00").is_err());
        assert!(parse_rfc3339_date("2024-01-15").is_err());
        assert!(parse_rfc3339_date("noon").is_err());
    }
}
