//! Every RPC of the four services over real gRPC (real sockets), on SQLite
//! and on PostgreSQL.

mod auth;
mod authorization;
mod cart;
mod concurrency;
mod harness;
mod orders;
mod product;
mod scale;
mod search;
