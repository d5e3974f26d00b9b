//! The reference: a simple paced client, what a careful script would do.
//! One token bucket per operation at the quota (full burst), 48 requests in
//! flight, the SDK's standard retries. No plan, no verification: it only
//! shows how close to the quota bound a plain paced loop gets in the same
//! harness, so altcontacts' figures have something to be read against.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_account::types::AlternateContactType;
use futures::StreamExt;

const IN_FLIGHT: usize = 48;

struct Bucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    async fn take(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().unwrap();
                let now = Instant::now();
                state.0 = (state.0 + (now - state.1).as_secs_f64() * self.rate).min(self.burst);
                state.1 = now;
                if state.0 >= 1.0 {
                    state.0 -= 1.0;
                    return;
                }
                (1.0 - state.0) / self.rate
            };
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

/// Runs the reference job from the environment the harness set; returns
/// the process exit code.
pub fn main_from_env() -> Option<i32> {
    let job = std::env::var("ALTCONTACTS_REFERENCE_JOB").ok()?;
    let endpoint = std::env::var("ALTCONTACTS_REFERENCE_ENDPOINT").ok()?;
    let rate = |name: &str| -> f64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .expect("a rate")
    };
    let (get, put) = (
        rate("ALTCONTACTS_REFERENCE_GET"),
        rate("ALTCONTACTS_REFERENCE_PUT"),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    Some(runtime.block_on(run(&endpoint, job == "apply", get, put)))
}

async fn run(endpoint: &str, apply: bool, get_rate: f64, put_rate: f64) -> i32 {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::standard().with_max_attempts(10))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&config);
    let organizations = aws_sdk_organizations::Client::new(&config);
    let account = aws_sdk_account::Client::new(&config);
    let caller = sts
        .get_caller_identity()
        .send()
        .await
        .expect("the caller")
        .account()
        .unwrap_or_default()
        .to_owned();
    let mut ids = Vec::new();
    let mut pages = organizations.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.expect("a page of accounts");
        ids.extend(
            page.accounts()
                .iter()
                .filter_map(|a| a.id().map(str::to_owned)),
        );
    }
    let gets = Bucket::new(get_rate, get_rate * 1.5);
    let puts = Bucket::new(put_rate, put_rate * 1.6);
    let kinds = [
        AlternateContactType::Security,
        AlternateContactType::Billing,
        AlternateContactType::Operations,
    ];
    let slots: Vec<(String, AlternateContactType)> = ids
        .iter()
        .flat_map(|id| kinds.iter().map(move |kind| (id.clone(), kind.clone())))
        .collect();
    let (gets, account, caller) = (&gets, &account, &caller);
    let missing: Vec<(String, AlternateContactType)> = futures::stream::iter(slots)
        .map(|(id, kind)| async move {
            gets.take().await;
            let result = account
                .get_alternate_contact()
                .set_account_id((id != *caller).then(|| id.clone()))
                .alternate_contact_type(kind.clone())
                .send()
                .await;
            match result {
                Ok(_) => None,
                Err(error) => {
                    let not_found = error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception());
                    Some((id, kind, not_found))
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .filter_map(|missing| async move { missing })
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .filter_map(|(id, kind, not_found)| {
            if !not_found {
                READS_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            not_found.then_some((id, kind))
        })
        .collect();
    let reads_failed = READS_FAILED.load(std::sync::atomic::Ordering::Relaxed);
    if !apply {
        return i32::from(reads_failed);
    }
    let puts = &puts;
    let failed = futures::stream::iter(missing)
        .map(|(id, kind)| async move {
            puts.take().await;
            account
                .put_alternate_contact()
                .set_account_id((id != *caller).then(|| id.clone()))
                .alternate_contact_type(kind)
                .name("Security")
                .title("Team")
                .email_address("security@example.com")
                .phone_number("+1 202 555 0100")
                .send()
                .await
                .is_err()
        })
        .buffer_unordered(IN_FLIGHT)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    i32::from(failed > 0 || reads_failed)
}

/// Whether a read gave up (its retries ran out) rather than found the slot.
static READS_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
