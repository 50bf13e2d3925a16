//! Integration tests: the real gateway over real sockets, real databases,
//! fake upstream providers. One test binary keeps link time down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

mod accounting;
mod admin_channels;
mod admin_models_options;
mod admin_tenants;
mod alerts;
mod balances;
mod channel_tests;
mod client_timeouts;
mod dashboard;
mod fastgpt;
mod keys_at_rest;
mod limits;
mod log_storage;
mod logs;
mod logs_export;
mod metrics;
mod monitor_api;
mod openapi;
mod process;
mod relay_anthropic;
mod relay_bedrock;
mod relay_chat;
mod relay_errors;
mod relay_gemini;
mod relay_lanes;
mod relay_responses;
mod relay_routing;
mod relay_vertex;
mod serve;
mod watch;
