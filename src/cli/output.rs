//! Writing to stdout without panicking when the reader goes away (`loopbench ... | head`).

use std::io::Write;

/// Writes `text` to stdout; a closed pipe becomes an error that [`is_broken_pipe`] recognises.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// True when the error is a write to a closed pipe: a normal way for output to end.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
