//! PostgreSQL: connection, database creation, migrations and (in later modules) the
//! tenant-scoped queries. Also encryption at rest for the secrets stored here.

pub mod crypto;
pub mod db;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use db::{Database, DbConfig, StoreError};

#[cfg(test)]
mod schema_tests;
