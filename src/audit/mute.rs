//! The findings the file accepts (`audit.mute`, or `audit --mute FILE`), as
//! Prowler's mute list has them: a check, for one account, every account
//! or a unit's accounts, for a reason, until a date. A muted finding is
//! moved out of the findings that count, and every format shows it as
//! muted; a mute past its date mutes nothing and is itself a finding.

use std::collections::BTreeMap;

use super::{About, Audit, Check, Finding, Location, Severity};
use crate::config::{MuteScope, PlacedMute, UnitSelector, unit_depth};
use crate::model::{AccountId, Date, OrgAccount, Organization};

/// Why a finding is muted, and until when.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Muted {
    pub reason: String,
    /// The last day it is muted (YYYY-MM-DD).
    pub until: String,
    /// Where the mute is written.
    pub location: Location,
}

/// A finding the file accepts: what it is, and the mute that accepts it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MutedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub muted: Muted,
}

/// Each account with the names of the units from the root down to it, to
/// match a unit as the file's units match one.
struct Ancestry<'o>(BTreeMap<&'o AccountId, (&'o OrgAccount, Vec<String>)>);

impl<'o> Ancestry<'o> {
    fn of(organization: Option<&'o Organization>) -> Self {
        Self(
            organization
                .map(|org| {
                    org.accounts_with_paths()
                        .into_iter()
                        .map(|(account, path)| (&account.id, (account, path)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    fn under(&self, account: &AccountId, unit: &UnitSelector) -> bool {
        self.0
            .get(account)
            .is_some_and(|(account, path)| unit_depth(unit, account, path).is_some())
    }
}

/// Mutes that name what the organization does not have: a unit, or an
/// account, that a typo made up mutes nothing and must not pass unseen.
/// Each is said at its line.
pub fn unknown_targets(mutes: &[PlacedMute], organization: Option<&Organization>) -> Vec<String> {
    let at = |mute: &PlacedMute| format!("{}:{}:{}", mute.file, mute.line, mute.column);
    // Listed once, for every mute of a unit.
    let units = organization
        .map(Organization::units_with_paths)
        .unwrap_or_default();
    mutes
        .iter()
        .filter_map(|mute| match (&mute.mute.scope, organization) {
            (MuteScope::Every, _) => None,
            (MuteScope::Unit(_), None) => Some(format!(
                "{}: a mute of {} needs the organization, and this audit did not read it: audit with a file that has `organization:`, or with --org",
                at(mute),
                mute.mute.scope
            )),
            (MuteScope::Unit(unit), Some(org)) => (unit.find_in(&units).is_none() && org.whole)
                .then(|| format!("{}: unit `{unit}` is not in the organization", at(mute))),
            (MuteScope::Account(id), Some(org)) => {
                let known = org.accounts.iter().any(|account| &account.id == id);
                (!known && org.whole)
                    .then(|| format!("{}: account {id} is not in the organization", at(mute)))
            }
            (MuteScope::Account(_), None) => None,
        })
        .collect()
}

/// The accounts a finding is about: its own, or every account that shares
/// the address it is about.
fn accounts_of(finding: &Finding) -> Vec<&AccountId> {
    match &finding.account_id {
        Some(id) => vec![id],
        None => finding.about.accounts.iter().collect(),
    }
}

fn covers(mute: &PlacedMute, finding: &Finding, ancestry: &Ancestry) -> bool {
    if mute.mute.check != finding.check {
        return false;
    }
    let accounts = accounts_of(finding);
    match &mute.mute.scope {
        MuteScope::Every => true,
        // A finding about several accounts is muted only when the mute
        // covers every one of them.
        MuteScope::Account(id) => !accounts.is_empty() && accounts.iter().all(|a| *a == id),
        MuteScope::Unit(unit) => {
            !accounts.is_empty() && accounts.iter().all(|a| ancestry.under(a, unit))
        }
    }
}

fn location(mute: &PlacedMute) -> Location {
    Location {
        file: mute.file.clone(),
        line: mute.line,
        column: mute.column,
    }
}

/// Mutes what the current mutes cover, and reports each mute past its
/// date as a finding at its line.
pub fn apply(
    audit: &mut Audit,
    mutes: &[PlacedMute],
    organization: Option<&Organization>,
    today: Date,
) {
    if mutes.is_empty() {
        return;
    }
    let ancestry = Ancestry::of(organization);
    let (current, expired): (Vec<&PlacedMute>, Vec<&PlacedMute>) =
        mutes.iter().partition(|mute| mute.mute.until >= today);
    let findings = std::mem::take(&mut audit.findings);
    for finding in findings {
        match current
            .iter()
            .find(|mute| covers(mute, &finding, &ancestry))
        {
            Some(mute) => audit.muted.push(MutedFinding {
                finding,
                muted: Muted {
                    reason: mute.mute.reason.clone(),
                    until: mute.mute.until.to_string(),
                    location: location(mute),
                },
            }),
            None => audit.findings.push(finding),
        }
    }
    audit.add(expired.into_iter().map(|mute| Finding {
        severity: Severity::Low,
        check: Check::MuteExpired,
        account_id: None,
        message: format!(
            "the mute of {} for {} ended on {} ({}): it mutes nothing, and what it muted is reported again",
            mute.mute.check.code(),
            mute.mute.scope,
            mute.mute.until,
            mute.mute.reason
        ),
        controls: Vec::new(),
        about: About {
            location: Some(location(mute)),
            ..About::default()
        },
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::YamlPath;
    use crate::config::{Mute, PlacedMute};
    use crate::model::time::parse_date;

    fn id(text: &str) -> AccountId {
        AccountId::parse(text).unwrap()
    }

    fn finding(check: Check, account: Option<&str>, shared_by: &[&str]) -> Finding {
        Finding {
            severity: Severity::Medium,
            check,
            account_id: account.map(id),
            message: "m".into(),
            controls: Vec::new(),
            about: About {
                accounts: shared_by.iter().map(|a| id(a)).collect(),
                ..About::default()
            },
        }
    }

    fn mute(check: Check, scope: MuteScope, until: &str) -> PlacedMute {
        PlacedMute {
            mute: Mute {
                check,
                scope,
                reason: "why".into(),
                until: parse_date(until).unwrap(),
                path: YamlPath::root(),
            },
            file: "contacts.yaml".into(),
            line: 3,
            column: 7,
        }
    }

    fn organization() -> Organization {
        use crate::model::{AccountStatus, OrgAccount, OrgUnit};
        let unit = |id: &str, name: &str, children| OrgUnit {
            id: id.into(),
            name: name.into(),
            children,
        };
        let account = |account: &str, parents: &[&str]| OrgAccount {
            id: id(account),
            name: account.into(),
            status: AccountStatus::Active,
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            joined: None,
            email: None,
        };
        Organization {
            management_account: id("111111111111"),
            root: unit("r-1", "Root", vec![unit("ou-1", "Workloads", Vec::new())]),
            accounts: vec![
                account("222222222222", &["r-1", "ou-1"]),
                account("333333333333", &["r-1"]),
            ],
            whole: true,
        }
    }

    fn audit(findings: Vec<Finding>) -> Audit {
        Audit {
            accounts: Vec::new(),
            findings,
            muted: Vec::new(),
            dns: crate::audit::DnsAsked::default(),
        }
    }

    fn today() -> Date {
        parse_date("2026-12-08").unwrap()
    }

    #[test]
    fn a_unit_mutes_the_accounts_under_it_by_id_or_path_and_no_other() {
        for unit in [
            UnitSelector::Id("ou-1".into()),
            UnitSelector::Path(vec!["Root".into(), "Workloads".into()]),
        ] {
            let mut audit = audit(vec![
                finding(Check::SharedContact, Some("222222222222"), &[]),
                finding(Check::SharedContact, Some("333333333333"), &[]),
                finding(Check::MissingBilling, Some("222222222222"), &[]),
            ]);
            let mutes = [mute(
                Check::SharedContact,
                MuteScope::Unit(unit),
                "2026-12-08",
            )];
            apply(&mut audit, &mutes, Some(&organization()), today());
            assert_eq!(audit.muted.len(), 1, "the last day still mutes");
            assert_eq!(audit.muted[0].finding.account_id, Some(id("222222222222")));
            assert_eq!(audit.muted[0].muted.until, "2026-12-08");
            assert_eq!(audit.findings.len(), 2, "another account, another check");
        }
    }

    #[test]
    fn a_finding_of_several_accounts_is_muted_only_when_the_mute_covers_them_all() {
        let shared = finding(
            Check::SharedContact,
            None,
            &["222222222222", "333333333333"],
        );
        let mut one = audit(vec![shared.clone()]);
        let account = MuteScope::Account(id("222222222222"));
        apply(
            &mut one,
            &[mute(Check::SharedContact, account, "2027-01-01")],
            None,
            today(),
        );
        assert!(one.muted.is_empty());
        let mut every = audit(vec![shared, finding(Check::DnsUnreachable, None, &[])]);
        let mutes = [
            mute(Check::SharedContact, MuteScope::Every, "2027-01-01"),
            mute(Check::DnsUnreachable, MuteScope::Every, "2027-01-01"),
        ];
        apply(&mut every, &mutes, None, today());
        assert_eq!(
            every.muted.len(),
            2,
            "every account, and the findings of none"
        );
        assert!(every.findings.is_empty());
    }

    #[test]
    fn a_mute_past_its_day_mutes_nothing_and_is_a_finding_at_its_line() {
        let mut audit = audit(vec![finding(
            Check::SharedContact,
            Some("222222222222"),
            &[],
        )]);
        let mutes = [mute(Check::SharedContact, MuteScope::Every, "2026-12-07")];
        apply(&mut audit, &mutes, None, today());
        assert!(audit.muted.is_empty());
        let expired: Vec<&Finding> = audit
            .findings
            .iter()
            .filter(|f| f.check == Check::MuteExpired)
            .collect();
        assert_eq!(expired.len(), 1);
        assert_eq!(
            expired[0].about.location.as_ref().map(ToString::to_string),
            Some("contacts.yaml:3:7".to_owned())
        );
        assert_eq!(audit.findings.len(), 2, "the finding counts again");
    }
}
