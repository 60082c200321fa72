//! Money as the common model wants it: a decimal string and an ISO 4217 code, never a float.
//!
//! Vendors send amounts as JSON numbers (OHIP, Mews) or as strings (Cloudbeds). [`Amount`] holds
//! an exact count of minor units (cents) so that sums and differences stay exact, and prints the
//! decimal string the WIT `money` record carries.
//!
//! ```
//! use jack_pms_sdk::money::Amount;
//!
//! let total = Amount::parse("12.50").unwrap() + Amount::from_f64(0.1).unwrap();
//! assert_eq!(total.to_string(), "12.60");
//! assert_eq!(Amount::parse("-3").unwrap().to_string(), "-3.00");
//! ```

use crate::{Money, PmsError};
use core::fmt;
use core::ops::{Add, Neg, Sub};

/// Minor units kept per major unit: 4 decimals, enough for every ISO 4217 currency (the widest
/// use 3) and for vendors that send unit prices with more precision.
const SCALE: i128 = 10_000;
/// Decimals printed at least (most currencies have 2).
const MIN_DECIMALS: usize = 2;

/// An exact decimal amount (four decimals kept).
///
/// Parse what the vendor sends, add and subtract exactly, print the decimal string the common
/// model carries.
///
/// ```
/// use jack_pms_sdk::money::Amount;
///
/// let lines = [serde_json::json!(19.99), serde_json::json!("5.01")];
/// let total: Amount = lines.iter().map(Amount::from_json).sum::<Result<Amount, _>>()?;
/// assert_eq!(total.with_currency("USD").amount, "25.00");
/// # Ok::<(), jack_pms_sdk::PmsError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i128);

impl Amount {
    /// Zero.
    ///
    /// ```
    /// # use jack_pms_sdk::money::Amount;
    /// // A folio with no open items has a balance of zero, printed as "0.00".
    /// let open_items: Vec<Amount> = vec![];
    /// let balance = open_items.into_iter().fold(Amount::ZERO, |sum, item| sum + item);
    /// assert_eq!(balance.to_string(), "0.00");
    /// ```
    pub const ZERO: Amount = Amount(0);

    /// Parses a decimal string (`"12.5"`, `"-3"`, `"0.0001"`); more than four decimals, a
    /// thousands separator or anything else answers `invalid-request`.
    ///
    /// ```
    /// # use jack_pms_sdk::money::Amount;
    /// assert_eq!(Amount::parse("1234.5").unwrap().to_string(), "1234.50");
    /// assert!(Amount::parse("1,234.50").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Amount, PmsError> {
        let bad = || PmsError::InvalidRequest(format!("`{text}` is not a decimal amount"));
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || fraction.len() > 4
            || whole.len() > 30
        {
            return Err(bad());
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let mut minor: i128 = 0;
        for (i, b) in fraction.bytes().enumerate() {
            minor += i128::from(b - b'0') * 10_i128.pow(3 - i as u32);
        }
        let value = whole * SCALE + minor;
        Ok(Amount(if negative { -value } else { value }))
    }

    /// Converts a vendor's JSON number, rounding half away from zero to four decimals. Not a
    /// finite number answers `internal` (the PMS sent garbage).
    ///
    /// ```
    /// # use jack_pms_sdk::money::Amount;
    /// assert_eq!(Amount::from_f64(19.99).unwrap().to_string(), "19.99");
    /// assert!(Amount::from_f64(f64::NAN).is_err());
    /// ```
    pub fn from_f64(value: f64) -> Result<Amount, PmsError> {
        if !value.is_finite() || value.abs() > 1e24 {
            return Err(PmsError::Internal(format!(
                "the PMS sent `{value}` as an amount"
            )));
        }
        Ok(Amount((value * SCALE as f64).round() as i128))
    }

    /// Converts a JSON value that is a number or a decimal string (vendors do both).
    ///
    /// ```
    /// # use jack_pms_sdk::money::Amount;
    /// let from_number = Amount::from_json(&serde_json::json!(7.5)).unwrap();
    /// let from_text = Amount::from_json(&serde_json::json!("7.50")).unwrap();
    /// assert_eq!(from_number, from_text);
    /// ```
    pub fn from_json(value: &serde_json::Value) -> Result<Amount, PmsError> {
        match value {
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Ok(Amount(i128::from(i) * SCALE)),
                (None, Some(f)) => Amount::from_f64(f),
                _ => Err(PmsError::Internal(format!(
                    "the PMS sent `{n}` as an amount"
                ))),
            },
            serde_json::Value::String(s) => Amount::parse(s)
                .map_err(|_| PmsError::Internal(format!("the PMS sent `{s}` as an amount"))),
            other => Err(PmsError::Internal(format!(
                "the PMS sent `{other}` where an amount belongs"
            ))),
        }
    }

    /// The amount as a float, for vendors whose write APIs want a JSON number.
    ///
    /// ```
    /// # use jack_pms_sdk::money::Amount;
    /// let body = serde_json::json!({ "amount": Amount::parse("12.50")?.to_f64() });
    /// assert_eq!(body.to_string(), r#"{"amount":12.5}"#);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// Whether the amount is below zero.
    ///
    /// ```
    /// # use jack_pms_sdk::money::Amount;
    /// // A vendor with separate endpoints for charges and refunds.
    /// let amount = Amount::parse("-4.50")?;
    /// let endpoint = if amount.is_negative() { "refunds" } else { "charges" };
    /// assert_eq!((endpoint, (-amount).to_string()), ("refunds", "4.50".to_string()));
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The WIT `money` record with `currency`.
    ///
    /// ```
    /// # use jack_pms_sdk::money::Amount;
    /// let money = Amount::parse("5").unwrap().with_currency("EUR");
    /// assert_eq!((money.amount.as_str(), money.currency.as_str()), ("5.00", "EUR"));
    /// ```
    pub fn with_currency(self, currency: impl Into<String>) -> Money {
        Money {
            amount: self.to_string(),
            currency: currency.into(),
        }
    }
}

impl fmt::Display for Amount {
    /// At least two decimals, up to four when the amount has them; `.` as separator.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u128;
        let fraction = format!("{:04}", abs % SCALE as u128);
        let mut fraction = fraction.trim_end_matches('0').to_string();
        while fraction.len() < MIN_DECIMALS {
            fraction.push('0');
        }
        write!(f, "{sign}{whole}.{fraction}")
    }
}

impl Add for Amount {
    type Output = Amount;
    fn add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }
}

impl Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl core::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (input, printed) in [
            ("0", "0.00"),
            ("12.5", "12.50"),
            ("-0.05", "-0.05"),
            ("3.1415", "3.1415"),
            (".5", "0.50"),
            ("+7", "7.00"),
        ] {
            assert_eq!(
                Amount::parse(input).unwrap().to_string(),
                printed,
                "{input}"
            );
        }
        for bad in ["", "-", "1.23456", "1,000", "abc", "1e3", "1.2.3"] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn floats_round_to_minor_units() {
        assert_eq!(Amount::from_f64(0.1 + 0.2).unwrap().to_string(), "0.30");
        assert_eq!(Amount::from_f64(-12.345).unwrap().to_string(), "-12.345");
        assert!(Amount::from_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn sums_are_exact() {
        let total: Amount = ["0.10", "0.20", "-0.05"]
            .iter()
            .map(|s| Amount::parse(s).unwrap())
            .sum();
        assert_eq!(total.to_string(), "0.25");
    }
}
