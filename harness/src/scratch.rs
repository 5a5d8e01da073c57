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
        // Removed here, under the clean-up's guard; the `TempDir`'s own
        // drop then finds nothing to remove.
        crate::cleanup::remove_dir(self.dir.path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory being removed stays on the emergency's list until it is
    /// gone: while an emergency holds the guard, a dropped scratch
    /// directory is neither taken off the list nor left unlisted. Before
    /// the fix the drop took it off the list at once.
    #[test]
    fn a_scratch_directory_stays_listed_until_it_is_removed() {
        let scratch = Scratch::new().unwrap();
        let path = scratch.path().to_path_buf();
        std::fs::write(path.join("f"), b"x").unwrap();
        let teardown = crate::cleanup::hold_teardown();
        let dropper = std::thread::spawn(move || drop(scratch));
        // The dropper cannot finish while the guard is held; give it time
        // to get as far as it can.
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        while std::time::Instant::now() < until {
            assert!(crate::cleanup::dir_registered(&path), "taken off the emergency's list before it was removed");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(path.join("f").exists(), "removed behind the emergency's back");
        drop(teardown);
        dropper.join().unwrap();
        assert!(!path.exists(), "{} left after the drop", path.display());
        assert!(!crate::cleanup::dir_registered(&path), "still listed after the drop");
    }
}
