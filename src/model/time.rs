//! Moments and dates, without a date crate: when an account joined the
//! organization, the `--joined-since` cutoff, and `reviewed:` dates.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A moment, in whole seconds since the Unix epoch (UTC): when an account
/// joined the organization, or the `--joined-since` cutoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() as i64);
        Self(seconds)
    }

    /// `--joined-since`: an RFC 3339 time (`2026-11-29T08:00:00Z`,
    /// `2026-11-29T09:00:00+01:00`) or a duration back from `now` (`90m`,
    /// `2h`, `7d`; also `s` and `w`).
    pub fn parse_since(text: &str, now: Timestamp) -> Result<Self, String> {
        let text = text.trim();
        if let Some(seconds) = parse_duration(text) {
            return Ok(Self(now.0 - seconds));
        }
        parse_rfc3339(text).map(Self).ok_or_else(|| {
            format!("`{text}` is neither a time like 2026-11-29T08:00:00Z nor a duration like 90m, 2h or 7d")
        })
    }

    /// The time as RFC 3339, in UTC.
    pub fn rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400);
        let seconds = self.0.rem_euclid(86_400);
        format!(
            "{}T{:02}:{:02}:{:02}Z",
            Date::from_days(days),
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

fn parse_duration(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    let number: i64 = text[..text.len() - 1].parse().ok().filter(|n| *n >= 0)?;
    number.checked_mul(seconds)
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let date = Date::parse(text.get(..10)?)?;
    let rest = text.get(10..)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = rest.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (hour, minute, second) = (number(0..2)?, number(3..5)?, number(6..8)?);
    let separators = (rest.get(2..3)?, rest.get(5..6)?);
    if separators != (":", ":") || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut zone = rest.get(8..)?;
    if let Some(fraction) = zone.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zone = &fraction[digits..];
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let part =
                |range: std::ops::Range<usize>| -> Option<i64> { zone.get(range)?.parse().ok() };
            if zone.len() != 6 || zone.get(3..4)? != ":" {
                return None;
            }
            sign * (part(1..3)? * 3_600 + part(4..6)? * 60)
        }
    };
    Some(date.days_since_epoch() * 86_400 + hour * 3_600 + minute * 60 + second - offset)
}

/// A calendar date (UTC), for `reviewed:` dates. Days are counted with the
/// proleptic Gregorian calendar, so no date crate is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`, refusing days that do not exist (2025-02-29).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return None;
        }
        let date = Self {
            year: text[0..4].parse().ok()?,
            month: text[5..7].parse().ok()?,
            day: text[8..10].parse().ok()?,
        };
        (Self::from_days(date.days_since_epoch()) == date).then_some(date)
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    pub fn days_since_epoch(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    pub fn from_days(days: i64) -> Self {
        let days = days + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        } as u32;
        let year = (year_of_era + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    pub fn today() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self::from_days((seconds / 86_400) as i64)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_since_reads_times_and_durations() {
        let now = Timestamp(1_800_000_000);
        assert_eq!(
            Timestamp::parse_since("90m", now),
            Ok(Timestamp(now.0 - 5_400))
        );
        assert_eq!(
            Timestamp::parse_since("2h", now),
            Ok(Timestamp(now.0 - 7_200))
        );
        assert_eq!(
            Timestamp::parse_since("7d", now),
            Ok(Timestamp(now.0 - 604_800))
        );
        let utc = Timestamp::parse_since("2026-11-29T08:00:00Z", now).unwrap();
        assert_eq!(utc.rfc3339(), "2026-11-29T08:00:00Z");
        assert_eq!(
            Timestamp::parse_since("2026-11-29T09:00:00.250+01:00", now),
            Ok(utc)
        );
        for bad in [
            "",
            "2",
            "h",
            "-3h",
            "2026-11-29",
            "2026-11-29T25:00:00Z",
            "2026-11-29T08:00:00",
        ] {
            assert!(Timestamp::parse_since(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        for text in ["1970-01-01", "2000-02-29", "2026-11-27", "1999-12-31"] {
            let date = Date::parse(text).unwrap();
            assert_eq!(date.to_string(), text);
            assert_eq!(Date::from_days(date.days_since_epoch()), date);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().days_since_epoch(), 1);
        assert!(Date::parse("2025-02-29").is_none());
        assert!(Date::parse("2025-13-01").is_none());
        assert!(Date::parse("2025-1-01").is_none());
    }
}
