//! The worker against the real PostgreSQL and Redis and the fake platforms: leases that
//! hold while platforms hang, and one start per account.

mod common;
mod leases;
mod starts;
