//! Saved plans (`plan --out`): what was planned, against what, from which
//! file, with every change's before-value so `apply PLAN` can refuse a plan
//! whose slots changed since it was reviewed, what the plan read besides
//! the file so apply can compute the changes again, and a seal over all of
//! it so an edited plan is refused even without the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::Target;
use crate::config::LoadedConfig;
use crate::config::reading::{self, Reading, Unread};
use crate::error::{Error, Refusal};
use crate::git::{GitError, Repository, is_commit_id};
use crate::model::{
    AccountId, AccountInfo, ContactType, Duration, Live, Notice, Organization, Shape, Slot,
    Timestamp, Value,
};
use crate::plan::{Change, ChangeKey, ChangeKind, Plan};
use crate::printable::printable;

/// 2: `target` became a typed value, and the safety limits are no longer
/// carried (they are the applying run's). 3: each change is written as
/// `plan --format json` writes it. 4: what the plan read (`observed`) and
/// the `seal`. 5: when the plan was made (`created_at`) and at which
/// commit (`commit`), so a plan expires and is applied only where its
/// commit was merged.
pub const PLAN_FORMAT_VERSION: u32 = 6;

/// How old a plan `apply PLAN` takes by default (`--max-plan-age`). A plan
/// is reviewed and applied in one sitting, or one pipeline: a day covers
/// a plan made in the evening and applied the next morning, and bounds
/// how long a copy of a keyed plan can write its changes again once the
/// slots it planned from are back to their before-values.
pub const DEFAULT_MAX_AGE: Duration = Duration::hours(24);

/// How far ahead of this run's clock a plan's time may be: two machines'
/// clocks, each kept by NTP, differ by far less.
pub const CLOCK_SKEW: Duration = Duration(300);

/// How a saved plan is read: a plan that changes every slot of 10,000
/// accounts is about 30 MB (some 700 bytes a change); twice that is taken.
const READING: Reading = Reading {
    limit: 64_000_000,
    sized: "a plan that changes every slot of 10,000 accounts is about 30 MB",
    pass: "pass the file `plan --out` wrote",
    in_repository: false,
};

/// The environment variable holding the key that seals saved plans: a
/// secret both the plan job and the apply job have, and no one who can
/// only touch the plan artifact between them.
pub const PLAN_KEY_VARIABLE: &str = "ALTCONTACTS_PLAN_KEY";

/// The key of `ALTCONTACTS_PLAN_KEY`. Never printed.
#[derive(Clone)]
pub struct PlanKey(Vec<u8>);

/// `ALTCONTACTS_PLAN_KEY` as the run found it. Set but empty is neither a
/// key nor no key: it is what a CI secret that did not resolve leaves.
#[derive(Clone, Debug)]
pub enum KeySetting {
    Unset,
    Empty,
    Key(PlanKey),
}

impl KeySetting {
    pub fn from_env() -> Self {
        Self::of(std::env::var_os(PLAN_KEY_VARIABLE))
    }

    fn of(value: Option<std::ffi::OsString>) -> Self {
        match value {
            None => Self::Unset,
            Some(key) if key.is_empty() => Self::Empty,
            Some(key) => Self::Key(PlanKey(key.as_encoded_bytes().to_vec())),
        }
    }

    /// The key `plan --out` seals with, if any; an empty one is an error.
    pub fn for_sealing(&self) -> Result<Option<&PlanKey>, Error> {
        match self {
            Self::Unset => Ok(None),
            Self::Empty => Err(Error::EmptyPlanKey {
                variable: PLAN_KEY_VARIABLE,
            }),
            Self::Key(key) => Ok(Some(key)),
        }
    }

    /// The key `apply PLAN` checks the seal with, if any; an empty one is
    /// refused, and so is none when `required` (`--require-plan-key`).
    pub fn for_applying(&self, required: bool) -> Result<Option<&PlanKey>, Refusal> {
        match self {
            Self::Empty => Err(Refusal::EmptyPlanKey {
                variable: PLAN_KEY_VARIABLE,
            }),
            Self::Unset if required => Err(Refusal::PlanKeyRequired {
                variable: PLAN_KEY_VARIABLE,
            }),
            Self::Unset => Ok(None),
            Self::Key(key) => Ok(Some(key)),
        }
    }
}

