//! The `loopbench` binary: everything lives in the library; see `loopbench --help`.

fn main() -> std::process::ExitCode {
    loopbench::cli::main_with_args(std::env::args_os())
}
