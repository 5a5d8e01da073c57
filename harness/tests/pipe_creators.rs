//! Every pipe creator makes what a case asks for: a read end and a write
//! end joined to each other, both close-on-exec, each non-blocking exactly
//! as the setup says, however `O_NONBLOCK` got there (at creation, at open,
//! by `fcntl`); and a creator the catalogue says this platform lacks is
//! refused with a clear error, not made some other way. The creators'
//! names are the catalogue's.

use ipc_conform_harness::pipe::{Creator, Setup};
use ipc_conform_harness::Timing;
use ipc_conform_spec::{Catalogue, Platform, ENTRY_POINTS};
use std::os::fd::AsFd;

fn setup(creator: Creator, nonblock_read: bool, nonblock_write: bool) -> Setup {
    Setup {
        writers: 1,
        idle_writers: 0,
        readers: 1,
        nonblock_read,
        nonblock_write,
        concurrent_reads: false,
        creator,
        one_page: false,
    }
}

/// The creators the catalogue lists for a model-checked pipe rule on this
/// platform.
fn offered_here() -> Vec<Creator> {
    let platform = Platform::current().expect("a platform the catalogue knows");
    let rule = Catalogue::builtin().rules.iter().find(|r| r.id == "pipe.stream.order").unwrap();
    Creator::among(&rule.entry_points_on(platform))
}

#[test]
fn every_creator_is_named_in_the_catalogue_vocabulary() {
    for c in Creator::ALL {
        assert!(ENTRY_POINTS.contains(&c.name()), "{} is not an entry point the catalogue knows", c.name());
        assert_eq!(Creator::from_name(c.name()), Some(*c));
    }
}

#[test]
fn each_creator_makes_joined_close_on_exec_ends_nonblocking_as_asked() {
    let here = offered_here();
    assert!(here.contains(&Creator::Pipe) && here.contains(&Creator::Fifo), "{here:?}");
    for creator in Creator::ALL.iter().copied() {
        for (nr, nw) in [(false, false), (true, false), (false, true), (true, true)] {
            let made = ipc_conform_harness::pipe::creator::create(&setup(creator, nr, nw), Timing::default());
            if !here.contains(&creator) {
                let e = made.err().unwrap_or_else(|| panic!("{creator:?} made a pipe on a platform that lacks it"));
                assert!(e.to_string().contains("does not exist"), "{creator:?}: {e}");
                continue;
            }
            let [r, w] = made.unwrap_or_else(|e| panic!("{creator:?}: {e}"));
            for (end, want, name) in [(&r, nr, "read"), (&w, nw, "write")] {
                let fl = rustix::fs::fcntl_getfl(end).unwrap();
                assert_eq!(fl.contains(rustix::fs::OFlags::NONBLOCK), want, "{creator:?} {name} end O_NONBLOCK");
                let fd = rustix::io::fcntl_getfd(end).unwrap();
                assert!(fd.contains(rustix::io::FdFlags::CLOEXEC), "{creator:?} {name} end without FD_CLOEXEC");
            }
            assert_eq!(rustix::io::write(&w, b"xyz").unwrap(), 3, "{creator:?}");
            let mut buf = [0u8; 8];
            assert_eq!(rustix::io::read(&r, &mut buf).unwrap(), 3, "{creator:?}");
            assert_eq!(&buf[..3], b"xyz");
            assert!(rustix::io::write(&r, b"x").is_err(), "{creator:?}: the read end took a write");
            if creator == Creator::SmallPipe {
                let size = ipc_conform_harness::os::pipe::pipe_size(w.as_fd()).unwrap();
                assert_eq!(size, rustix::param::page_size(), "a small pipe of {size} bytes");
            }
        }
    }
}

/// A setup with `one_page` gets a one-page pipe whatever made it (the
/// cheaper fill of the rules that do not depend on the capacity), and a
/// case's schedule asks for one only where the host offers `small-pipe`.
#[test]
fn one_page_resizes_the_pipe_of_every_creator_offered_here() {
    use ipc_conform_harness::pipe::PipeSchedule;
    let here = offered_here();
    let k = ipc_conform_harness::constants::Constants::linux_example();
    let schedule = |one_page| {
        PipeSchedule { setup: setup(Creator::Pipe, false, false), steps: Vec::new() }.in_one_page(&here, &k, one_page)
    };
    assert_eq!(schedule(true).setup.one_page, here.contains(&Creator::SmallPipe));
    if here.contains(&Creator::SmallPipe) {
        // A reported case says so: rebuilt from the report, it is the same pipe.
        assert!(schedule(true).to_string().contains("resized to one page"), "{}", schedule(true));
    }
    assert!(!schedule(false).to_string().contains("one page"), "{}", schedule(false));
    assert!(!schedule(false).setup.one_page);
    assert!(
        !PipeSchedule { setup: setup(Creator::Pipe, false, false), steps: Vec::new() }
            .in_one_page(&[Creator::Pipe, Creator::Fifo], &k, true)
            .setup
            .one_page,
        "one page asked of a host without small-pipe"
    );
    assert!(
        !PipeSchedule { setup: setup(Creator::Pipe, false, false), steps: Vec::new() }
            .in_one_page(&here, &ipc_conform_harness::constants::Constants::macos_example(), true)
            .setup
            .one_page,
        "one page asked where no one-page pipe was measured"
    );
    if !here.contains(&Creator::SmallPipe) {
        return;
    }
    for creator in here.iter().copied() {
        for nonblock in [false, true] {
            let s = Setup { one_page: true, ..setup(creator, nonblock, nonblock) };
            assert!(s.is_one_page());
            let [_r, w] = ipc_conform_harness::pipe::creator::create(&s, Timing::default())
                .unwrap_or_else(|e| panic!("{creator:?}: {e}"));
            let size = ipc_conform_harness::os::pipe::pipe_size(w.as_fd()).unwrap();
            assert_eq!(size, rustix::param::page_size(), "{creator:?}: a one-page pipe of {size} bytes");
        }
        assert!(!setup(creator, false, false).is_one_page() || creator == Creator::SmallPipe);
    }
}
