//! Whether the kernel will let a server bind a Unix socket at a path, or a client connect to
//! one: checked before the first socket exists, so a path under a regular file, in a missing or
//! unwritable directory, on top of a file that is not a socket, or where no socket is, is an
//! exit-2 error that names the flag, not a failed case.

use std::io::ErrorKind;
use std::path::Path;

use nix::unistd::{AccessFlags, access};

use crate::error::ConfigError;

/// Refuses a Unix socket path given with `flag` that bind() would refuse: its directory must
/// exist, be a directory and be writable, and the path must be free or an old socket (a stale
/// one is removed when the server binds).
pub fn check_bindable(flag: &str, path: &Path) -> Result<(), ConfigError> {
    let refuse = |why: String| {
        ConfigError::Invalid(format!(
            "{flag} {}: {why}; give a socket path in an existing, writable directory (or an \
             @abstract name)",
            path.display()
        ))
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(refuse(format!("{} is not a directory", dir.display()))),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(refuse(format!(
                "the directory {} does not exist",
                dir.display()
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotADirectory => {
            return Err(refuse(format!(
                "a part of {} is a file, not a directory",
                dir.display()
            )));
        }
        Err(e) => return Err(refuse(format!("cannot look at {}: {e}", dir.display()))),
    }
    if access(dir, AccessFlags::W_OK | AccessFlags::X_OK).is_err() {
        return Err(refuse(format!(
            "cannot create a socket file in {}: no write permission",
            dir.display()
        )));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => Err(refuse(
            "it exists and is not a socket (loopbench never replaces such a file)".into(),
        )),
        _ => Ok(()),
    }
}

/// Refuses a Unix socket path given with `flag` that a client cannot connect to: nothing there,
/// or a file that is not a socket.
pub fn check_connectable(flag: &str, path: &Path) -> Result<(), ConfigError> {
    let why = match std::fs::metadata(path) {
        Ok(meta) if std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => return Ok(()),
        Ok(_) => "it is not a socket",
        Err(e) if e.kind() == ErrorKind::NotFound => "there is no socket there",
        Err(e) if e.kind() == ErrorKind::NotADirectory => "a part of it is a file, not a directory",
        Err(_) => "it cannot be looked at",
    };
    Err(ConfigError::Invalid(format!(
        "{flag} {}: {why}; start the server first and give the path it listens on (its \
         \"listening\" line says it)",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(path: &Path, phrase: &str) {
        let err = check_bindable("--addr", path).unwrap_err().to_string();
        assert!(err.contains("--addr") && err.contains(phrase), "{err}");
    }

    #[test]
    fn a_path_bind_would_refuse_is_refused_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        says(&file.join("x.sock"), "is not a directory");
        says(&file.join("deeper/x.sock"), "is a file, not a directory");
        says(&tmp.path().join("missing/x.sock"), "does not exist");
        says(&file, "exists and is not a socket");
        check_bindable("--addr", &tmp.path().join("x.sock")).unwrap();
    }

    #[test]
    fn a_client_connects_only_to_a_socket_that_is_there() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("live.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        check_connectable("--connect", &path).unwrap();
        let err = |p: &Path| check_connectable("--connect", p).unwrap_err().to_string();
        assert!(err(&tmp.path().join("none.sock")).contains("there is no socket there"));
        std::fs::write(tmp.path().join("file"), b"x").unwrap();
        assert!(err(&tmp.path().join("file")).contains("it is not a socket"));
        assert!(err(&tmp.path().join("file/x")).contains("is a file, not a directory"));
    }

    #[test]
    fn an_old_socket_file_is_fine_it_is_replaced_when_the_server_binds() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("old.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        check_bindable("--addr", &path).unwrap();
    }
}
