//! The settings a run can take from the contacts file and from a flag,
//! each described once: its key, its type (which carries its rule), its
//! documentation and its default. From that description come the file's
//! section (serde and the JSON Schema), the flags that override it (clap),
//! the check of a file's value with its message, and the one place a flag
//! overrides the file and the file a default ([`Safety::resolve`],
//! [`Rates::resolve`]).
//!
//! A new setting is one line in a section below, and the code that uses it.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// A setting's value: how it reads from text (the file's scalar, the
/// flag's word) and what a wrong one is told.
pub trait SettingValue: Sized + Clone {
    /// What the value must be: "a whole number from 0 to 100".
    fn must_be() -> String;
    fn from_text(text: &str) -> Option<Self>;
}

/// clap's reading of a setting's flag.
pub fn parse_flag<T: SettingValue>(text: &str) -> Result<T, String> {
    T::from_text(text.trim()).ok_or_else(|| format!("`{text}` is not {}", T::must_be()))
}

/// A number of contacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Count(pub u32);

impl SettingValue for Count {
    fn must_be() -> String {
        format!("a whole number from 0 to {}", u32::MAX)
    }

    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok().map(Self)
    }
}

impl JsonSchema for Count {
    fn schema_name() -> Cow<'static, str> {
        "Count".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": u32::MAX })
    }
}

/// A share of the managed contacts, in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(pub u32);

impl SettingValue for Percent {
    fn must_be() -> String {
        "a whole number from 0 to 100".to_owned()
    }

    fn from_text(text: &str) -> Option<Self> {
        text.parse()
            .ok()
            .filter(|percent| *percent <= 100)
            .map(Self)
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": 100 })
    }
}

/// Requests per second a user may set: slower than one request in 100 s
/// is a mistake, and faster than 10,000/s is beyond any AWS quota.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rate(pub f64);

impl Rate {
    pub const MIN: f64 = 0.01;
    pub const MAX: f64 = 10_000.0;
}

impl SettingValue for Rate {
    fn must_be() -> String {
        format!(
            "a number of requests per second from {} to {}",
            Self::MIN,
            Self::MAX
        )
    }

    fn from_text(text: &str) -> Option<Self> {
        text.parse()
            .ok()
            .filter(|rate| (Self::MIN..=Self::MAX).contains(rate))
            .map(Self)
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "minimum": Rate::MIN, "maximum": Rate::MAX })
    }
}

/// An IAM role's name, as IAM allows it: 1 to 64 of letters, digits and
/// `+=,.@_-`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleName(pub String);

impl SettingValue for RoleName {
    fn must_be() -> String {
        "an IAM role name: 1 to 64 letters, digits and +=,.@_-".to_owned()
    }

    fn from_text(text: &str) -> Option<Self> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
        (1..=64)
            .contains(&text.len())
            .then_some(text)
            .filter(|text| text.chars().all(allowed))
            .map(|text| Self(text.to_owned()))
    }
}

impl JsonSchema for RoleName {
    fn schema_name() -> Cow<'static, str> {
        "RoleName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[A-Za-z0-9+=,.@_-]{1,64}$" })
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A section of settings in the contacts file, as the validator fills it
/// one key at a time.
pub trait Section: Default {
    /// The section's key in the file: `safety`.
    const KEY: &'static str;
    /// Sets `key` from a scalar's text, or says what it must be.
    fn set(&mut self, key: &str, text: &str) -> Result<(), String>;
}

