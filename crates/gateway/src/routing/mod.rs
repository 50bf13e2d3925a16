//! Choosing the upstream channel for a request.
//!
//! [`monitor`] keeps a 2-minute error-rate window per (channel, model) and
//! temporary bans; [`select`] picks among candidate channels by priority and
//! recent error rate (AI Proxy's weighting), skipping excluded, banned and
//! failing channels unless nothing else is left.

pub mod monitor;
pub mod select;

pub use monitor::Monitor;
