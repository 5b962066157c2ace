//! The API over real HTTP, against the real PostgreSQL (a database per test) and Redis
//! (a key prefix per test).

mod accounts;
mod admin;
mod auth;
mod helpers;
mod pairs;
mod payments;
mod plans;
mod skeleton;
mod telegram_login;
mod tenancy;