impl std::fmt::Debug for PlanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanKey(redacted)")
    }
}

const PLAIN_SEAL: &str = "sha256:";
const KEYED_SEAL: &str = "hmac-sha256:";

/// What a plan read besides the contacts file: with the file, it yields
/// the plan's changes again. The organization holds only the accounts in
/// scope (and every unit, which the file's units are matched against).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    pub organization: Option<Organization>,
    /// The accounts in scope.
    pub accounts: BTreeSet<AccountId>,
    /// The managed slots read that already held what the file wants.
    pub unchanged: Vec<Slot>,
    /// How many managed slots were not read (`--base-ref` showed they did
    /// not change): a change left out of the plan would be one more.
    pub not_read: usize,
    /// The subscriptions read that already held what the file wants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<Notice>,
    /// The topics read of each account: a subscription left out of the
    /// plan would be one the file yields on them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub topics_read: BTreeMap<AccountId, BTreeSet<crate::model::Topic>>,
}

impl Observed {
    pub fn of(plan: &Plan, organization: Option<&Organization>) -> Self {
        let accounts: BTreeSet<AccountId> = plan.accounts.keys().cloned().collect();
        let organization = organization.map(|org| {
            let mut org = org.clone();
            org.accounts
                .retain(|account| accounts.contains(&account.id));
            org.whole = false;
            org
        });
        Self {
            organization,
            accounts,
            unchanged: plan.unchanged.clone(),
            not_read: plan.not_read,
            held: plan.held.clone(),
            topics_read: plan.topics_read.clone(),
        }
    }
}

/// When and where a plan was made: what a saved plan seals besides what
/// it plans, so it expires and is applied only where its commit is.
#[derive(Clone, Debug, PartialEq)]
pub struct Made {
    pub at: Timestamp,
    /// HEAD of the repository the contacts file is in, if it is in one.
    pub commit: Option<String>,
}

impl Made {
    /// Now, at the HEAD of the repository of `contacts`'s folder.
    pub fn now(contacts: &Path) -> Result<Self, GitError> {
        Ok(Self {
            at: Timestamp::now(),
            commit: Repository::of(contacts).head()?,
        })
    }
}

/// `created_at` as RFC 3339 in UTC, so a person reading the plan reads
/// the time.
mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::model::Timestamp;

    pub fn serialize<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "created_at `{text}` is not a time like 2026-11-29T08:00:00Z"
            ))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Format version of this file; also marks it as an altcontacts plan.
    pub altcontacts_plan: u32,
    pub created_by: String,
    /// When the plan was made, by the clock of the run that made it.
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    /// The commit checked out (HEAD) in the repository the contacts file
    /// is in, when it is in one.
    pub commit: Option<String>,
    pub config_file: String,
    /// SHA-256 of the contacts file the plan was made from.
    pub config_digest: String,
    pub target: Target,
    pub caller_account: AccountId,
    pub managed_slots: usize,
    pub changes: Vec<Change>,
    pub observed: Observed,
    /// SHA-256 of everything above, or with a plan key its HMAC-SHA-256.
    pub seal: String,
}

impl PlanFile {
    /// `made`: when and at which commit (see the fields).
    pub fn new(
        plan: &Plan,
        observed: Observed,
        config: &LoadedConfig,
        target: &Target,
        caller: &AccountId,
        made: Made,
        key: Option<&PlanKey>,
    ) -> Self {
        let mut file = Self {
            altcontacts_plan: PLAN_FORMAT_VERSION,
            created_by: format!("altcontacts {}", env!("CARGO_PKG_VERSION")),
            created_at: made.at,
            commit: made.commit,
            config_file: config.file.clone(),
            config_digest: config.digest(),
            target: target.clone(),
            caller_account: caller.clone(),
            managed_slots: plan.managed_slots,
            changes: plan.changes.clone(),
            observed,
            seal: String::new(),
        };
        file.seal = file.compute_seal(key);
        file
    }

