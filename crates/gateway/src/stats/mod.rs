//! Statistics: the summary data set aggregated from the log writer's
//! batches into the summary tables ([`summary`]), live request/token rates
//! ([`rates`]), and dashboard time buckets in a client's time zone
//! ([`timespan`]). Nothing here runs on the request path.

pub mod rates;
pub mod summary;
pub mod timespan;
