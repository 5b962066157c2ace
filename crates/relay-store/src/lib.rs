//! PostgreSQL: connection, database creation, migrations and (in later modules) the
//! tenant-scoped queries. Also encryption at rest for the secrets stored here.

pub mod crypto;
pub mod db;

pub use db::{Database, DbConfig, StoreError};