/// Declares a section of settings: the file's section `$File`, the
/// resolved settings `$Resolved` (`resolve` merges flags over the file over
/// the defaults) and the flags `$Flags`, either one flag per setting
/// (`each`, named after it) or one flag for the section (`one "--rate"`,
/// taking `key=value,...`).
macro_rules! section {
    (
        $(#[doc = $doc:literal])*
        key $key:literal, heading $heading:literal,
        file $File:ident, resolved $Resolved:ident, flags $Flags:ident ($($flags:tt)+),
        {
            $(
                #[doc = $field_doc:literal]
                $field:ident: $Ty:ty = $default:expr, value_name $value_name:literal;
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $File {
            $(
                #[doc = $field_doc]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$Ty>,
            )*
        }

        impl Section for $File {
            const KEY: &'static str = $key;

            fn set(&mut self, key: &str, text: &str) -> Result<(), String> {
                match key {
                    $(
                        stringify!($field) => {
                            self.$field = Some(<$Ty as SettingValue>::from_text(text).ok_or_else(|| {
                                format!("`{key}` must be {}", <$Ty as SettingValue>::must_be())
                            })?);
                            Ok(())
                        }
                    )*
                    other => Err(format!("unknown key `{other}` in `{}`", Self::KEY)),
                }
            }
        }

        /// The settings of this run: flags over the file over the defaults.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub struct $Resolved {
            $(
                #[doc = $field_doc]
                pub $field: Option<$Ty>,
            )*
        }

        impl Default for $Resolved {
            fn default() -> Self {
                Self { $($field: $default,)* }
            }
        }

        section!(@flags $Flags ($($flags)+), $File, $Resolved, $heading, $key, {
            $(#[doc = $field_doc] $field: $Ty = $default, value_name $value_name;)*
        });
    };

    (@flags $Flags:ident (each $global:literal), $File:ident, $Resolved:ident, $heading:literal, $key:literal, {
        $(#[doc = $field_doc:literal] $field:ident: $Ty:ty = $default:expr, value_name $value_name:literal;)*
    }) => {
        /// The flags that override the section.
        #[derive(Clone, Debug, Default, clap::Args)]
        #[command(next_help_heading = $heading)]
        pub struct $Flags {
            $(
                #[arg(
                    long,
                    global = $global,
                    value_name = $value_name,
                    value_parser = parse_flag::<$Ty>,
                    // A doc comment keeps the space after `///`.
                    help = concat!($field_doc, " [file: ", $key, ".", stringify!($field), "]").trim_start()
                )]
                pub $field: Option<$Ty>,
            )*
        }

        impl $Resolved {
            /// The one place a flag overrides the file, and the file a default.
            pub fn resolve(file: &$File, flags: &$Flags) -> Self {
                let defaults = Self::default();
                Self {
                    $($field: flags.$field.clone().or_else(|| file.$field.clone()).or(defaults.$field),)*
                }
            }
        }
    };

    (@flags $Flags:ident (one $flag:literal $value_name:literal $help:literal), $File:ident, $Resolved:ident, $heading:literal, $key:literal, {
        $(#[doc = $field_doc:literal] $field:ident: $Ty:ty = $default:expr, value_name $field_value:literal;)*
    }) => {
        /// The flag that overrides the section, `KEY=VALUE,...` (any subset).
        #[derive(Clone, Debug, Default, clap::Args)]
        pub struct $Flags {
            #[arg(
                long = $flag,
                global = true,
                value_name = $value_name,
                value_parser = parse_section::<$File>,
                help_heading = $heading,
                help = concat!($help, " [file: ", $key, ":]").trim_start()
            )]
            pub value: Option<$File>,
        }

        impl $Resolved {
            /// The one place a flag overrides the file, and the file a default.
            pub fn resolve(file: &$File, flags: &$Flags) -> Self {
                let defaults = Self::default();
                let flag = flags.value.clone().unwrap_or_default();
                Self {
                    $($field: flag.$field.or_else(|| file.$field.clone()).or(defaults.$field),)*
                }
            }
        }
    };
}

/// A section from `KEY=VALUE,...`: what a section's one flag takes.
pub fn parse_section<S: Section + Clone + Send + Sync + 'static>(text: &str) -> Result<S, String> {
    let mut section = S::default();
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not KEY=VALUE"))?;
        section.set(key.trim(), value.trim())?;
    }
    Ok(section)
}

section! {
    /// Limits on what a single `apply` may change; exceeding one refuses
    /// the apply unless `--force`.
    key "safety", heading "Safety limits",
    file SafetySpec, resolved Safety, flags SafetyArgs (each false),
    {
        /// Most contacts one apply may delete (default 10)
        max_deletes: Count = Some(Count(10)), value_name "N";
        /// Most contacts one apply may update (default: no limit)
        max_updates: Count = None, value_name "N";
        /// Most contacts one apply may update, as a percentage of the managed contacts (default: no limit)
        max_update_percent: Percent = None, value_name "PERCENT";
    }
}

