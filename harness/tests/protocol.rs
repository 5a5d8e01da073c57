//! The control channel's frames (postcard, length-prefixed): every request
//! and reply shape crosses a real socket pair intact, descriptors with it;
//! a frame whose length is over the limit, whose body does not decode,
//! that carries bytes after its message, or that ends early is refused as
//! invalid data (which the session judges as the channel's fault), never
//! misread.

use ipc_conform_harness::os::entry::{ReadCall, WriteCall};
use ipc_conform_harness::os::fd::control_pair;
use ipc_conform_harness::protocol::{self, Receiver, Reply, Request};
use std::io::ErrorKind;
use std::os::fd::{AsFd, OwnedFd};

fn raw(fd: &OwnedFd, bytes: &[u8]) {
    assert_eq!(rustix::io::write(fd, bytes).unwrap(), bytes.len());
}

#[test]
fn requests_and_replies_cross_intact_with_descriptors() {
    let (a, b) = control_pair().unwrap();
    let (r, w) = ipc_conform_harness::os::pipe::pipe_cloexec().unwrap();
    let requests = [
        Request::Write { slot: 3, len: 70000, tag: 2, start: 1 << 40, call: WriteCall::Writev },
        Request::Read { slot: 0, max: 1, call: ReadCall::Recvfrom },
        Request::Adopt,
        Request::Exit { code: -1 },
    ];
    let (mut at_a, mut at_b) = (Receiver::new(), Receiver::new());
    for (i, req) in requests.iter().enumerate() {
        let fds = if i == 2 { vec![r.as_fd(), w.as_fd()] } else { vec![] };
        protocol::send(a.as_fd(), req, &fds).unwrap();
        let mut got = Vec::new();
        let back: Request = at_b.recv(b.as_fd(), &mut got).unwrap().unwrap();
        assert_eq!(format!("{back:?}"), format!("{req:?}"));
        assert_eq!(got.len(), fds.len());
    }
    let big = Reply::Data((0..200_000u32).map(|i| i as u8).collect());
    protocol::send(b.as_fd(), &big, &[]).unwrap_or_else(|e| panic!("{e}"));
    let back: Reply = at_a.recv(a.as_fd(), &mut Vec::new()).unwrap().unwrap();
    assert_eq!(format!("{back:?}"), format!("{big:?}"));
    drop(a);
    assert!(at_b.recv::<Reply>(b.as_fd(), &mut Vec::new()).unwrap().is_none(), "a clean end of stream");
}

/// Frames that one read took together come back one by one; the second,
/// read ahead and so invisible to a poll of the socket, is announced by
/// `has_frame`.
#[test]
fn frames_read_together_come_back_one_by_one() {
    let (a, b) = control_pair().unwrap();
    protocol::send(a.as_fd(), &Reply::Started, &[]).unwrap();
    protocol::send(a.as_fd(), &Reply::Count(7), &[]).unwrap();
    let mut rx = Receiver::new();
    assert!(!rx.has_frame());
    assert_eq!(format!("{:?}", rx.recv::<Reply>(b.as_fd(), &mut Vec::new()).unwrap()), "Some(Started)");
    assert!(rx.has_frame(), "the second frame came with the first");
    assert_eq!(format!("{:?}", rx.recv::<Reply>(b.as_fd(), &mut Vec::new()).unwrap()), "Some(Count(7))");
    assert!(!rx.has_frame());
}

fn refused(bytes: &[u8]) -> std::io::Error {
    let (a, b) = control_pair().unwrap();
    raw(&a, bytes);
    drop(a);
    match Receiver::new().recv::<Reply>(b.as_fd(), &mut Vec::new()) {
        Err(e) => e,
        Ok(r) => panic!("{bytes:?} was read as {r:?}"),
    }
}

#[test]
fn corrupt_frames_are_refused_as_invalid_data() {
    // A length over the limit.
    assert_eq!(refused(&u32::MAX.to_le_bytes()).kind(), ErrorKind::InvalidData);
    // A body that is no reply (variant index far out of range).
    let mut frame = 3u32.to_le_bytes().to_vec();
    frame.extend([0xff, 0xff, 0x7f]);
    assert_eq!(refused(&frame).kind(), ErrorKind::InvalidData);
    // A whole reply, then bytes after it within the frame.
    let done = postcard_frame_of_done();
    let mut long = ((done.len() + 2) as u32).to_le_bytes().to_vec();
    long.extend(&done);
    long.extend([0, 0]);
    assert_eq!(refused(&long).kind(), ErrorKind::InvalidData);
    // A frame that ends early.
    let mut short = 10u32.to_le_bytes().to_vec();
    short.extend([1, 2]);
    assert_eq!(refused(&short).kind(), ErrorKind::UnexpectedEof);
}

/// The body of `Reply::Done` as the channel encodes it.
fn postcard_frame_of_done() -> Vec<u8> {
    let (a, b) = control_pair().unwrap();
    protocol::send(a.as_fd(), &Reply::Done, &[]).unwrap();
    let mut buf = [0u8; 64];
    let n = rustix::io::read(&b, &mut buf).unwrap();
    buf[4..n].to_vec()
}

/// Frames of sizes around the receiver's starting buffer, sent back to
/// back: the receiver grows, moves a partial frame to the front and reads
/// frames split across receives, and each comes back whole, in order.
#[test]
fn frames_larger_and_smaller_than_the_buffer_come_back_whole_in_order() {
    let (a, b) = control_pair().unwrap();
    const SIZES: [usize; 12] = [1, 4000, 4093, 4096, 5000, 3, 70_000, 10, 2048, 2049, 9000, 1];
    let sender = std::thread::spawn(move || {
        for (i, n) in SIZES.iter().enumerate() {
            protocol::send(a.as_fd(), &Reply::Data(vec![i as u8; *n]), &[]).unwrap();
        }
        a
    });
    let mut rx = Receiver::new();
    for (i, n) in SIZES.iter().enumerate() {
        match rx.recv::<Reply>(b.as_fd(), &mut Vec::new()).unwrap() {
            Some(Reply::Data(d)) => {
                assert_eq!(d.len(), *n, "frame {i}");
                assert!(d.iter().all(|x| *x == i as u8), "frame {i} mixed with another");
            }
            other => panic!("frame {i}: {other:?}"),
        }
    }
    drop(sender.join().unwrap());
    assert!(rx.recv::<Reply>(b.as_fd(), &mut Vec::new()).unwrap().is_none(), "a clean end of stream");
}
