//! HTTP on hyper 1.x: accept loop and shutdown (`server`), the threads that
//! keep connections (`lanes`), the route table and routing (`route`),
//! range parsing (`range`), file streaming (`stream`, zero-copy through
//! `zerocopy`) with handles of hot files (`files`), bodies (`body`) and their compression (`compress`), listings from the URL (`listing`), the
//! API document (`openapi`), handlers, maud pages, embedded assets, and the
//! single error-to-response mapping (`error`).
//!
//! Never builds a file system path from request input: videos are looked up
//! in the catalog by id or by the exact root-relative path the scan found.

pub mod assets;
pub mod body;
pub mod clients;
pub mod compress;
pub mod conditional;
pub mod error;
pub mod files;
pub mod guard;
pub mod handlers;
pub mod idle;
pub mod lanes;
pub mod listing;
pub mod openapi;
pub mod pages;
pub mod range;
pub mod route;
pub mod server;
pub mod stream;
pub mod zerocopy;
