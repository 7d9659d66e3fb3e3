//! The integration test binary: real servers on 127.0.0.1:0, real clients.

mod a11y;
mod access;
mod browser;
mod chat;
mod cli;
mod commands;
mod compat;
mod driver;
mod household;
mod http;
mod import;
mod keys;
mod layers;
mod library;
mod limits;
mod media;
mod ops;
mod pages;
mod paths;
mod people;
mod range;
mod support;
mod swaps;
mod systemd;
mod trust;
mod user;
