//! Plans for the renderers' tests.

use super::PlanView;
use crate::model::{
    AccountId, AccountInfo, AccountStatus, Contact, ContactType, SkipReason, SkippedAccount, Slot,
    Source, Value,
};
use crate::plan::{Action, Change, Plan};
use crate::render::Header;
use crate::safety::{Safety, SafetyCheck};

pub fn contact(email: &str) -> Value {
    Value::Alternate(Contact {
        name: "Security Operations Team".into(),
        title: "Security".into(),
        email_address: email.into(),
        phone_number: "+1 202 555 0100".into(),
    })
}

/// A plan of `each` creates, updates and deletes, over one account per change.
pub fn plan_of(each: usize) -> Plan {
    let mut plan = Plan::default();
    for n in 0..3 * each {
        let account = AccountId::parse(&format!("{:012}", 100_000_000_000u64 + n as u64)).unwrap();
        let action = match n % 3 {
            0 => Action::Create {
                after: contact("new@example.com"),
            },
            1 => Action::Update {
                before: contact("old@example.com"),
                after: contact("new@example.com"),
            },
            _ => Action::Delete {
                before: contact("old@example.com"),
            },
        };
        plan.accounts.insert(
            account.clone(),
            AccountInfo {
                name: Some(format!("Account {n}")),
                email: None,
            },
        );
        plan.changes.push(Change {
            account_name: Some(format!("Account {n}")),
            slot: Slot::new(account, ContactType::Security),
            source: Source::Defaults,
            action,
        });
    }
    plan.skipped.push(SkippedAccount {
        id: AccountId::parse("999999999990").unwrap(),
        name: Some("Closed".into()),
        status: AccountStatus::Suspended,
        reason: SkipReason::NotActive,
    });
    plan
}

pub fn view(plan: &Plan) -> PlanView<'_> {
    let header = Header {
        target: "AWS".into(),
        caller: AccountId::parse("999999999999").unwrap(),
        member_role: None,
    };
    let safety = SafetyCheck {
        breaches: Vec::new(),
        limits: Safety::default(),
    };
    PlanView::new(plan, header, safety)
}
