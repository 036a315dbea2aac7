//! Input files as the commands open them: a path, `-` for standard input, or a pipe.
//!
//! A regular file is opened by path, as often as a command needs it. Standard input, a
//! FIFO or `/dev/stdin` can be read only once: files read whole are read once into memory,
//! and an orders file, which `route` and `explain` read twice (check every line, then
//! route), is checked while it is copied to a temporary spool and then routed from it.

use crate::Failure;
use sourcing_engine::load::{self, InventoryRecord, LoadErrors, StockEvent};
use sourcing_engine::{Network, Order};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The argument that means standard input.
pub const STDIN: &str = "-";

/// How standard input is named in problems (`<stdin>:3:14: …`).
const STDIN_NAME: &str = "<stdin>";

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// The name problems show for an input.
pub fn name(path: &Path) -> String {
    if is_stdin(path) {
        STDIN_NAME.to_string()
    } else {
        crate::cmd::output::shown(&path.display().to_string()).into_owned()
    }
}

/// Standard input can be read once: at most one input may be `-`.
pub fn at_most_one_stdin<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<(), Failure> {
    if paths.into_iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err(Failure::Usage(
            "only one input can be `-` (standard input is read once)".into(),
        ));
    }
    Ok(())
}

fn cannot_read(name: &str, e: &io::Error) -> Failure {
    Failure::Input(format!("{name}:1:1: cannot read file: {e}"))
}

fn failed(errors: LoadErrors) -> Failure {
    Failure::Input(errors.to_string())
}

/// A whole input as bytes, with the name its problems show.
pub fn read(path: &Path) -> Result<(String, Vec<u8>), Failure> {
    let name = name(path);
    let bytes = if is_stdin(path) {
        let mut bytes = Vec::new();
        io::stdin().lock().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    bytes
        .map(|b| (name.clone(), b))
        .map_err(|e| cannot_read(&name, &e))
}

/// Reads `network.json`.
pub fn network(path: &Path) -> Result<Network, Failure> {
    let (name, bytes) = read(path)?;
    load::network_from_bytes(&name, &bytes).map_err(failed)
}

/// Reads the stock: `.json` as JSON, anything else as CSV; standard input is JSON when its
/// first character is `[` or `{` (a CSV header starts with a column name).
pub fn inventory(path: &Path, network: &Network) -> Result<Vec<InventoryRecord>, Failure> {
    let (name, bytes) = read(path)?;
    let is_json = if is_stdin(path) {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        matches!(
            text.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'[' | b'{')
        )
    } else {
        path.extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
    };
    load::inventory_from_bytes(&name, &bytes, is_json, network).map_err(failed)
}

/// Reads a stock events file.
pub fn events(path: &Path, network: &Network) -> Result<Vec<StockEvent>, Failure> {
    let (name, bytes) = read(path)?;
    load::events_from_bytes(&name, &bytes, network).map_err(failed)
}

/// Opens an input for one pass.
fn open(path: &Path) -> Result<Box<dyn BufRead>, Failure> {
    if is_stdin(path) {
        return Ok(Box::new(io::stdin().lock()));
    }
    let file = File::open(path).map_err(|e| cannot_read(&name(path), &e))?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
}

/// Reads every order into memory in one pass.
pub fn orders(path: &Path, network: &Network) -> Result<Vec<Order>, Failure> {
    load::read_orders(&name(path), open(path)?, network).map_err(failed)
}

/// An orders file whose every line has been checked, ready to be read again from the top.
pub struct CheckedOrders {
    /// The name problems show.
    pub name: String,
    /// A regular file is read again from its path; anything else from its spool.
    source: Source,
}

enum Source {
    Path(PathBuf),
    Spool(tempfile::NamedTempFile),
}

impl CheckedOrders {
    /// Checks every line (and that ids are unique) in one pass. A regular file is only
    /// read; anything else is copied to a temporary spool on the way.
    pub fn check(path: &Path, network: &Network) -> Result<CheckedOrders, Failure> {
        let name = name(path);
        let regular = !is_stdin(path) && std::fs::metadata(path).is_ok_and(|m| m.is_file());
        if regular {
            load::check_orders(&name, open(path)?, network).map_err(failed)?;
            return Ok(CheckedOrders {
                name,
                source: Source::Path(path.to_path_buf()),
            });
        }
        let reader = open(path)?;
        // The path is marked for removal before the file exists, so an interrupt at any
        // moment leaves no spool behind.
        let spool = tempfile::Builder::new()
            .make(|path| {
                crate::cmd::out_dir::remove_on_interrupt(path);
                std::fs::File::options()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(path)
            })
            .map_err(|e| Failure::Input(format!("{name}: cannot create a spool file: {e}")))?;
        let spool_error = |e: io::Error| Failure::Input(format!("{name}: cannot spool: {e}"));
        let mut tee = Tee {
            inner: reader,
            copy: BufWriter::with_capacity(1 << 16, spool.as_file()),
            error: None,
        };
        load::check_orders(&name, &mut tee, network).map_err(failed)?;
        if let Some(e) = tee.error.take() {
            return Err(spool_error(e));
        }
        tee.copy.flush().map_err(spool_error)?;
        drop(tee);
        Ok(CheckedOrders {
            name,
            source: Source::Spool(spool),
        })
    }

    /// The orders from the first line.
    pub fn reader(&self) -> Result<BufReader<File>, Failure> {
        let file = match &self.source {
            Source::Path(path) => File::open(path),
            Source::Spool(spool) => spool.reopen(),
        };
        file.map(|f| BufReader::with_capacity(1 << 16, f))
            .map_err(|e| cannot_read(&self.name, &e))
    }
}

/// A reader that copies every byte consumed from it to a writer.
struct Tee<R, W> {
    inner: R,
    copy: W,
    /// The first write error; the copy stops there and the caller reports it.
    error: Option<io::Error>,
}

impl<R: BufRead, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        keep(
            &mut self.copy,
            &mut self.error,
            buf.get(..n).unwrap_or_default(),
        );
        Ok(n)
    }
}

impl<R: BufRead, W: Write> BufRead for Tee<R, W> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if amt > 0 {
            // The bytes being consumed are still in the buffer: this does not read.
            if let Ok(buf) = self.inner.fill_buf() {
                keep(
                    &mut self.copy,
                    &mut self.error,
                    buf.get(..amt).unwrap_or(buf),
                );
            }
        }
        self.inner.consume(amt);
    }
}

/// Copies `bytes` unless an earlier copy failed; keeps the first error.
fn keep(copy: &mut impl Write, error: &mut Option<io::Error>, bytes: &[u8]) {
    if error.is_none() {
        if let Err(e) = copy.write_all(bytes) {
            *error = Some(e);
        }
    }
}
