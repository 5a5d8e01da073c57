//! What this process has left behind, for the leak checks of the engine's
//! own tests and of the suites: child processes, open descriptors, scratch
//! directories. (Shared-memory names: [`crate::shm::name::leftovers`].)
//! Where the platform cannot tell, the check fails loudly (a panic naming
//! what could not be seen), never passes with nothing counted.

/// Live or zombie child processes of this process
/// ([`crate::os::process::child_pids`]).
///
/// The fork server ([`crate::os::forkserver`]) is the run's, not a case's:
/// it is not counted, and its children, the actors it forked, are.
pub fn children() -> Vec<i32> {
    let list = |pid: i32| {
        crate::os::process::child_pids(pid)
            .unwrap_or_else(|e| panic!("the leak check cannot list the children of {pid} here: {e}"))
    };
    let mut kids = list(std::process::id() as i32);
    if let Some((server, _)) = crate::os::forkserver::server() {
        kids.retain(|k| *k != server);
        kids.extend(list(server));
    }
    kids
}

/// How many descriptors this process has open
/// ([`crate::os::process::open_fd_count`]).
///
/// The fork server's channel is the run's, not a case's: not counted.
pub fn open_fds() -> usize {
    let open = crate::os::process::open_fd_count()
        .unwrap_or_else(|e| panic!("the leak check cannot count this process's descriptors here: {e}"));
    open - crate::os::forkserver::server().map_or(0, |(_, fds)| fds)
}

/// This process's scratch directories still present under TMPDIR.
pub fn scratch_dirs() -> Vec<String> {
    let prefix = format!("{}{}-", crate::scratch::PREFIX, std::process::id());
    let dir = std::env::temp_dir();
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the leak check cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::os::process::{pids_from_buffer, ppid_of_stat};

    #[test]
    fn the_stat_parser_finds_the_parent_past_a_command_with_spaces_and_parentheses() {
        assert_eq!(ppid_of_stat("4242 (a (b) c) S 17 4242 4242 0 -1"), Some(17));
        assert_eq!(ppid_of_stat("garbage"), None);
    }

    #[test]
    fn the_macos_child_list_reads_a_count_or_bytes_and_skips_empty_slots() {
        let buf = [501, 502, 0, 0, 0, 0, 0, 0];
        assert_eq!(pids_from_buffer(&buf, 2), vec![501, 502]); // a count of pids
        assert_eq!(pids_from_buffer(&buf, 8), vec![501, 502]); // bytes
        assert_eq!(pids_from_buffer(&buf, 0), Vec::<i32>::new());
        assert_eq!(pids_from_buffer(&buf, -1), Vec::<i32>::new());
    }

    #[test]
    fn this_process_sees_its_own_children_and_descriptors() {
        // Other tests of this binary open and close descriptors meanwhile:
        // 64 opened here must show as (well over) 32 more.
        let before = super::open_fds();
        let files: Vec<_> = (0..64).map(|_| std::fs::File::open("/dev/null").unwrap()).collect();
        assert!(super::open_fds() >= before + 32, "64 descriptors opened, not counted");
        drop(files);
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        assert!(super::children().contains(&(child.id() as i32)), "a child spawned is listed");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
