//! The commit and branch being measured, from git when the command runs in a repository:
//! `git rev-parse HEAD` and `git rev-parse --abbrev-ref HEAD` (`HEAD` on a detached checkout,
//! as CI systems make, gives no branch). CI systems that check out a detached commit usually say
//! the branch in an environment variable; [`BRANCH_ENV`] is read first.

use std::path::Path;
use std::process::Command;

/// Environment variables that name the branch on common CI systems, read in this order when
/// git has none (a detached checkout): GitHub Actions, GitLab CI, Buildkite, Jenkins.
pub const BRANCH_ENV: &[&str] = &[
    "GITHUB_HEAD_REF",
    "GITHUB_REF_NAME",
    "CI_COMMIT_REF_NAME",
    "BUILDKITE_BRANCH",
    "BRANCH_NAME",
];

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The commit checked out in `dir`, or `None` outside a repository (or without git).
pub fn commit(dir: &Path) -> Option<String> {
    git(dir, &["rev-parse", "HEAD"])
}

/// The branch checked out in `dir`; on a detached checkout the first of [`BRANCH_ENV`] that is
/// set; `None` outside a repository.
pub fn branch(dir: &Path) -> Option<String> {
    let name = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    if name != "HEAD" {
        return Some(name);
    }
    BRANCH_ENV
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_has_a_commit_and_a_directory_without_one_has_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(commit(dir.path()), None);
        assert_eq!(branch(dir.path()), None);
        let run = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(ok, "git {args:?}");
        };
        run(&["init", "-q", "-b", "trunk"]);
        run(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ]);
        let sha = commit(dir.path()).unwrap();
        assert_eq!(sha.len(), 40, "{sha}");
        assert_eq!(branch(dir.path()).as_deref(), Some("trunk"));
    }
}
