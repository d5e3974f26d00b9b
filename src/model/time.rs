//! Moments and dates: when an account joined the organization, the
//! `--joined-since` cutoff, and `reviewed:` dates. The calendar is jiff's.

use serde::{Deserialize, Serialize};

/// A moment, in whole seconds since the Unix epoch (UTC): when an account
/// joined the organization, or the `--joined-since` cutoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self(jiff::Timestamp::now().as_second())
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

    /// A time as a forge's API gives it (RFC 3339 with its zone).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        parse_rfc3339(text).map(Self)
    }

    /// The time as RFC 3339, in UTC.
    pub fn rfc3339(self) -> String {
        jiff::Timestamp::from_second(self.0)
            .map_or_else(|_| format!("@{}", self.0), |time| time.to_string())
    }
}

/// A length of time, in whole seconds: `--max-plan-age`, and a saved
/// plan's age. Written as `--joined-since` takes durations (`90m`, `2h`,
/// `7d`; also `s` and `w`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub i64);

impl Duration {
    pub const fn hours(hours: i64) -> Self {
        Self(hours * 3_600)
    }

    /// `90m`, `2h`, `7d`, `1w`, `30s`.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_duration(text.trim())
            .map(Self)
            .ok_or_else(|| format!("`{text}` is not a duration like 90m, 2h or 7d"))
    }

    /// From `earlier` to `later` (negative when `later` is earlier).
    pub fn between(earlier: Timestamp, later: Timestamp) -> Self {
        Self(later.0.saturating_sub(earlier.0))
    }
}

/// The two largest units that are not zero: `45s`, `90m` as `1h 30m`,
/// `24h`, `3d 2h`; under two days in hours, so the default of `24h`
/// reads as it is written.
impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let (big, big_unit, small, small_unit) = match seconds {
            0..60 => return write!(f, "{sign}{seconds}s"),
            60..3_600 => (seconds / 60, "m", seconds % 60, "s"),
            3_600..172_800 => (seconds / 3_600, "h", seconds % 3_600 / 60, "m"),
            _ => (seconds / 86_400, "d", seconds % 86_400 / 3_600, "h"),
        };
        match small {
            0 => write!(f, "{sign}{big}{big_unit}"),
            _ => write!(f, "{sign}{big}{big_unit} {small}{small_unit}"),
        }
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

/// An RFC 3339 time: a date, a time and an offset (`Z` or `±HH:MM`), in
/// seconds since the epoch. A time without an offset is not a moment.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let zoned = text.len() > 19 && text[19..].contains(['Z', 'z', '+', '-']);
    if !zoned || text.len() < 10 || !is_date_shape(&text[..10]) {
        return None;
    }
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|time| time.as_second())
}

/// A calendar date, for `reviewed:` dates.
pub type Date = jiff::civil::Date;

/// Whether `text` is `YYYY-MM-DD`, digits where digits go.
fn is_date_shape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

/// Parses `YYYY-MM-DD`, refusing days that do not exist (2025-02-29).
pub fn parse_date(text: &str) -> Option<Date> {
    is_date_shape(text)
        .then(|| text.parse::<Date>().ok())
        .flatten()
}

/// Today, in UTC.
pub fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// The days from `earlier` to `later`.
pub fn days_between(earlier: Date, later: Date) -> i64 {
    i64::from(later.since(earlier).map_or(0, |span| span.get_days()))
}

/// The date `days` after 1970-01-01.
pub fn date_from_days(days: i64) -> Date {
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(jiff::civil::date(1970, 1, 1))
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
    fn durations_read_as_joined_since_takes_them_and_print_short() {
        assert_eq!(Duration::parse("90m"), Ok(Duration(5_400)));
        assert_eq!(Duration::parse("24h"), Ok(Duration::hours(24)));
        assert_eq!(Duration::parse("7d"), Ok(Duration(604_800)));
        for bad in ["", "24", "h", "-1h", "2026-11-29T08:00:00Z", "1y"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
        let shown = |seconds| Duration(seconds).to_string();
        assert_eq!(shown(45), "45s");
        assert_eq!(shown(5_400), "1h 30m");
        assert_eq!(shown(86_400), "24h");
        assert_eq!(shown(93_780), "26h 3m");
        assert_eq!(shown(3 * 86_400 + 7_200 + 59), "3d 2h");
        assert_eq!(shown(-600), "-10m");
        assert_eq!(
            Duration::between(Timestamp(100), Timestamp(40)),
            Duration(-60)
        );
    }

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        for text in ["1970-01-01", "2000-02-29", "2026-11-27", "1999-12-31"] {
            let date = parse_date(text).unwrap();
            assert_eq!(date.to_string(), text);
        }
        assert_eq!(
            days_between(
                parse_date("1970-01-01").unwrap(),
                parse_date("1970-01-02").unwrap()
            ),
            1
        );
        assert_eq!(date_from_days(365), parse_date("1971-01-01").unwrap());
        assert!(parse_date("2025-02-29").is_none());
        assert!(parse_date("2025-13-01").is_none());
        assert!(parse_date("2025-1-01").is_none());
        assert!(parse_date("2025-01-01T00:00").is_none());
    }
}
