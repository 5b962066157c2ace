//! The worker against the real PostgreSQL and Redis and the fake platforms: leases that
//! hold while platforms hang, one start per account, and a router that acknowledges a
//! source only after its rows are committed.

mod common;
mod leases;
mod router;
mod starts;
