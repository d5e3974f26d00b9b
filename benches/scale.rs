//! Scale benchmarks (DESIGN §5), run with `cargo bench --bench scale`
//! (or `cargo bench --bench scale -- 1000` for one size).
//!
//! (a) plan over N accounts against the emulator enforcing AWS's Account API
//!     quotas times ten with 50 ms latency, reported as the ratio of elapsed
//!     time to the quota bound (3N - burst) / rate; target <= 1.10.
//! (b) plan over N accounts with no quota and no latency, reported as CPU
//!     time per slot and peak memory; target under 100 MB at 10,000 accounts.

#[path = "../tests/it/bench_harness.rs"]
mod bench_harness;
#[path = "../tests/it/emulator.rs"]
mod emulator;

use std::time::Duration;

const LATENCY: Duration = Duration::from_millis(50);
const QUOTA_FACTOR: f64 = 10.0;

fn main() {
    // cargo bench passes `--bench`; any other argument is a number of accounts.
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };

    println!(
        "(a) plan at AWS's Account API quotas x{QUOTA_FACTOR} (Get 100/s, burst 150), {} ms latency",
        LATENCY.as_millis()
    );
    println!(
        "{:>8} {:>7} {:>10} {:>10} {:>7} {:>6}",
        "accounts", "slots", "elapsed", "bound", "ratio", "429s"
    );
    for &accounts in &sizes {
        let result = bench_harness::quota_bound(accounts, QUOTA_FACTOR, LATENCY);
        assert_eq!(result.run.exit_code, 0, "the plan failed");
        println!(
            "{:>8} {:>7} {:>9.1}s {:>9.1}s {:>7.3} {:>6}",
            accounts,
            3 * accounts,
            result.run.elapsed.as_secs_f64(),
            result.bound.as_secs_f64(),
            result.ratio,
            result.throttled
        );
    }
    println!("target: ratio <= 1.10\n");

    println!("(b) plan with no quota and no latency");
    println!(
        "{:>8} {:>7} {:>10} {:>10} {:>12} {:>10}",
        "accounts", "slots", "elapsed", "cpu", "cpu/slot", "peak RSS"
    );
    for &accounts in &sizes {
        let result = bench_harness::unlimited(accounts);
        assert_eq!(result.run.exit_code, 0, "the plan failed");
        println!(
            "{:>8} {:>7} {:>9.2}s {:>9.2}s {:>10.1}µs {:>8.1}MB",
            accounts,
            3 * accounts,
            result.run.elapsed.as_secs_f64(),
            result.run.cpu.as_secs_f64(),
            result.cpu_per_slot.as_secs_f64() * 1e6,
            result.run.max_rss_bytes as f64 / 1_048_576.0
        );
    }
    println!("target: peak RSS under 100 MB at 10,000 accounts");
}
