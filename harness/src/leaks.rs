//! What this process has left behind, for the leak checks of the engine's
//! own tests and of the suites: child processes, open descriptors, scratch
//! directories. (Shared-memory names: [`crate::shm::name::leftovers`].)

/// Live or zombie child processes of this process (Linux `/proc`; empty
/// elsewhere).
pub fn children() -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| {
                let ppid = s[s.rfind(')')? + 1..].split_whitespace().nth(1)?.parse::<i32>().ok()?;
                Some(ppid == me)
            }) == Some(true)
        })
        .collect()
}

/// How many descriptors this process has open (Linux `/proc/self/fd`).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

/// This process's scratch directories still present under TMPDIR.
pub fn scratch_dirs() -> Vec<String> {
    let prefix = format!("{}{}-", crate::scratch::PREFIX, std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.starts_with(&prefix)).collect())
        .unwrap_or_default()
}