    /// The seal of everything but the seal, over the plan as compact JSON
    /// with `seal` empty and its keys in serde_json's order: what the file
    /// says, whatever its layout.
    fn compute_seal(&self, key: Option<&PlanKey>) -> String {
        let unsealed = Self {
            seal: String::new(),
            ..self.clone()
        };
        let value = serde_json::to_value(&unsealed).expect("plain data serializes");
        let bytes = serde_json::to_vec(&value).expect("plain data serializes");
        let (prefix, digest) = match key {
            Some(PlanKey(key)) => {
                let mut mac =
                    hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
                mac.update(&bytes);
                (KEYED_SEAL, mac.finalize().into_bytes().to_vec())
            }
            None => (PLAIN_SEAL, Sha256::digest(&bytes).to_vec()),
        };
        format!("{prefix}{}", hex::encode(digest))
    }

    /// Refuses a plan whose seal does not hold: edited since `plan --out`
    /// wrote it, or sealed with another key than this run's (or with one
    /// when this run has none, or without one when this run has one: a
    /// run with a key applies only plans sealed with it).
    pub fn check_seal(&self, key: Option<&PlanKey>) -> Result<(), Refusal> {
        let keyed = self.seal.starts_with(KEYED_SEAL);
        match (keyed, key) {
            (true, None) => {
                return Err(Refusal::SealNeedsKey {
                    variable: PLAN_KEY_VARIABLE,
                });
            }
            (false, Some(_)) => {
                return Err(Refusal::SealWithoutKey {
                    variable: PLAN_KEY_VARIABLE,
                });
            }
            _ => {}
        }
        // Both seals are of the same length, and compared whole.
        let expected = self.compute_seal(key);
        let same = expected.len() == self.seal.len()
            && expected
                .bytes()
                .zip(self.seal.bytes())
                .fold(0u8, |differ, (a, b)| differ | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(Refusal::SealBroken { keyed })
        }
    }

    /// Refuses a plan older than `max_age` at `now`, or made more than
    /// the clock skew allowed after `now`.
    pub fn check_age(&self, now: Timestamp, max_age: Duration) -> Result<(), Refusal> {
        let age = Duration::between(self.created_at, now);
        if age.0 < -CLOCK_SKEW.0 {
            return Err(Refusal::FromTheFuture {
                made_at: self.created_at.rfc3339(),
                ahead: Duration(-age.0),
                now: now.rfc3339(),
                skew: CLOCK_SKEW,
            });
        }
        if age > max_age {
            return Err(Refusal::TooOld {
                age,
                made_at: self.created_at.rfc3339(),
                max_age,
            });
        }
        Ok(())
    }

    /// Refuses a plan made at a commit the checkout of `repository` has
    /// not merged: neither its HEAD nor an ancestor of it (a plan made on
    /// a branch, applied from the default branch's checkout), or one this
    /// clone does not have. A plan made outside a repository, or applied
    /// outside one, has no commit to compare.
    pub fn check_commit(&self, repository: &Repository) -> Result<(), Error> {
        let Some(planned) = &self.commit else {
            return Ok(());
        };
        if !is_commit_id(planned) {
            return Err(Error::Refused(Refusal::Tampered {
                reason: "its commit is not a commit ID".to_owned(),
            }));
        }
        let Some(head) = repository.head()? else {
            return Ok(());
        };
        if *planned == head {
            return Ok(());
        }
        let refusal = if !repository.has_commit(planned)? {
            Refusal::CommitUnknown {
                planned_at: planned.clone(),
                head,
            }
        } else if !repository.is_ancestor(planned, &head)? {
            Refusal::CommitNotInHistory {
                planned_at: planned.clone(),
                head,
            }
        } else {
            return Ok(());
        };
        Err(Error::Refused(refusal))
    }

