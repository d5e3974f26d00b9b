//! Keeps the benchmark harness working: a small run of each measurement.
//! Its figures are not judged here (speed is for `cargo bench`), only that
//! the harness runs the binary and reads real numbers off it.

use std::time::Duration;

use crate::bench_harness::{Client, Job, Scenario, quota_bound, unlimited};

#[test]
fn the_benchmark_harness_measures_small_plans_and_applies() {
    let scenario = Scenario {
        accounts: 60,
        factor: 10.0,
        real_share: 1.0,
        latency: Duration::from_millis(5),
        latency_tail: Duration::from_millis(5),
        job: Job::Plan,
    };
    let bounded = quota_bound(scenario, &Client::Altcontacts);
    assert_eq!(bounded.run.exit_code, 0);
    assert_eq!(
        bounded.bound,
        Duration::from_millis(300),
        "(180 slots - 150 burst) / 100 per second"
    );
    assert!(
        bounded.run.elapsed >= bounded.bound,
        "the emulator's quota cannot be beaten: {bounded:?}"
    );
    assert!(bounded.ratio.is_finite());

    let apply = quota_bound(
        Scenario {
            job: Job::Apply,
            ..scenario
        },
        &Client::Altcontacts,
    );
    assert_eq!(apply.run.exit_code, 0);
    assert_eq!(apply.slots_wrong_after, 0, "every missing SECURITY written");
    assert_eq!(
        apply.bound,
        Duration::from_millis(300),
        "the reads' bound; 60 writes fit in the Put burst of 80"
    );

    let free = unlimited(50);
    assert_eq!(free.run.exit_code, 0);
    assert!(
        free.run.cpu > Duration::ZERO && free.run.max_rss_bytes > 1_000_000,
        "{free:?}"
    );
    assert_eq!(free.cpu_per_slot, free.run.cpu / 150);
}
