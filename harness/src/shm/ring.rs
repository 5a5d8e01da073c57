//! A single-producer single-consumer ring buffer over words of shared
//! memory, as two processes use it for `shm.sync.publish`: the producer
//! fills a slot and then publishes it by a release store of `head`; the
//! consumer acquire-loads `head`, reads the slot, and frees it by a release
//! store of `tail`. Each message's words say which message and which word
//! they are, so a torn or reordered delivery is visible.

use crate::os::shm::{pause_point, publish};
use std::sync::atomic::{AtomicU64, Ordering};

/// Word index of `head` (messages published).
const HEAD: usize = 0;
/// Word index of `tail` (messages consumed), on its own cache line.
const TAIL: usize = 8;
/// Word index of the first slot.
const SLOTS: usize = 16;

/// Words a ring of `slots` slots of `words` words needs.
pub fn words_needed(slots: u32, words: u32) -> usize {
    SLOTS + slots as usize * words as usize
}

/// Word `j` of message `seq`.
pub fn message_word(seq: u64, j: u64) -> u64 {
    (seq << 24) | (j & 0xff_ffff)
}

/// Sends `messages` messages; pauses before each message number in `pauses`.
/// Returns `false` when the ring is too small for the layout.
pub fn send(ring: &[AtomicU64], slots: u32, words: u32, messages: u32, pauses: &[u32]) -> bool {
    if slots == 0 || words == 0 || ring.len() < words_needed(slots, words) {
        return false;
    }
    let (slots, words) = (u64::from(slots), words as usize);
    for seq in 0..u64::from(messages) {
        if pauses.contains(&(seq as u32)) {
            pause_point(8);
        }
        let mut backoff = crate::os::shm::Backoff::default();
        loop {
            let tail = ring[TAIL].load(Ordering::Acquire);
            if seq - tail < slots {
                break;
            }
            backoff.wait_on(&ring[TAIL], tail);
        }
        let base = SLOTS + (seq % slots) as usize * words;
        publish(&ring[HEAD], seq + 1, || {
            for j in 0..words {
                ring[base + j].store(message_word(seq, j as u64), Ordering::Relaxed);
            }
        });
        crate::progress::beat();
    }
    true
}

/// Receives `messages` messages: one entry per message, `sequence * 2 + torn`,
/// where the sequence is the one its first word carries and `torn` says some
/// word belonged to another message or position. `None` when the ring is
/// too small for the layout.
pub fn recv(ring: &[AtomicU64], slots: u32, words: u32, messages: u32, pauses: &[u32]) -> Option<Vec<i64>> {
    if slots == 0 || words == 0 || ring.len() < words_needed(slots, words) {
        return None;
    }
    let (slots, words) = (u64::from(slots), words as usize);
    let mut out = Vec::with_capacity((messages as usize).min(1 << 16));
    for seq in 0..u64::from(messages) {
        if pauses.contains(&(seq as u32)) {
            pause_point(8);
        }
        let mut backoff = crate::os::shm::Backoff::default();
        loop {
            let head = ring[HEAD].load(Ordering::Acquire);
            if head > seq {
                break;
            }
            backoff.wait_on(&ring[HEAD], head);
        }
        let base = SLOTS + (seq % slots) as usize * words;
        let first = ring[base].load(Ordering::Relaxed);
        let got = first >> 24;
        let torn = (0..words).any(|j| ring[base + j].load(Ordering::Relaxed) != message_word(got, j as u64));
        out.push((got as i64) * 2 + i64::from(torn));
        ring[TAIL].store(seq + 1, Ordering::Release);
        crate::os::shm::wake_word(&ring[TAIL]);
        crate::progress::beat();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_between_two_threads_delivers_in_order_untorn() {
        let ring: Vec<AtomicU64> = (0..words_needed(3, 5)).map(|_| AtomicU64::new(0)).collect();
        let got = std::thread::scope(|s| {
            let r = s.spawn(|| recv(&ring, 3, 5, 500, &[7]));
            assert!(send(&ring, 3, 5, 500, &[3]));
            r.join().unwrap()
        });
        let expected: Vec<i64> = (0..500).map(|i| i * 2).collect();
        assert_eq!(got, Some(expected));
    }

    #[test]
    fn a_too_small_ring_is_refused() {
        let ring: Vec<AtomicU64> = (0..10).map(|_| AtomicU64::new(0)).collect();
        assert!(!send(&ring, 3, 5, 1, &[]));
        assert_eq!(recv(&ring, 0, 5, 1, &[]), None);
    }
}
