//! Test harness: the real gateway on a port-0 socket with a real database
//! (a temp SQLite file, or a fresh PostgreSQL database when
//! TEST_DATABASE_URL is set), plus scriptable fake upstream servers.

pub mod admin;
pub mod anthropic;
pub mod db;
pub mod gateway;
pub mod upstream;

pub use gateway::Gateway;
pub use upstream::{FakeUpstream, Reply};
