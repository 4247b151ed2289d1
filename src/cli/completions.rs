//! `loopbench completions SHELL` and `loopbench man`: shell completion scripts (clap_complete)
//! and manual pages (clap_mangen), generated from the same parser as the commands themselves.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use clap_complete::Shell;

use super::output::print;

/// Print a shell completion script.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench completions bash > /etc/bash_completion.d/loopbench
  loopbench completions zsh > ~/.zfunc/_loopbench
  loopbench completions fish > ~/.config/fish/completions/loopbench.fish")]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

/// Print the manual page, or write one page per subcommand.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench man | man -l -
  loopbench man --dir /usr/local/share/man/man1")]
pub struct ManArgs {
    /// Write loopbench.1 and a loopbench-<subcommand>.1 for every subcommand into this
    /// existing directory instead of printing loopbench.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script of `command` for the chosen shell.
pub fn completions(args: CompletionsArgs, mut command: clap::Command) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "loopbench", &mut script);
    print(&String::from_utf8(script)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the manual page of `command`, or writes every page into `--dir`.
pub fn man(args: ManArgs, command: clap::Command) -> Result<ExitCode> {
    match &args.dir {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(crate::error::ConfigError::Invalid(format!(
                    "--dir {}: not a directory; create it first or name another",
                    dir.display()
                ))
                .into());
            }
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            print(&String::from_utf8(page)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
