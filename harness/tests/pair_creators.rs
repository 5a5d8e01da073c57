//! Every socket-pair creator makes what a case asks for: two ends of one
//! connection (or two datagram sockets connected to each other), both
//! close-on-exec, carrying bytes both ways, each end non-blocking exactly
//! as asked (by `SOCK_NONBLOCK` or `fcntl`); a creator the catalogue says
//! this platform lacks is refused with a clear error. The creators' names
//! are the catalogue's.

use ipc_conform_harness::os::socket::SocketKind;
use ipc_conform_harness::socket::pair::{creator, PairCreator, PairSetup};
use ipc_conform_spec::{Catalogue, Platform, ENTRY_POINTS};

fn entry_points_here() -> Vec<String> {
    let platform = Platform::current().expect("a platform the catalogue knows");
    let rule = Catalogue::builtin().rules.iter().find(|r| r.id == "socket.pair.bidirectional").unwrap();
    rule.entry_points_on(platform).into_iter().map(str::to_string).collect()
}

fn offered_here() -> Vec<PairCreator> {
    PairCreator::among(&entry_points_here())
}

#[test]
fn each_pair_creator_makes_ends_non_blocking_as_asked() {
    let at_creation_here = entry_points_here().iter().any(|e| e == creator::SOCK_NONBLOCK);
    for c in offered_here() {
        for nonblock in [[true, false], [false, true], [true, true]] {
            for at_creation in [false, true] {
                let setup = PairSetup {
                    creator: c,
                    nonblock,
                    nonblock_at_creation: at_creation,
                    ..PairSetup::new(SocketKind::Stream, [1, 1])
                };
                let made = creator::create(&setup);
                if at_creation && !at_creation_here {
                    assert!(made.is_err(), "{c:?}: SOCK_NONBLOCK where the platform lacks it");
                    continue;
                }
                let ends = made.unwrap_or_else(|e| panic!("{c:?}: {e}"));
                for (end, want) in ends.iter().zip(nonblock) {
                    let fl = rustix::fs::fcntl_getfl(end).unwrap();
                    assert_eq!(fl.contains(rustix::fs::OFlags::NONBLOCK), want, "{c:?} {nonblock:?} {at_creation}");
                }
            }
        }
    }
}

#[test]
fn every_pair_creator_is_named_in_the_catalogue_vocabulary() {
    for c in PairCreator::ALL {
        assert!(ENTRY_POINTS.contains(&c.name()), "{} is not an entry point the catalogue knows", c.name());
        assert_eq!(PairCreator::from_name(c.name()), Some(*c));
    }
}

#[test]
fn each_pair_creator_makes_two_joined_close_on_exec_ends() {
    let here = offered_here();
    assert!(here.contains(&PairCreator::Socketpair) && here.contains(&PairCreator::ConnectPath), "{here:?}");
    let seqpacket = ipc_conform_harness::Constants::host().unwrap().seqpacket;
    for kind in [SocketKind::Stream, SocketKind::Dgram, SocketKind::Seqpacket] {
        if kind == SocketKind::Seqpacket && !seqpacket {
            continue;
        }
        for c in PairCreator::ALL.iter().copied() {
            let made = creator::create(&PairSetup { creator: c, ..PairSetup::new(kind, [1, 1]) });
            if !here.contains(&c) {
                let e = made.err().unwrap_or_else(|| panic!("{c:?} made a pair on a platform that lacks it"));
                assert!(e.to_string().contains("do not exist"), "{c:?}: {e}");
                continue;
            }
            let [a, b] = made.unwrap_or_else(|e| panic!("{c:?} {kind:?}: {e}"));
            for end in [&a, &b] {
                assert!(rustix::io::fcntl_getfd(end).unwrap().contains(rustix::io::FdFlags::CLOEXEC), "{c:?}");
            }
            let mut buf = [0u8; 8];
            for (from, to) in [(&a, &b), (&b, &a)] {
                assert_eq!(rustix::io::write(from, b"ping").unwrap(), 4, "{c:?} {kind:?}");
                assert_eq!(rustix::io::read(to, &mut buf).unwrap(), 4, "{c:?} {kind:?}");
                assert_eq!(&buf[..4], b"ping");
            }
        }
    }
}
