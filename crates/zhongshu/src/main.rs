//! `zhongshu`: the one binary. It parses the command line, loads the layered settings and calls
//! the library crates; nothing else lives here.
//!
//! Exit status: 0 success, 2 bad input (a Chinese message on stderr), 3 when `audit verify`
//! finds the chain broken, 1 an internal error.

mod cli;
mod settings;

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("无法启动运行时：{err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", err.message);
            ExitCode::from(err.exit)
        }
    }
}
