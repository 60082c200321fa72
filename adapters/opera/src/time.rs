//! Hotel-local wall-clock times. OHIP writes times as the hotel's local clock without an offset
//! (`"2021-03-23 10:00:00.0"`); the common model wants RFC 3339 instants. The hotel's `timeZone`
//! setting (an IANA name such as `Europe/Amsterdam`, or a fixed offset such as `+01:00` or
//! `UTC`) converts between them, daylight saving included.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone};
use jack_pms_sdk::PmsError;

/// The hotel's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotelZone {
    /// An IANA zone.
    Named(chrono_tz::Tz),
    /// A fixed offset from UTC.
    Fixed(FixedOffset),
}

impl HotelZone {
    /// Parses the `timeZone` setting; a value that is neither an IANA name nor an offset answers
    /// `invalid-request` naming it.
    pub fn parse(text: &str) -> Result<HotelZone, PmsError> {
        let text = text.trim();
        if matches!(text, "UTC" | "Z" | "GMT") {
            return Ok(HotelZone::Fixed(
                FixedOffset::east_opt(0).ok_or_else(|| bad(text))?,
            ));
        }
        if let Some(offset) = parse_offset(text) {
            return Ok(HotelZone::Fixed(offset));
        }
        text.parse::<chrono_tz::Tz>()
            .map(HotelZone::Named)
            .map_err(|_| bad(text))
    }

    /// The instant of hotel-local `local`, as RFC 3339 with the hotel's offset. A local time that
    /// falls in a daylight-saving gap is moved past the gap; an ambiguous one takes the earlier.
    pub fn to_rfc3339(self, local: NaiveDateTime) -> Option<String> {
        let instant: DateTime<FixedOffset> = match self {
            HotelZone::Fixed(offset) => resolve(offset.from_local_datetime(&local))?,
            HotelZone::Named(tz) => resolve(tz.from_local_datetime(&local))
                .or_else(|| resolve(tz.from_local_datetime(&(local + chrono::Duration::hours(1)))))?
                .fixed_offset(),
        };
        Some(instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }

    /// The hotel's date now.
    pub fn today(self) -> Result<jack_pms_sdk::dates::Date, PmsError> {
        use chrono::Datelike;
        let local = self.to_local(&jack_pms_sdk::tz::now_utc())?;
        jack_pms_sdk::dates::Date::new(
            local.year(),
            u8::try_from(local.month()).unwrap_or(1),
            u8::try_from(local.day()).unwrap_or(1),
        )
        .ok_or_else(|| PmsError::Internal("the clock reads an impossible date".into()))
    }

    /// The hotel-local wall clock of an RFC 3339 instant.
    pub fn to_local(self, instant: &str) -> Result<NaiveDateTime, PmsError> {
        let parsed = DateTime::parse_from_rfc3339(instant).map_err(|_| {
            PmsError::InvalidRequest(format!("`{instant}` is not an RFC 3339 date-time"))
        })?;
        Ok(match self {
            HotelZone::Fixed(offset) => parsed.with_timezone(&offset).naive_local(),
            HotelZone::Named(tz) => parsed.with_timezone(&tz).naive_local(),
        })
    }
}

fn resolve<T: TimeZone>(result: LocalResult<DateTime<T>>) -> Option<DateTime<FixedOffset>> {
    match result {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
            let offset = t.offset().fix();
            Some(t.with_timezone(&offset))
        }
        LocalResult::None => None,
    }
}

fn bad(text: &str) -> PmsError {
    PmsError::InvalidRequest(format!(
        "the hotel setting `timeZone` is `{text}`, which is neither an IANA time zone nor an offset like +01:00"
    ))
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// Parses an OHIP wall-clock time: `2021-03-23 10:00:00.0`, `2021-03-23T10:00:00`, with or
/// without fractions. A bare date (OHIP's examples have those too) is not a time: `None`.
pub fn parse_ohip_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if text.len() <= 10 {
        return None;
    }
    let normalised = text.replacen('T', " ", 1);
    let without_fraction = normalised.split('.').next().unwrap_or(&normalised);
    NaiveDateTime::parse_from_str(without_fraction, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(without_fraction, "%Y-%m-%d %H:%M"))
        .ok()
}

/// An OHIP wall-clock time as Oracle's examples write it: `2021-03-23 10:00:00.0`.
pub fn format_ohip_local(local: NaiveDateTime) -> String {
    local.format("%Y-%m-%d %H:%M:%S.0").to_string()
}

/// The date part of a wall-clock time as `YYYY-MM-DD`.
pub fn date_of(local: NaiveDateTime) -> NaiveDate {
    local.date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_zones_follow_daylight_saving() {
        let zone = HotelZone::parse("Europe/Amsterdam").unwrap();
        let winter = parse_ohip_local("2024-01-15 11:00:00.0").unwrap();
        let summer = parse_ohip_local("2024-07-15T11:00:00").unwrap();
        assert_eq!(
            zone.to_rfc3339(winter).unwrap(),
            "2024-01-15T11:00:00+01:00"
        );
        assert_eq!(
            zone.to_rfc3339(summer).unwrap(),
            "2024-07-15T11:00:00+02:00"
        );
        let local = zone.to_local("2024-07-15T09:00:00Z").unwrap();
        assert_eq!(format_ohip_local(local), "2024-07-15 11:00:00.0");
    }

    #[test]
    fn offsets_and_refusals() {
        let zone = HotelZone::parse("-05:00").unwrap();
        let t = parse_ohip_local("2024-01-15 11:00").unwrap();
        assert_eq!(zone.to_rfc3339(t).unwrap(), "2024-01-15T11:00:00-05:00");
        assert_eq!(
            HotelZone::parse("UTC").unwrap().to_rfc3339(t).unwrap(),
            "2024-01-15T11:00:00Z"
        );
        assert!(HotelZone::parse("Mars/Olympus").is_err());
        assert!(parse_ohip_local("2020-01-14").is_none());
        assert!(zone.to_local("noon").is_err());
    }
}
