//! Switchyard: an AI gateway, drop-in compatible with AI Proxy.
//!
//! Request path: [`ingress`] (protocol handlers, body cap) → [`auth`]
//! (key → token → group, from the in-memory [`snapshot`]) → [`relay`]
//! (model resolution, [`routing`], [`providers`], upstream call, streaming,
//! retries) → [`logs`] (bounded queue, batched writes to the [`store`]).
//! The [`admin`] API edits configuration in the store and reloads the
//! snapshot; [`sync`] keeps several instances in step.

pub mod admin;
pub mod app;
pub mod auth;
pub mod billing;
pub mod channel_balance;
pub mod channel_test;
pub mod config;
pub mod error;
pub mod gather;
pub mod header_text;
pub mod ingress;
pub mod limits;
pub mod logs;
pub mod model;
pub mod notify;
pub mod periodic;
pub mod providers;
pub mod quota;
pub mod relay;
pub mod routing;
pub mod secrets;
pub mod snapshot;
pub mod state;
pub mod stats;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod watch;

pub use app::App;
pub use config::{Cli, Config};
