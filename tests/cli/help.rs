//! Every subcommand's `--help` has examples, each a command line that can be copied and pasted:
//! not re-wrapped at 80 columns, and accepted by the argument parser. Also the generated shell
//! completions and manual pages.

use clap::CommandFactory;

use crate::helpers::loopbench;

/// Help is rendered this wide: the narrowest terminal an example line must survive unwrapped.
const WIDTH: usize = 80;

/// Every visible subcommand (nested ones too) with its path, e.g. `["history", "check"]`.
fn subcommands() -> Vec<(Vec<String>, clap::Command)> {
    let mut root = loopbench::cli::Cli::command().term_width(WIDTH);
    root.build();
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<String>, clap::Command)> = root
        .get_subcommands()
        .map(|c| (vec![c.get_name().to_string()], c.clone()))
        .collect();
    while let Some((path, cmd)) = stack.pop() {
        if cmd.is_hide_set() || cmd.get_name() == "help" {
            continue;
        }
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            stack.push((p, sub.clone()));
        }
        out.push((path, cmd));
    }
    out
}

/// The example commands of a help text: the indented lines after `Examples:` up to the first
/// line that is not indented, with `\` continuations joined.
fn examples(help: &str) -> Vec<String> {
    let mut lines = help.lines().skip_while(|l| l.trim() != "Examples:").skip(1);
    let mut out: Vec<String> = Vec::new();
    let mut continued = false;
    for line in lines.by_ref() {
        if !line.starts_with("  ") {
            break;
        }
        let text = line.trim();
        let (text, more) = match text.strip_suffix('\\') {
            Some(t) => (t.trim_end(), true),
            None => (text, false),
        };
        if continued {
            let last = out.last_mut().expect("a continued line follows a command");
            last.push(' ');
            last.push_str(text);
        } else {
            out.push(text.to_string());
        }
        continued = more;
    }
    out
}

/// The arguments of an example as the shell passes them: words split as a POSIX shell does,
/// `sudo` and `VAR=value` prefixes dropped, and cut at the first redirection or pipe.
fn argv(example: &str) -> Option<Vec<String>> {
    let words = shlex::split(example)?;
    let start = words
        .iter()
        .position(|w| w == "loopbench")
        .filter(|&i| words[..i].iter().all(|w| w == "sudo" || w.contains('=')))?;
    Some(
        words[start..]
            .iter()
            .take_while(|w| !(w.starts_with('>') || w.starts_with('|') || w.starts_with("2>")))
            .cloned()
            .collect(),
    )
}

#[test]
fn every_help_example_is_one_line_or_continued_and_parses() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, mut cmd) in subcommands() {
        let name = path.join(" ");
        let help = cmd.render_long_help().to_string();
        let found = examples(&help);
        if found.is_empty() && cmd.get_subcommands().next().is_none() {
            failures.push(format!("`{name} --help` has no examples"));
        }
        for example in found {
            let Some(args) = argv(&example) else {
                failures.push(format!(
                    "`{name}`: `{example}` is not a loopbench command line (re-wrapped at \
                     {WIDTH} columns?)"
                ));
                continue;
            };
            checked += 1;
            if let Err(e) = <loopbench::cli::Cli as clap::Parser>::try_parse_from(&args) {
                failures.push(format!("`{name}`: `{example}` does not parse: {e}"));
            }
        }
    }
    assert!(checked > 50, "only {checked} examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn completions_and_manual_pages_are_generated() {
    let bash = loopbench().args(["completions", "bash"]).assert().success();
    let script = String::from_utf8_lossy(&bash.get_output().stdout).into_owned();
    assert!(script.contains("_loopbench()"), "{script}");
    assert!(
        script.contains("--export-markdown"),
        "every flag is completed"
    );
    for shell in ["zsh", "fish"] {
        let out = loopbench().args(["completions", shell]).assert().success();
        assert!(!out.get_output().stdout.is_empty(), "{shell}");
    }
    let man = loopbench().arg("man").assert().success();
    let page = String::from_utf8_lossy(&man.get_output().stdout).into_owned();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH loopbench"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    for page in [
        "loopbench.1",
        "loopbench-compare.1",
        "loopbench-history-check.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
}
