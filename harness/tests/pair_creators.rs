//! Every socket-pair creator makes what a case asks for: two ends of one
//! connection (or two datagram sockets connected to each other), both
//! close-on-exec, carrying bytes both ways; a creator the catalogue says
//! this platform lacks is refused with a clear error. The creators' names
//! are the catalogue's.

use ipc_conform_harness::os::socket::SocketKind;
use ipc_conform_harness::socket::pair::{creator, PairCreator, PairSetup};
use ipc_conform_spec::{Catalogue, Platform, ENTRY_POINTS};

fn offered_here() -> Vec<PairCreator> {
    let platform = Platform::current().expect("a platform the catalogue knows");
    let rule = Catalogue::builtin().rules.iter().find(|r| r.id == "socket.pair.bidirectional").unwrap();
    PairCreator::among(&rule.entry_points_on(platform))
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
            let made = creator::create(&PairSetup { kind, holders: [1, 1], creator: c });
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
