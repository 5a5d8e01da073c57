//! Traceable data. Every byte a writer puts into an object under test says
//! who wrote it and where it stands in that writer's stream: the top two bits
//! are the writer's tag (0-3), the low six bits a code of the stream
//! position ([`code`]). The code is a hash of the whole position, not the
//! position modulo 64, so a stretch lost or repeated (a whole page, 64
//! bytes, any length) shows at once: the bytes after it carry the codes of
//! other positions. A reader's bytes can then be checked for order, loss,
//! duplication and interleaving without any timing assumption.

/// Writers that can be told apart.
pub const TAGS: u8 = 4;

/// The six-bit code of stream position `pos`: the top bits of a
/// multiplicative hash of the whole position, so that the codes of
/// positions any distance apart agree only by chance (1 in 64 per byte).
pub fn code(pos: u64) -> u8 {
    (pos.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as u8
}

/// The byte at stream position `pos` of writer `tag`.
pub fn byte(tag: u8, pos: u64) -> u8 {
    ((tag & 3) << 6) | code(pos)
}

/// The writer tag of a byte.
pub fn tag_of(b: u8) -> u8 {
    b >> 6
}

/// The position code of a byte (see [`code`]).
pub fn code_of(b: u8) -> u8 {
    b & 63
}

/// Fills `buf` with `len` bytes of writer `tag` from position `start`.
pub fn fill(buf: &mut Vec<u8>, tag: u8, start: u64, len: usize) {
    buf.clear();
    buf.extend((0..len as u64).map(|i| byte(tag, start + i)));
}

/// Where message `id` of a series of whole messages (a queue's) takes its
/// bytes from: writer tag and start position. Positions of different
/// messages lie 2^20 apart, more than any message a case sends is long, so
/// no two messages share a byte's position and a byte lost, cut or taken
/// from another message shows.
pub fn message(id: u32) -> (u8, u64) {
    ((id % u32::from(TAGS)) as u8, u64::from(id) << 20)
}

/// The `len` bytes of message `id` ([`message`]).
pub fn message_bytes(id: u32, len: u32) -> Vec<u8> {
    let (tag, start) = message(id);
    let mut buf = Vec::new();
    fill(&mut buf, tag, start, len as usize);
    buf
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
    fn a_byte_round_trips_tag_and_position_code() {
        for tag in 0..TAGS {
            for pos in [0u64, 1, 63, 64, 65, 4096, 65537] {
                let b = byte(tag, pos);
                assert_eq!(tag_of(b), tag);
                assert_eq!(code_of(b), code(pos));
            }
        }
    }

    #[test]
    fn a_stretch_shifted_by_any_length_differs_at_once() {
        // A reader that lost or repeated `shift` bytes reads the codes of
        // positions `shift` away: within a few bytes one differs.
        for shift in [1u64, 63, 64, 512, 4096, 65536, 1 << 20] {
            for at in [0u64, 100, 4096, 1 << 16] {
                let first = (0..8).find(|i| code(at + i) != code(at + shift + i));
                assert!(first.is_some(), "a shift by {shift} at {at} looks the same for 8 bytes");
            }
        }
    }
}
