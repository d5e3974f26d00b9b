//! Integration tests, in one binary so the SDK is linked once.

mod bad_input;
mod bench_harness;
mod bench_smoke;
mod cli_apply;
mod cli_org;
mod cli_plan;
mod deliverability;
mod dns_server;
mod emulator;
mod github_api;
mod gitlab_api;
mod gitlab_loop;
mod gitops;
mod guardrail;
mod hostile;
mod interop;
mod interrupts;
mod moto;
mod pipeline_runner;
mod primary;
mod properties;
mod release;
mod rough_aws;
mod ship;
mod support;
mod workflow_runner;
