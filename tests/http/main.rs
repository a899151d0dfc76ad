//! The gateway's routes through its router (`oneshot`), in front of the four
//! real services over real gRPC on SQLite.

mod api;
mod client;
mod web;
