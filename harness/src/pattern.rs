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

#[cfg(test)]
mod tests {
    use super::*;

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
