//! Link options for the static release binary only (`+crt-static`, the
//! README's command): relative relocations packed (DT_RELR: half a
//! megabyte of relocation entries become a few kilobytes, with the
//! address randomisation of a position-independent binary kept), and, for
//! x86-64, where Rust links with its own LLD, identical functions folded
//! into one. Nothing changes for other builds (tests, `--release`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "linux" || !features.split(',').any(|f| f == "crt-static") {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "x86_64") {
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
}
