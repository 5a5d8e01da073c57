//! How an actor performs socket operations.

use super::Actor;
use crate::os::socket as sock;
use crate::os::{self, errno_of};
use crate::pattern;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;
use std::path::Path;

fn errno(e: std::io::Error) -> Reply {
    Reply::Errno(errno_of(&e))
}

fn opened(actor: &mut Actor, fd: std::io::Result<std::os::fd::OwnedFd>) -> Reply {
    match fd {
        Ok(fd) => {
            let (slot, fd) = actor.push(fd);
            Reply::Opened { slot, fd }
        }
        Err(e) => errno(e),
    }
}

/// Performs one socket operation.
pub fn perform(actor: &mut Actor, op: SocketOp) -> Result<Reply, Reply> {
    Ok(match op {
        SocketOp::Send { slot, len, tag, start, call, opts } => {
            let mut buf = std::mem::take(&mut actor.buf);
            pattern::fill(&mut buf, tag, start, len as usize);
            let result = sock::send(actor.fd(slot)?, &buf, call, opts);
            actor.buf = buf;
            match result {
                Ok(n) => Reply::Count(n as u64),
                Err(e) => errno(e),
            }
        }
        SocketOp::Fill { slot, chunk, tag, start } => {
            match sock::fill_dontwait(actor.fd(slot)?, chunk as usize, start, |pos| pattern::byte(tag, pos)) {
                Ok(total) => Reply::Filled { total, errno: None },
                Err((total, errno)) => Reply::Filled { total, errno: Some(errno) },
            }
        }
        SocketOp::Recv { slot, max, call, dontwait } => match sock::recv(actor.fd(slot)?, max as usize, call, dontwait)
        {
            Ok((data, truncated)) => Reply::Received { data, truncated },
            Err(e) => errno(e),
        },
        SocketOp::Shutdown { slot, how } => match sock::shutdown(actor.fd(slot)?, how) {
            Ok(()) => Reply::Done,
            Err(e) => errno(e),
        },
        SocketOp::ListenUnix { path, backlog } => {
            let fd = sock::listen_unix(Path::new(&path), backlog);
            opened(actor, fd)
        }
        SocketOp::ListenTcp { backlog } => match sock::listen_tcp_loopback(backlog) {
            Ok((fd, port)) => {
                let (slot, fd) = actor.push(fd);
                Reply::Values(vec![i64::from(slot), i64::from(fd), i64::from(port)])
            }
            Err(e) => errno(e),
        },
        SocketOp::Accept { slot } => {
            let fd = sock::accept(actor.fd(slot)?);
            opened(actor, fd)
        }
        SocketOp::ConnectUnix { path } => {
            let fd = sock::connect_unix(Path::new(&path));
            opened(actor, fd)
        }
        SocketOp::ConnectAbstract { name } => {
            let fd = sock::connect_unix_at(sock::UnixName::Abstract(name.as_bytes()));
            opened(actor, fd)
        }
        SocketOp::ConnectTcp { port } => {
            let fd = sock::connect_tcp_loopback(port);
            opened(actor, fd)
        }
        SocketOp::ConnectTcpAttempt { port, nonblocking } => match sock::connect_tcp_attempt(port, nonblocking) {
            Ok((fd, errno)) => {
                let (slot, fd) = actor.push(fd);
                Reply::Values(vec![i64::from(slot), i64::from(fd), i64::from(errno.unwrap_or(0))])
            }
            Err(e) => errno(e),
        },
        SocketOp::TakeError { slot } => match sock::take_error(actor.fd(slot)?) {
            Ok(e) => Reply::Values(vec![i64::from(e)]),
            Err(e) => errno(e),
        },
        SocketOp::PeerCred { slot } => match sock::peer_credentials(actor.fd(slot)?) {
            Ok(c) => Reply::Values(vec![i64::from(c.pid), i64::from(c.uid), i64::from(c.gid)]),
            Err(e) => errno(e),
        },
        SocketOp::ListenAbstract { name, backlog } => {
            let fd = sock::listen_unix_at(sock::UnixName::Abstract(name.as_bytes()), backlog);
            opened(actor, fd)
        }
        SocketOp::SendFds { slot, fd_slots } => {
            let fds = fd_slots.iter().map(|s| actor.fd(*s)).collect::<Result<Vec<_>, _>>()?;
            match sock::send_fds(actor.fd(slot)?, &fds) {
                Ok(()) => Reply::Done,
                Err(e) => errno(e),
            }
        }
        SocketOp::RecvFdsRoom { slot, room } => {
            use std::os::fd::AsRawFd;
            let before = os::fd::open_descriptors();
            match sock::recv_fds_with_room(actor.fd(slot)?, room as usize) {
                Ok((fds, truncated)) => {
                    let after = os::fd::open_descriptors();
                    let seen: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
                    let unseen = after.iter().filter(|f| !before.contains(f) && !seen.contains(f)).count();
                    let mut v = vec![i64::from(truncated), fds.len() as i64, unseen as i64];
                    for fd in fds {
                        let (dev, ino) = os::fd::identity(std::os::fd::AsFd::as_fd(&fd))
                            .map_err(|e| Reply::Refused(format!("fstat of a received descriptor: {e}")))?;
                        let (slot, _) = actor.push(fd);
                        v.extend([i64::from(slot), dev as i64, ino as i64]);
                    }
                    Reply::Values(v)
                }
                Err(e) => errno(e),
            }
        }
        SocketOp::Ports { slot } => match sock::ports(actor.fd(slot)?) {
            Ok((port, peer)) => Reply::Values(vec![i64::from(port), i64::from(peer)]),
            Err(e) => errno(e),
        },
        SocketOp::LingerZero { slot } => match sock::set_linger_zero(actor.fd(slot)?) {
            Ok(()) => Reply::Done,
            Err(e) => errno(e),
        },
        SocketOp::UdpBind => match sock::udp_loopback() {
            Ok((fd, port)) => {
                let (slot, fd) = actor.push(fd);
                Reply::Values(vec![i64::from(slot), i64::from(fd), i64::from(port)])
            }
            Err(e) => errno(e),
        },
        SocketOp::SendTo { slot, port, tag, seq, len } => {
            let data = pattern::datagram(tag, seq, len as usize);
            match sock::send_to_loopback(actor.fd(slot)?, &data, port) {
                Ok(n) => Reply::Count(n as u64),
                Err(e) => errno(e),
            }
        }
        SocketOp::SendFd { slot, fd_slot } => match sock::send_fd(actor.fd(slot)?, actor.fd(fd_slot)?) {
            Ok(()) => Reply::Done,
            Err(e) => errno(e),
        },
        SocketOp::RecvFd { slot } => {
            let fd = sock::recv_fd(actor.fd(slot)?);
            opened(actor, fd)
        }
        SocketOp::Offset { slot } => match sock::offset(actor.fd(slot)?) {
            Ok(off) => Reply::Values(vec![off as i64]),
            Err(e) => Reply::Errno(os::errno_of(&e)),
        },
    })
}
