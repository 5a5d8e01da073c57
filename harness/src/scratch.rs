//! Scratch directories for objects with names (FIFOs, socket paths, files):
//! one per case under the system's temporary directory, named
//! `ipc-conform-*`, removed with everything in it when dropped.

use std::io;
use std::path::Path;

/// A scratch directory, removed on drop.
pub struct Scratch {
    dir: tempfile::TempDir,
}

/// The prefix of every scratch directory, so that leak checks can find them.
pub const PREFIX: &str = "ipc-conform-";

impl Scratch {
    /// Creates a fresh, private (0700) scratch directory.
    pub fn new() -> io::Result<Scratch> {
        let _creating = crate::cleanup::creating();
        let dir = tempfile::Builder::new().prefix(&format!("{PREFIX}{}-", std::process::id())).tempdir()?;
        crate::cleanup::register_dir(dir.path());
        Ok(Scratch { dir })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        crate::cleanup::unregister_dir(self.dir.path());
    }
}
