//! Traceable data. Every byte a writer puts into an object under test says
//! who wrote it and where it stands in that writer's stream: the top two bits
//! are the writer's tag (0-3), the low six bits the stream position modulo
//! 64. A reader's bytes can then be checked for order, loss, duplication and
//! interleaving without any timing assumption.

/// Writers that can be told apart.
pub const TAGS: u8 = 4;

/// The byte at stream position `pos` of writer `tag`.
pub fn byte(tag: u8, pos: u64) -> u8 {
    ((tag & 3) << 6) | (pos & 63) as u8
}

/// The writer tag of a byte.
pub fn tag_of(b: u8) -> u8 {
    b >> 6
}

/// The stream position modulo 64 of a byte.
pub fn pos_of(b: u8) -> u8 {
    b & 63
}

/// Fills `buf` with `len` bytes of writer `tag` from position `start`.
pub fn fill(buf: &mut Vec<u8>, tag: u8, start: u64, len: usize) {
    buf.clear();
    buf.extend((0..len as u64).map(|i| byte(tag, start + i)));
}

/// Bytes of a datagram's header: tag (1), sequence number (4), length (4).
pub const DATAGRAM_HEADER: usize = 9;

/// The datagram `seq` of sender `tag`, `len` bytes long (at least the
/// header): a header naming it, then the sender's pattern. A receiver can
/// tell from the bytes alone which datagram it got and whether it is whole
/// and unaltered ([`check_datagram`]).
pub fn datagram(tag: u8, seq: u32, len: usize) -> Vec<u8> {
    let len = len.max(DATAGRAM_HEADER);
    let mut out = Vec::with_capacity(len);
    out.push(tag);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend((DATAGRAM_HEADER..len).map(|i| byte(tag, u64::from(seq) * 7 + i as u64)));
    out
}

/// Which datagram `bytes` is, `(tag, seq)`, if it is exactly one whole,
/// unaltered datagram made by [`datagram`].
pub fn check_datagram(bytes: &[u8]) -> Option<(u8, u32)> {
    if bytes.len() < DATAGRAM_HEADER {
        return None;
    }
    let tag = bytes[0];
    let seq = u32::from_le_bytes(bytes[1..5].try_into().ok()?);
    let len = u32::from_le_bytes(bytes[5..9].try_into().ok()?) as usize;
    (len == bytes.len() && datagram(tag, seq, len) == bytes).then_some((tag, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_is_recognised_only_whole_and_unaltered() {
        let d = datagram(2, 7, 100);
        assert_eq!(check_datagram(&d), Some((2, 7)));
        assert_eq!(check_datagram(&d[..99]), None);
        let mut altered = d.clone();
        altered[50] ^= 0x40;
        assert_eq!(check_datagram(&altered), None);
    }

    #[test]
    fn a_byte_round_trips_tag_and_position() {
        for tag in 0..TAGS {
            for pos in [0u64, 1, 63, 64, 65, 4096, 65537] {
                let b = byte(tag, pos);
                assert_eq!(tag_of(b), tag);
                assert_eq!(u64::from(pos_of(b)), pos % 64);
            }
        }
    }
}
