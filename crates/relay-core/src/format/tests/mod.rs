//! Tests across the converters: property tests and the golden table.

mod golden;
mod meaning;
mod props;
mod strategies;