section! {
    /// Client-side request rates per second, for accounts whose Account API
    /// quotas differ from AWS's published defaults. Bursts scale with the
    /// rate.
    key "rate", heading "AWS connection",
    file RateSpec, resolved Rates, flags RateArgs (one "rate" "get=N,put=N,delete=N,assume=N"
        "Requests per second per operation, any subset (default get=10,put=5,delete=1, each account its own with --member-role; assume=100)"),
    {
        /// GetAlternateContact per second (AWS default 10; aws-cn 3)
        get: Rate = None, value_name "N";
        /// PutAlternateContact per second (AWS default 5; aws-cn 1)
        put: Rate = None, value_name "N";
        /// DeleteAlternateContact per second (AWS default 1)
        delete: Rate = None, value_name "N";
        /// sts:AssumeRole per second into member roles (default 100; STS publishes no quota, so the pace also adapts to throttling)
        assume: Rate = None, value_name "N";
    }
}

section! {
    /// How the run reaches each account's contacts.
    key "access", heading "AWS connection",
    file AccessSpec, resolved Access, flags AccessArgs (each true),
    {
        /// Read and write each member account through this role in it (sts:AssumeRole), so each account's own Account API quotas apply; accounts without it go through the caller
        member_role: RoleName = None, value_name "NAME";
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// An environment variable's value; set but empty is unset, as a CI leaves
/// a variable it could not fill.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_overrides_the_file_and_the_file_a_default() {
        let file = SafetySpec {
            max_deletes: Some(Count(3)),
            max_updates: Some(Count(7)),
            max_update_percent: None,
        };
        let flags = SafetyArgs {
            max_deletes: None,
            max_updates: Some(Count(9)),
            max_update_percent: None,
        };
        assert_eq!(
            Safety::resolve(&file, &flags),
            Safety {
                max_deletes: Some(Count(3)),
                max_updates: Some(Count(9)),
                max_update_percent: None,
            }
        );
        assert_eq!(
            Safety::resolve(&SafetySpec::default(), &SafetyArgs::default()).max_deletes,
            Some(Count(10))
        );
    }

    #[test]
    fn rate_accepts_subsets_and_refuses_nonsense() {
        assert_eq!(
            parse_section::<RateSpec>("get=20,delete=0.5"),
            Ok(RateSpec {
                get: Some(Rate(20.0)),
                put: None,
                delete: Some(Rate(0.5)),
                assume: None,
            })
        );
        assert!(parse_section::<RateSpec>("get=0").is_err());
        for out_of_range in [
            "get=1e-300",
            "put=0.009",
            "delete=10001",
            "get=inf",
            "get=NaN",
        ] {
            let error = parse_section::<RateSpec>(out_of_range).expect_err(out_of_range);
            assert!(error.contains("from 0.01 to 10000"), "{error}");
        }
        assert!(parse_section::<RateSpec>("get=0.01,put=10000,assume=200").is_ok());
        assert!(parse_section::<RateSpec>("list=3").is_err());
        assert!(parse_section::<RateSpec>("get").is_err());
    }

    #[test]
    fn a_role_name_is_what_iam_allows() {
        assert_eq!(
            parse_flag::<RoleName>("altcontacts-member"),
            Ok(RoleName("altcontacts-member".to_owned()))
        );
        for bad in [
            "",
            "a/b",
            "role name",
            &"r".repeat(65),
            "arn:aws:iam::1:role/x",
        ] {
            assert!(parse_flag::<RoleName>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_percent_is_at_most_a_hundred() {
        assert_eq!(parse_flag::<Percent>("100"), Ok(Percent(100)));
        assert!(
            parse_flag::<Percent>("101")
                .unwrap_err()
                .contains("from 0 to 100")
        );
        assert!(parse_flag::<Count>("-1").is_err());
    }
}
