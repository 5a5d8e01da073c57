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
