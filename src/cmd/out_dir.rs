//! Output folders that hold one complete run: the run is written into a fresh folder
//! beside the target (`.NAME.tmp-PID`, same parent, so renaming stays on one file system)
//! and swapped in at the end. A failed or interrupted run leaves the previous run as it
//! was and removes its own temporary files, also on SIGINT and SIGTERM.

use crate::Failure;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Paths removed if the process is interrupted.
static DOOMED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes `path` (a file or a folder) if the process is interrupted before
/// [`keep_on_interrupt`] is called for it.
pub fn remove_on_interrupt(path: &Path) {
    static HANDLER: OnceLock<()> = OnceLock::new();
    HANDLER.get_or_init(|| {
        // Without a handler the default action still ends the process; only the
        // clean-up would be lost, so a failure to install it is not an error.
        let _ = ctrlc::set_handler(|| {
            if let Ok(paths) = DOOMED.lock() {
                for path in paths.iter() {
                    let _ = std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path));
                }
            }
            // 128 + SIGINT, as a shell reports an interrupted command.
            std::process::exit(130);
        });
    });
    if let Ok(mut paths) = DOOMED.lock() {
        paths.push(path.to_path_buf());
    }
}

/// Forgets a path given to [`remove_on_interrupt`].
pub fn keep_on_interrupt(path: &Path) {
    if let Ok(mut paths) = DOOMED.lock() {
        paths.retain(|p| p != path);
    }
}

/// A run being written: files go to [`Staging::path`]; [`Staging::commit`] puts them in
/// place; dropping it without committing removes them.
pub struct Staging {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

/// `.NAME.SUFFIX-PID` beside `dir`.
fn beside(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!(".{name}.{suffix}-{}", std::process::id()))
}

impl Staging {
    /// Starts a run into `dir`. An existing `dir` may hold only files named in `own` (a
    /// previous run): anything else is refused, so a mistyped `--out` never replaces a
    /// folder of other files.
    pub fn new(dir: &Path, own: &[&str]) -> Result<Staging, Failure> {
        let shown = dir.display();
        // The folder is replaced as a whole: not the one the command runs in (nor one
        // holding it), which would leave a shell there in a removed folder.
        let holds_cwd = match (dir.canonicalize(), std::env::current_dir()) {
            (Ok(dir), Ok(cwd)) => cwd.starts_with(dir),
            _ => false,
        };
        if dir.file_name().is_none() || holds_cwd {
            return Err(Failure::Usage(format!(
                "--out {shown}: the run replaces the folder as a whole, so it cannot be the current folder or one holding it; name a folder inside it (`--out {}`)",
                Path::new(".").join("out").display()
            )));
        }
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                let foreign: Vec<String> = entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !own.contains(&n.as_str()))
                    .collect();
                if !foreign.is_empty() {
                    return Err(Failure::Usage(format!(
                        "--out {shown}: the folder holds files this command does not write ({}); choose an empty or new folder",
                        foreign.join(", ")
                    )));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::Input(format!("{shown}: cannot read folder: {e}"))),
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::Input(format!("{}: cannot create: {e}", parent.display())))?;
        }
        let tmp = beside(dir, "tmp");
        remove_on_interrupt(&tmp);
        let staging = Staging {
            target: dir.to_path_buf(),
            tmp,
            committed: false,
        };
        std::fs::create_dir(&staging.tmp).map_err(|e| {
            Failure::Input(format!("{}: cannot create: {e}", staging.tmp.display()))
        })?;
        Ok(staging)
    }

    /// The folder the run writes to.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Puts the run in place of the previous one: the old folder is renamed away, the new
    /// one renamed in, the old one removed. If the new one cannot be renamed in, the old
    /// one is put back.
    pub fn commit(mut self) -> Result<(), Failure> {
        let old = beside(&self.target, "old");
        let cannot = |e: std::io::Error| {
            Failure::Input(format!("{}: cannot write: {e}", self.target.display()))
        };
        let had_old = match std::fs::rename(&self.target, &old) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(cannot(e)),
        };
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if had_old {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(cannot(e));
        }
        self.committed = true;
        keep_on_interrupt(&self.tmp);
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
            keep_on_interrupt(&self.tmp);
        }
    }
}
