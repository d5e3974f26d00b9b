//! Keeps the benchmark harness honest: a small run of each measurement.
//! Its figures are not judged here (speed is for `cargo bench`), only that
//! each row measures the work it names: a plan that read nothing, or an
//! apply that wrote nothing, would be fast and wrong.

use std::time::Duration;

use crate::bench_harness::{
    Client, Job, Scenario, event_apply, quota_bound, sandbox_apply, unlimited, validate_nested,
    validate_problems,
};

#[test]
fn the_quota_rows_measure_a_plan_that_reads_every_slot_and_an_apply_that_writes() {
    let scenario = Scenario {
        accounts: 60,
        factor: 10.0,
        real_share: 1.0,
        latency: Duration::from_millis(5),
        latency_tail: Duration::from_millis(5),
        job: Job::Plan,
    };
    let plan = quota_bound(scenario, &Client::Altcontacts);
    assert_eq!(plan.run.exit_code, 0, "{}", plan.run.stderr);
    assert_eq!(plan.slots_read, 180, "every slot of 60 accounts");
    assert_eq!(plan.writes, 0, "a plan writes nothing");
    // Beating the server's quota would mean the emulator did not enforce it,
    // and the ratio would compare against nothing.
    assert!(plan.run.elapsed >= plan.bound, "{plan:?}");

    let apply = quota_bound(
        Scenario {
            job: Job::Apply,
            ..scenario
        },
        &Client::Altcontacts,
    );
    assert_eq!(apply.run.exit_code, 0, "{}", apply.run.stderr);
    assert_eq!(apply.writes, 60, "the missing SECURITY of each account");
    assert_eq!(apply.slots_wrong_after, 0, "{}", apply.run.stderr);
}

#[test]
fn the_unlimited_row_measures_a_whole_plan() {
    let free = unlimited(50);
    assert_eq!(free.run.exit_code, 0, "{}", free.run.stderr);
    assert_eq!(free.slots_read, 150, "every slot of 50 accounts");
    assert!(free.run.max_rss_bytes > 1_000_000, "{free:?}");
}

#[test]
fn the_own_cost_rows_measure_the_work_they_name() {
    let apply = sandbox_apply(30);
    assert_eq!(apply.run.exit_code, 0, "{}", apply.run.stderr);
    assert_eq!(
        apply.outcome, "0 changes left after it",
        "{}",
        apply.run.stderr
    );

    let event = event_apply(40);
    assert_eq!(event.run.exit_code, 0, "{}", event.run.stderr);
    assert_eq!(
        event.outcome, "0 changes left for the new account, 100 for the 40 others",
        "the new account's SECURITY, BILLING and OPERATIONS written, no other's: {}",
        event.run.stderr
    );

    let problems = validate_problems(40);
    assert_eq!(problems.run.exit_code, 1, "{}", problems.run.stderr);
    assert_eq!(problems.outcome, "40 of 40 problems located");

    let nested = validate_nested(10_000);
    assert_eq!(nested.run.exit_code, 1, "{}", nested.run.stderr);
    assert!(
        nested.outcome.starts_with("contacts.yaml:2:")
            && nested.outcome.ends_with("recursion limit exceeded"),
        "{}",
        nested.outcome
    );
}

#[test]
fn the_event_row_writes_the_new_account_and_no_other() {
    let row = crate::bench_harness::event_over_the_network(
        40,
        Duration::from_millis(1),
        Duration::from_millis(1),
    );
    assert_eq!(row.run.exit_code, 0, "{}", row.run.stderr);
    assert_eq!(row.written, 3, "the new account's three slots");
    assert_eq!(row.written_elsewhere, 0, "no other account's");
    assert_eq!(
        row.account_calls, 9,
        "three reads, three writes and their read-backs: all the Account API saw"
    );
    // DescribeOrganization, ListRoots, DescribeAccount, then ListParents up
    // from the account (its unit, then the root) and the unit's name:
    // nothing grows with the organization.
    assert_eq!(
        row.organizations_calls, 6,
        "one account looked up, not the organization listed"
    );
}

#[test]
fn the_report_row_measures_a_page_that_holds_every_finding_and_filters() {
    let cost = crate::bench_harness::html_report(30, &crate::audit_report::playwright());
    // Five per account: the slots missing and the addresses outside the
    // allowed domain (three in all), the four-contacts rule, no guardrail;
    // the management account is the guardrail's exception.
    assert_eq!(cost.findings, 30 * 5 - 1, "{}", cost.audit.stderr);
    assert!(cost.bytes > 0);
    // A SECURITY contact missing, in a third of the accounts.
    let high = 30 / 3;
    assert_eq!(
        cost.shown,
        format!(
            "Showing {high} of {high} findings ({} in all)",
            cost.findings
        ),
        "the filter kept the high findings only"
    );
}

#[test]
fn the_member_role_rows_measure_reads_and_writes_made_by_each_account_itself() {
    use crate::bench_harness::{MemberJob, member_roles};
    let assume = crate::emulator::Quota {
        rate: 100.0,
        burst: 20.0,
    };
    let small = Duration::from_millis(5);
    let plan = member_roles(40, MemberJob::Plan, small, small, assume);
    assert_eq!(plan.run.exit_code, 0, "{}", plan.run.stderr);
    assert_eq!(plan.assumed, 39, "every member account once");
    assert_eq!(
        plan.notice_reads,
        3 * 40,
        "three topics of every account, the caller's too"
    );
    assert_eq!(
        plan.by_members,
        3 * 39 + 3 * 39,
        "every member slot and topic read by itself"
    );
    let contacts_alone = member_roles(40, MemberJob::PlanWithoutNotices, small, small, assume);
    assert_eq!(
        contacts_alone.run.exit_code, 0,
        "{}",
        contacts_alone.run.stderr
    );
    assert_eq!(contacts_alone.notice_reads, 0, "`notices: none` reads none");
    assert_eq!(contacts_alone.by_members, 3 * 39);
    let apply = member_roles(40, MemberJob::Apply, small, small, assume);
    assert_eq!(apply.run.exit_code, 0, "{}", apply.run.stderr);
    assert_eq!(apply.slots_wrong_after, 0, "{}", apply.run.stderr);
    let audit = member_roles(40, MemberJob::Audit, small, small, assume);
    assert!(
        [0, 2].contains(&audit.run.exit_code),
        "{}",
        audit.run.stderr
    );
    assert_eq!(
        audit.by_members,
        4 * 39 + 3 * 39,
        "the primary contact too, and each contact's topics"
    );
}
