//! `process.memory.private`: a fork exchange. The parent stores `a`,
//! forks; the child loads the cell (must see `a`, its copy), stores `c`;
//! the parent loads (must still see its own `a`) and stores `p`; the child
//! loads again (must see its own `c`). Over memory mapped shared between
//! parent and child (`MAP_SHARED|MAP_ANONYMOUS`) the same exchange must
//! instead show every store to both: `a`, `c`, `p` (`shm.shared.visible`).
//! The exchange is a step of a memory schedule ([`crate::shm::memory`]),
//! which delegates its judgement here.

use super::rules;
use crate::checker::Violation;
use crate::protocol::shm::ForkRegion;

/// What a fork exchange over `region` must load, in order: the child's
/// first load, the parent's load, the child's last load.
pub fn expected(region: ForkRegion, a: u64, c: u64, p: u64) -> [u64; 3] {
    match region {
        ForkRegion::AnonShared => [a, c, p],
        ForkRegion::Heap | ForkRegion::AnonPrivate => [a, a, c],
    }
}

/// The rule a fork exchange over `region` checks.
pub fn rule_of(region: ForkRegion) -> &'static str {
    match region {
        ForkRegion::AnonShared => crate::shm::rules::SHARED_VISIBLE,
        ForkRegion::Heap | ForkRegion::AnonPrivate => rules::MEMORY_PRIVATE,
    }
}

/// Judges the three loads of a fork exchange.
pub fn judge(region: ForkRegion, a: u64, c: u64, p: u64, loaded: [u64; 3]) -> Result<(), Violation> {
    let want = expected(region, a, c, p);
    if loaded == want {
        return Ok(());
    }
    Err(Violation::new(
        rule_of(region),
        format!(
            "fork exchange over {region:?} memory: child first loaded {:#x}, parent then loaded {:#x}, child last loaded {:#x}; expected {:#x}, {:#x}, {:#x}",
            loaded[0], loaded[1], loaded[2], want[0], want[1], want[2]
        ),
    ))
}
