//! Traceable file contents. Every version the harness writes is a header
//! (magic, a unique version id, the body length, an FNV-1a checksum of the
//! body) followed by a body derived from the id, so that a reader can tell
//! a complete version from a mix of two, a truncated one, or nothing at all,
//! from the bytes alone. Records appended to a log use the same format, back
//! to back.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The first four bytes of every version.
pub const MAGIC: [u8; 4] = *b"IPCV";
/// Header size: magic, id (u64), body length (u32), checksum (u64).
pub const HEADER: usize = 24;

/// FNV-1a, 64 bits.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Byte `i` of the body of version `id`: differs between versions, so a
/// mix of two bodies of one length fails the checksum.
fn body_byte(id: u64, i: u64) -> u8 {
    let x = (id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i.wrapping_mul(0xbf58_476d_1ce4_e5b9)).rotate_left(29);
    (x >> 32) as u8 ^ x as u8
}

/// Version `id` with a body of `len` bytes, header included.
pub fn encode(id: u64, len: u32) -> Vec<u8> {
    let body: Vec<u8> = (0..u64::from(len)).map(|i| body_byte(id, i)).collect();
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&fnv1a(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// The size in bytes of a version with a body of `len` bytes.
pub fn size(len: u32) -> u64 {
    HEADER as u64 + u64::from(len)
}

/// What a reader found at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Seen {
    /// Exactly one complete version, with this id.
    Complete(u64),
    /// A header that promises more bytes than the file holds (or fewer
    /// bytes than a header): a truncated version.
    Truncated,
    /// A version whose body fails its checksum, or with bytes after it: a
    /// mix of versions.
    Torn,
    /// The file exists and is empty.
    Empty,
    /// The path was not there (`ENOENT`).
    Missing,
    /// Opening or reading failed with this errno.
    Failed(i32),
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Complete(id) => write!(f, "complete version {}", show_id(*id)),
            Seen::Truncated => f.write_str("a truncated version"),
            Seen::Torn => f.write_str("a torn version (a mix)"),
            Seen::Empty => f.write_str("an empty file"),
            Seen::Missing => f.write_str("no file (ENOENT)"),
            Seen::Failed(e) => write!(f, "an error ({})", crate::os::errno_name(*e)),
        }
    }
}

/// A version id as `writer:n` (ids are `writer << 32 | n`).
pub fn show_id(id: u64) -> String {
    format!("{}:{}", id >> 32, id & 0xffff_ffff)
}

/// A version id that no writer's `id_of` produces (writers are below 255).
pub const MAX_WRITER_ID: u64 = 0xff << 32;

/// The id of the `n`-th version (from 1) of `writer`.
pub fn id_of(writer: u8, n: u32) -> u64 {
    (u64::from(writer) << 32) | u64::from(n)
}

/// Parses one version at the start of `bytes`: `Ok((id, size))` when it is
/// complete and intact, else what is wrong with it.
pub fn parse_one(bytes: &[u8]) -> Result<(u64, usize), Seen> {
    if bytes.is_empty() {
        return Err(Seen::Empty);
    }
    if bytes.len() < HEADER {
        return Err(if MAGIC.starts_with(&bytes[..bytes.len().min(4)]) { Seen::Truncated } else { Seen::Torn });
    }
    if bytes[..4] != MAGIC {
        return Err(Seen::Torn);
    }
    let id = u64::from_le_bytes(bytes[4..12].try_into().unwrap_or_default());
    let len = u32::from_le_bytes(bytes[12..16].try_into().unwrap_or_default()) as usize;
    let sum = u64::from_le_bytes(bytes[16..24].try_into().unwrap_or_default());
    let end = HEADER.saturating_add(len);
    if bytes.len() < end {
        return Err(Seen::Truncated);
    }
    if fnv1a(&bytes[HEADER..end]) != sum {
        return Err(Seen::Torn);
    }
    Ok((id, end))
}

/// Classifies the whole contents of a file holding one version.
pub fn classify(bytes: &[u8]) -> Seen {
    match parse_one(bytes) {
        Ok((id, end)) if end == bytes.len() => Seen::Complete(id),
        Ok(_) => Seen::Torn,
        Err(seen) => seen,
    }
}

/// Splits a log of back-to-back records: the ids in file order, or the
/// byte offset where the log stops being a sequence of intact records, and
/// what was found there.
pub fn parse_log(bytes: &[u8]) -> Result<Vec<u64>, (usize, Seen)> {
    let mut ids = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match parse_one(&bytes[at..]) {
            Ok((id, n)) => {
                ids.push(id);
                at += n;
            }
            Err(seen) => return Err((at, seen)),
        }
    }
    Ok(ids)
}

/// Encodes what a reader saw as two numbers, for a reply.
pub fn to_pair(seen: Seen) -> [i64; 2] {
    match seen {
        Seen::Complete(id) => [0, id as i64],
        Seen::Truncated => [1, 0],
        Seen::Torn => [2, 0],
        Seen::Empty => [3, 0],
        Seen::Missing => [4, 0],
        Seen::Failed(e) => [5, i64::from(e)],
    }
}

/// Decodes [`to_pair`]; `None` for numbers no actor sends.
pub fn from_pair(kind: i64, value: i64) -> Option<Seen> {
    Some(match kind {
        0 => Seen::Complete(value as u64),
        1 => Seen::Truncated,
        2 => Seen::Torn,
        3 => Seen::Empty,
        4 => Seen::Missing,
        5 => Seen::Failed(i32::try_from(value).ok()?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_round_trips_and_damage_is_classified() {
        for len in [0u32, 1, 100, 4096, 3 * 4096 + 7] {
            let v = encode(id_of(2, 9), len);
            assert_eq!(v.len() as u64, size(len));
            assert_eq!(classify(&v), Seen::Complete(id_of(2, 9)));
            assert_eq!(classify(&v[..v.len() - 1]), Seen::Truncated);
            let mut longer = v.clone();
            longer.push(0);
            assert_eq!(classify(&longer), Seen::Torn);
        }
        assert_eq!(classify(&[]), Seen::Empty);
        // A mix: the head of one version and the tail of another of the same length.
        let (a, b) = (encode(id_of(0, 1), 8192), encode(id_of(1, 1), 8192));
        let mut mix = a[..4096].to_vec();
        mix.extend_from_slice(&b[4096..]);
        assert_eq!(classify(&mix), Seen::Torn);
    }

    #[test]
    fn a_log_parses_back_to_back_and_stops_at_damage() {
        let mut log = encode(1, 10);
        log.extend(encode(2, 0));
        assert_eq!(parse_log(&log), Ok(vec![1, 2]));
        log.extend(&encode(3, 50)[..30]);
        assert_eq!(parse_log(&log), Err((HEADER * 2 + 10, Seen::Truncated)));
    }

    #[test]
    fn pairs_round_trip_and_garbage_is_refused() {
        for s in
            [Seen::Complete(u64::MAX >> 1), Seen::Truncated, Seen::Torn, Seen::Empty, Seen::Missing, Seen::Failed(13)]
        {
            let [k, v] = to_pair(s);
            assert_eq!(from_pair(k, v), Some(s));
        }
        assert_eq!(from_pair(9, 0), None);
        assert_eq!(from_pair(5, i64::MAX), None);
    }
}