    /// Computes the changes again from `config` (the file the plan was made
    /// from: its digest was checked) and what the plan observed, and
    /// refuses the plan unless they are exactly its changes and its count
    /// of managed slots. Every value apply writes is then one the file
    /// yields for that slot, whatever else was edited.
    pub fn check_against(&self, config: &LoadedConfig) -> Result<(), Refusal> {
        let tampered = |reason: String| Refusal::Tampered { reason };
        let mut desired = config
            .resolve(self.observed.organization.as_ref(), &self.caller_account)
            .map_err(|_| {
                tampered("the file does not resolve against the organization it records".into())
            })?;
        desired.retain_accounts(|id| self.observed.accounts.contains(id));
        let mut live = Live::default();
        for slot in &self.observed.unchanged {
            let Some(wanted) = desired.slots.get(slot) else {
                return Err(tampered(format!(
                    "it records {slot} as unchanged, which the file does not manage"
                )));
            };
            live.slots
                .insert(slot.clone(), wanted.wanted.contact().cloned());
        }
        for (account, topics) in &self.observed.topics_read {
            let subscribed = live.notices.entry(account.clone()).or_default();
            for topic in topics {
                subscribed.entry(topic.clone()).or_default();
            }
        }
        for notice in &self.observed.held {
            live.notices
                .entry(notice.slot.account.clone())
                .or_default()
                .entry(notice.topic.clone())
                .or_default()
                .insert(notice.slot.kind);
        }
        for change in &self.changes {
            match change.action.topic() {
                Some(topic) => {
                    live.notices
                        .entry(change.slot.account.clone())
                        .or_default()
                        .entry(topic.clone())
                        .or_default();
                }
                None => {
                    live.slots
                        .insert(change.slot.clone(), change.action.before().cloned());
                }
            }
        }

        let again = crate::plan::diff(&desired, &live);
        if again.managed_slots != self.managed_slots {
            return Err(tampered(format!(
                "it counts {} managed slots, the file yields {}",
                self.managed_slots, again.managed_slots
            )));
        }
        let planned: BTreeMap<_, &Change> = self
            .changes
            .iter()
            .map(|change| (change.key(), change))
            .collect();
        let yielded: BTreeMap<_, &Change> = again
            .changes
            .iter()
            .map(|change| (change.key(), change))
            .collect();
        for (key, change) in &planned {
            let slot = ChangeKey(*key);
            match yielded.get(key) {
                None => {
                    return Err(tampered(format!(
                        "it changes {slot}, which the file leaves as it is"
                    )));
                }
                Some(yielded) if yielded != change => {
                    return Err(tampered(format!(
                        "its change of {slot} is not the one the file yields"
                    )));
                }
                Some(_) => {}
            }
        }
        if let Some(key) = yielded.keys().find(|key| !planned.contains_key(*key)) {
            return Err(tampered(format!(
                "it leaves out the change of {} the file yields",
                ChangeKey(*key)
            )));
        }
        if again.not_read != self.observed.not_read {
            return Err(tampered(format!(
                "{} of the file's slots are neither changed nor recorded as unchanged, against {} not read when planned",
                again.not_read, self.observed.not_read
            )));
        }
        Ok(())
    }

    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let mut text = serde_json::to_string_pretty(self).expect("plain data serializes");
        text.push('\n');
        std::fs::write(path, text).map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads and checks a plan file, and returns it with the plan it holds;
    /// a hand-edited plan with contradictory or invalid changes is refused
    /// before anything is read or written.
    pub fn read(path: &Path, key: Option<&PlanKey>) -> Result<(Self, Plan), Error> {
        let display = printable(&path.display().to_string());
        let invalid = |message: String| Error::PlanFile {
            path: display.clone(),
            message,
        };
        // A file that is not a plan (a device, a pipe, a file of
        // gigabytes) is refused as any invalid plan is, before it is read.
        let text = reading::read_text(path, &READING).map_err(|unread| match unread {
            Unread::Io(source) => Error::Read {
                path: display.clone(),
                source,
                help: Some("make a plan with `altcontacts plan --out FILE`".to_owned()),
            },
            // "...is not a plan file altcontacts can apply" is the advice.
            Unread::Refused { why, .. } => invalid(why),
        })?;
        // serde's words quote the value as written.
        let probe: serde_json::Value = serde_json::from_str(&text)
            .map_err(|error| invalid(printable(&format!("not JSON: {error}"))))?;
        match probe
            .get("altcontacts_plan")
            .and_then(serde_json::Value::as_u64)
        {
            Some(version) if version == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(version) if version < u64::from(PLAN_FORMAT_VERSION) => {
                return Err(invalid(format!(
                    "plan format {version} is not supported: this altcontacts reads format {PLAN_FORMAT_VERSION}, which records when and at which commit a plan was made, and the subscriptions it read; make the plan again (altcontacts plan --out FILE) and apply that"
                )));
            }
            Some(version) => {
                return Err(invalid(format!(
                    "plan format {version} is not supported: this altcontacts reads format {PLAN_FORMAT_VERSION}; apply it with the newer altcontacts that made it, or make the plan again with this one"
                )));
            }
            None => {
                return Err(invalid(
                    "it has no `altcontacts_plan` version; was it made with `plan --out`?"
                        .to_owned(),
                ));
            }
        }
        let plan: PlanFile = serde_json::from_value(probe)
            .map_err(|error| invalid(printable(&error.to_string())))?;
        plan.check().map_err(invalid)?;
        plan.check_seal(key).map_err(Error::Refused)?;
        // The plan as it was shown: its scope and what was unchanged, so
        // `apply PLAN` says what `plan --out` said.
        let name_of = |id: &AccountId| {
            let listed = plan.observed.organization.as_ref().and_then(|org| {
                org.accounts
                    .iter()
                    .find(|account| account.id == *id)
                    .map(|account| account.name.clone())
            });
            listed.or_else(|| {
                plan.changes
                    .iter()
                    .find(|change| change.slot.account == *id)
                    .and_then(|change| change.account_name.clone())
            })
        };
        let accounts = plan
            .observed
            .accounts
            .iter()
            .chain(plan.changes.iter().map(|change| &change.slot.account))
            .map(|id| {
                (
                    id.clone(),
                    AccountInfo {
                        name: name_of(id),
                        email: None,
                    },
                )
            })
            .collect();
        let planned = Plan {
            changes: plan.changes.clone(),
            accounts,
            unchanged: plan.observed.unchanged.clone(),
            managed_slots: plan.managed_slots,
            not_read: plan.observed.not_read,
            held: plan.observed.held.clone(),
            topics_read: plan.observed.topics_read.clone(),
            ..Plan::default()
        };
        Ok((plan, planned))
    }

