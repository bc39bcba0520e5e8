//! Serves a directory that mirrors the ministry's URL paths on loopback, as the tests do (ETag and
//! Last-Modified with 304, robots.txt redirecting to error.htm), for `scripts/bench-ingest`.
//! Prints its base URL on the first line of stdout and serves until killed.

#[path = "../tests/it/support.rs"]
mod support;

fn main() {
    let Some(root) = std::env::args_os().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: corpus_server SITE_ROOT (e.g. corpus/mfa-2020/site/www.fmprc.gov.cn)");
        std::process::exit(2);
    };
    if !root.is_dir() {
        eprintln!("corpus_server: {} is not a directory", root.display());
        std::process::exit(2);
    }
    let server = support::SiteServer::start(root);
    println!("{}", server.url(""));
    loop {
        std::thread::park();
    }
}
