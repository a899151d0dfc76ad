//! The `atelier` binary's library: every role of the shop, startable alone
//! (`atelier serve <role>`, or its own binary `atelier-<role>`) or all together in one process (the embedded
//! default), plus seeding.

pub mod cli;
pub mod embedded;
pub mod roles;
pub mod seed;
pub mod serve;

pub use roles::{Shutdown, StartedServices, start_services};