    /// Refuses a change that AWS would refuse, or that a plan cannot hold
    /// (a slot twice, a value of the wrong shape, a primary contact
    /// deleted): a hand-edited plan is refused before anything is read or
    /// written. Each change's values fit its action already, or it would not
    /// have been read.
    fn check(&self) -> Result<(), String> {
        if let Some(commit) = &self.commit
            && !is_commit_id(commit)
        {
            return Err(
                "its commit is not a full commit ID (40 or 64 lower-case hex digits)".to_owned(),
            );
        }
        let mut seen = BTreeSet::new();
        for change in &self.changes {
            let slot = &change.slot;
            if !seen.insert(change.key()) {
                return Err(format!("{} appears twice", ChangeKey(change.key())));
            }
            let fits = |value: &Value| {
                matches!(
                    (slot.kind, value),
                    (ContactType::Primary, Value::Primary(_))
                        | (
                            ContactType::Security | ContactType::Billing | ContactType::Operations,
                            Value::Alternate(_)
                        )
                )
            };
            let values = change
                .action
                .before()
                .into_iter()
                .chain(change.action.after());
            if !values.into_iter().all(fits) {
                return Err(format!("{slot}: a value does not fit this kind of slot"));
            }
            if slot.kind == ContactType::Primary && change.action.kind() == ChangeKind::Delete {
                return Err(format!("{slot}: the primary contact cannot be deleted"));
            }
            let problems = match change.action.after() {
                Some(Value::Alternate(after)) => after.problems(),
                Some(Value::Primary(after)) => after.problems(),
                None => Vec::new(),
            };
            if let Some((_, message)) = problems.into_iter().next() {
                return Err(format!("{slot}: {message}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_made_at(at: Timestamp, commit: Option<&str>) -> PlanFile {
        PlanFile {
            altcontacts_plan: PLAN_FORMAT_VERSION,
            created_by: "altcontacts test".to_owned(),
            created_at: at,
            commit: commit.map(str::to_owned),
            config_file: "contacts.yaml".to_owned(),
            config_digest: "sha256:00".to_owned(),
            target: Target::Aws,
            caller_account: AccountId::parse("111111111111").unwrap(),
            managed_slots: 0,
            changes: Vec::new(),
            observed: Observed::default(),
            seal: String::new(),
        }
    }

    #[test]
    fn an_empty_key_is_neither_a_key_nor_no_key() {
        let empty = KeySetting::of(Some("".into()));
        assert!(matches!(
            empty.for_sealing(),
            Err(Error::EmptyPlanKey {
                variable: PLAN_KEY_VARIABLE
            })
        ));
        assert!(matches!(
            empty.for_applying(false),
            Err(Refusal::EmptyPlanKey { .. })
        ));
        let unset = KeySetting::of(None);
        assert!(matches!(unset.for_sealing(), Ok(None)));
        assert!(matches!(unset.for_applying(false), Ok(None)));
        assert!(matches!(
            unset.for_applying(true),
            Err(Refusal::PlanKeyRequired { .. })
        ));
        let key = KeySetting::of(Some("k".into()));
        assert!(matches!(key.for_sealing(), Ok(Some(_))));
        assert!(matches!(key.for_applying(true), Ok(Some(_))));
        assert_eq!(format!("{key:?}"), "Key(PlanKey(redacted))");
    }

    #[test]
    fn a_plan_is_taken_up_to_its_max_age_and_a_few_minutes_ahead() {
        let made = Timestamp(1_800_000_000);
        let plan = plan_made_at(made, None);
        let day = DEFAULT_MAX_AGE;
        assert!(plan.check_age(Timestamp(made.0 + day.0), day).is_ok());
        assert!(matches!(
            plan.check_age(Timestamp(made.0 + day.0 + 1), day),
            Err(Refusal::TooOld { age, max_age, .. }) if age == Duration(day.0 + 1) && max_age == day
        ));
        assert!(
            plan.check_age(Timestamp(made.0 - CLOCK_SKEW.0), day)
                .is_ok()
        );
        let refused = plan.check_age(Timestamp(made.0 - 3_600), day).unwrap_err();
        assert!(
            matches!(&refused, Refusal::FromTheFuture { ahead, .. } if *ahead == Duration(3_600)),
            "{refused:?}"
        );
        assert_eq!(
            refused.to_string(),
            "refusing the plan, nothing was written: it says it was made at 2027-01-15T08:00:00Z, 1h after this run's clock (2027-01-15T07:00:00Z), more than the 5m of clock skew allowed"
        );
    }

    #[test]
    fn the_seal_holds_when_and_at_which_commit_a_plan_was_made() {
        let head = "0123456789abcdef0123456789abcdef01234567";
        let mut plan = plan_made_at(Timestamp(1_800_000_000), Some(head));
        plan.seal = plan.compute_seal(None);
        assert!(plan.check_seal(None).is_ok());
        let text = serde_json::to_string(&plan).unwrap();
        assert!(
            text.contains(r#""created_at":"2027-01-15T08:00:00Z","commit":"0123"#),
            "{text}"
        );
        let read: PlanFile = serde_json::from_str(&text).unwrap();
        assert_eq!(read, plan);

        let mut younger = plan.clone();
        younger.created_at = Timestamp(1_800_000_000 + 86_400);
        assert!(matches!(
            younger.check_seal(None),
            Err(Refusal::SealBroken { keyed: false })
        ));
        let mut elsewhere = plan.clone();
        elsewhere.commit = Some("f".repeat(40));
        assert!(elsewhere.check_seal(None).is_err());
        // Whatever a plan says, only a commit ID reaches git.
        let mut option = plan;
        option.commit = Some("--upload-pack=touch /tmp/x".to_owned());
        assert!(option.check().unwrap_err().contains("not a full commit ID"));
    }
}
