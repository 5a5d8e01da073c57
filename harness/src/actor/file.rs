//! How an actor performs `file` operations.

use super::Actor;
use crate::file::version;
use crate::os::errno_of;
use crate::os::file::{self as fs, OpenMode};
use crate::protocol::file::FileOp;
use crate::protocol::Reply;
use std::os::fd::AsFd;
use std::path::Path;

fn errno(e: &std::io::Error) -> Reply {
    Reply::Errno(errno_of(e))
}

/// Performs one file operation.
pub fn perform(actor: &mut Actor, op: FileOp) -> Result<Reply, Reply> {
    Ok(match op {
        FileOp::Open { path, mode } => match fs::open(Path::new(&path), mode) {
            Ok(fd) => {
                let (slot, fd) = actor.push(fd);
                Reply::Opened { slot, fd }
            }
            Err(e) => errno(&e),
        },
        FileOp::WriteVersion { slot, id, len } => {
            let bytes = version::encode(id, len);
            match fs::write_once(actor.fd(slot)?, &bytes) {
                Ok(n) => Reply::Count(n as u64),
                Err(e) => errno(&e),
            }
        }
        FileOp::ReadPath { path } => match fs::read_whole(Path::new(&path)) {
            Ok(data) => Reply::Data(data),
            Err(e) => errno(&e),
        },
        FileOp::Replace { target, writer, lens, in_place_chunk } => {
            let target = Path::new(&target);
            let mut done = 0i64;
            for (i, len) in lens.iter().enumerate() {
                let bytes = version::encode(version::id_of(writer, i as u32 + 1), *len);
                let result = match in_place_chunk {
                    None => replace_by_rename(target, writer, &bytes),
                    Some(chunk) => rewrite_in_place(target, &bytes, chunk.max(1) as usize),
                };
                if let Err(e) = result {
                    return Ok(Reply::Values(vec![done, i64::from(errno_of(&e))]));
                }
                done += 1;
                crate::progress::beat();
            }
            Reply::Values(vec![done, 0])
        }
        FileOp::ReadLoop { path, count } => {
            let path = Path::new(&path);
            let mut out = Vec::with_capacity(2 * count as usize);
            for _ in 0..count {
                let seen = match fs::read_whole(path) {
                    Ok(bytes) => version::classify(&bytes),
                    Err(e) if e.raw_os_error() == Some(libc::ENOENT) => version::Seen::Missing,
                    Err(e) => version::Seen::Failed(errno_of(&e)),
                };
                out.extend(version::to_pair(seen));
                crate::progress::beat();
            }
            Reply::Values(out)
        }
        FileOp::Append { path, writer, lens } => {
            let mode = OpenMode { write: true, append: true, ..OpenMode::default() };
            let fd = match fs::open(Path::new(&path), mode) {
                Ok(fd) => fd,
                Err(e) => return Ok(errno(&e)),
            };
            let (mut records, mut bytes) = (0i64, 0i64);
            for (i, len) in lens.iter().enumerate() {
                let record = version::encode(version::id_of(writer, i as u32 + 1), *len);
                match fs::write_once(fd.as_fd(), &record) {
                    Ok(n) => {
                        bytes += n as i64;
                        if n < record.len() {
                            return Ok(Reply::Values(vec![records, bytes, 0]));
                        }
                        records += 1;
                        crate::progress::beat();
                    }
                    Err(e) => return Ok(Reply::Values(vec![records, bytes, i64::from(errno_of(&e))])),
                }
            }
            Reply::Values(vec![records, bytes, 0])
        }
        FileOp::CreateRace { dir, count } => {
            let mode = OpenMode { write: true, create: true, excl: true, ..OpenMode::default() };
            let out = (0..count)
                .map(|i| {
                    crate::progress::beat();
                    match fs::open(&Path::new(&dir).join(format!("race.{i}")), mode) {
                        Ok(_fd) => 0,
                        Err(e) => i64::from(errno_of(&e)),
                    }
                })
                .collect();
            Reply::Values(out)
        }
        FileOp::RenameNoReplace { from, to, native } => {
            match fs::rename_noreplace(Path::new(&from), Path::new(&to), native) {
                Ok(fs::NoReplaceHow::Native) => Reply::Values(vec![0]),
                Ok(fs::NoReplaceHow::LinkUnlink) => Reply::Values(vec![1]),
                Err(e) => errno(&e),
            }
        }
        FileOp::Flock { slot, op, nonblock } => match fs::flock(actor.fd(slot)?, op, nonblock) {
            Ok(()) => Reply::Done,
            Err(e) => errno(&e),
        },
        FileOp::Lock { slot, owner, kind, start, len, wait } => {
            match fs::record_lock(actor.fd(slot)?, owner, kind, start, len, wait) {
                Ok(()) => Reply::Done,
                Err(e) => errno(&e),
            }
        }
    })
}

/// Writes `bytes` to `<target>.tmp.<writer>` and renames it over `target`.
fn replace_by_rename(target: &Path, writer: u8, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(format!(".tmp.{writer}"));
    let tmp = Path::new(&tmp);
    let mode = OpenMode { write: true, create: true, trunc: true, ..OpenMode::default() };
    let fd = fs::open(tmp, mode)?;
    fs::write_all(fd.as_fd(), bytes)?;
    drop(fd);
    fs::rename(tmp, target)
}

/// Rewrites `target` in place in writes of `chunk` bytes, then truncates it
/// to the new size.
fn rewrite_in_place(target: &Path, bytes: &[u8], chunk: usize) -> std::io::Result<()> {
    let fd = fs::open(target, OpenMode { write: true, ..OpenMode::default() })?;
    for (i, piece) in bytes.chunks(chunk).enumerate() {
        fs::pwrite_all(fd.as_fd(), piece, (i * chunk) as u64)?;
    }
    fs::truncate(fd.as_fd(), bytes.len() as u64)
}
