//! Orphans (`process.orphan.reparent`): a supervisor actor, a subreaper
//! or not, forks children that each fork a grandchild ([`Family`]); it
//! asks the grandchildren their parent's pid, lets the children end and
//! reaps them, and then asks again. The model knows who is alive and so
//! what each `getppid()` may say: the child while it lives, the
//! supervisor once the child was reaped when the supervisor is a
//! subreaper, and otherwise an adopter that is neither (init, launchd, or
//! a subreaper above). After the schedule every grandchild is let go and
//! every child released and reaped, and with a subreaper every grandchild
//! reaped too, judged alike, so that no process outlives its case.
//!
//! [`Family`]: crate::os::supervise::Family

use super::rules;
use crate::case::{CaseReport, Stop};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::engine::{Invocation, Mechanism};
use crate::observed::Observed;
use crate::os::supervise::Fate;
use crate::protocol::process::{FamilyOp, ProcessOp};
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One operation of the supervisor on its family `i` (spawn order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Fork a child that forks a grandchild, then waits and meets `fate`.
    Spawn(Fate),
    /// Ask grandchild `i` its `getppid()`.
    Ask(u8),
    /// Let child `i` meet its fate.
    Release(u8),
    /// `waitpid` for child `i`, blocking.
    ReapChild(u8),
    /// Let grandchild `i` go (it ends).
    LetGo(u8),
    /// `waitpid` for grandchild `i`, blocking.
    ReapGrandchild(u8),
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Spawn(fate) => write!(f, "fork a child that forks a grandchild, then waits to {fate:?}"),
            Op::Ask(i) => write!(f, "ask grandchild {i} its getppid()"),
            Op::Release(i) => write!(f, "release child {i}"),
            Op::ReapChild(i) => write!(f, "waitpid(child {i})"),
            Op::LetGo(i) => write!(f, "let grandchild {i} go (it ends)"),
            Op::ReapGrandchild(i) => write!(f, "waitpid(grandchild {i})"),
        }
    }
}

/// One step (of actor 0, the supervisor).
pub type Step = crate::engine::Step<Op>;

/// Families a case may fork.
pub const MAX_FAMILIES: u8 = 4;

/// An orphan case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanCase {
    /// Whether the supervisor makes itself a subreaper first.
    pub subreaper: bool,
    /// What it does, in order.
    pub steps: Vec<Step>,
}

impl OrphanCase {
    /// Whether the case is within range (a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        for (i, step) in self.steps.iter().enumerate() {
            if step.actor != 0 {
                return Err(format!("step {}: actor {}; a case has one supervisor, actor 0", i + 1, step.actor));
            }
            if let Op::Spawn(Fate::Raise(s) | Fate::Killed(s)) = step.op {
                if !crate::os::signal::ENDING_SIGNALS.contains(&s) {
                    return Err(format!("step {}: signal {s} is not one a child may be ended by here", i + 1));
                }
            }
        }
        if let Some((i, why)) = crate::engine::first_unissuable(&self.steps, 1, Skeleton::default()) {
            return Err(format!("step {}: {}: {why}", i + 1, self.steps[i].op));
        }
        Ok(())
    }

    /// The case with every step issuable: at most [`MAX_FAMILIES`]
    /// families; an ask only of a grandchild not let go; a release only
    /// once; a reap of a child only once released, of a grandchild only
    /// once let go and its parent reaped, each once.
    pub fn issuable(mut self) -> OrphanCase {
        crate::engine::keep_issuable(&mut self.steps, 1, Skeleton::default());
        self
    }
}

/// What the case alone decides about one family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Fam {
    released: bool,
    child_reaped: bool,
    let_go: bool,
    grand_reaped: bool,
}

#[derive(Default)]
struct Skeleton {
    families: Vec<Fam>,
}

impl crate::engine::Skeleton<Step> for Skeleton {
    fn admit(&mut self, step: &Step) -> Result<(), &'static str> {
        if step.actor != 0 {
            return Err("one supervisor only");
        }
        if let Op::Spawn(_) = step.op {
            if self.families.len() >= usize::from(MAX_FAMILIES) {
                return Err("too many families");
            }
            self.families.push(Fam::default());
            return Ok(());
        }
        let (Op::Ask(i) | Op::Release(i) | Op::ReapChild(i) | Op::LetGo(i) | Op::ReapGrandchild(i)) = step.op else {
            return Ok(());
        };
        let f = self.families.get_mut(usize::from(i)).ok_or("no such family")?;
        match step.op {
            Op::Ask(_) | Op::LetGo(_) if f.let_go => return Err("the grandchild was let go"),
            Op::Release(_) if f.released => return Err("released already"),
            Op::ReapChild(_) if !f.released || f.child_reaped => return Err("not released, or reaped already"),
            Op::ReapGrandchild(_) if !f.let_go || !f.child_reaped || f.grand_reaped => {
                return Err("the grandchild is not let go, its parent not reaped, or it was reaped already")
            }
            _ => {}
        }
        match step.op {
            Op::Release(_) => f.released = true,
            Op::ReapChild(_) => f.child_reaped = true,
            Op::LetGo(_) => f.let_go = true,
            Op::ReapGrandchild(_) => f.grand_reaped = true,
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for OrphanCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.subreaper { "a subreaper (PR_SET_CHILD_SUBREAPER)" } else { "not a subreaper" };
        writeln!(f, "setup: one supervisor, {who}, no children")?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. supervisor: {}", i + 1, step.op)?;
        }
        writeln!(
            f,
            "then every grandchild let go, every child released and reaped (and with a subreaper every grandchild)"
        )
    }
}

/// One family as the model knows it.
#[derive(Clone, Copy, Debug)]
struct Family {
    fate: Fate,
    /// (child, grandchild) pids; `None` if the host refused the forks.
    pids: Option<(i64, i64)>,
    state: Fam,
}

/// The reference model of an orphan case.
#[derive(Clone, Debug)]
pub struct OrphanModel {
    subreaper: bool,
    /// The supervisor's pid (from its first spawn).
    me: Option<i64>,
    families: Vec<Family>,
    /// Asks judged (an observation).
    asks: u64,
}

/// The name of the observation counting `getppid()` answers judged.
pub const ASKS_OBSERVED: &str = "getppid() answers judged";

impl OrphanModel {
    /// No families yet.
    pub fn new(subreaper: bool) -> OrphanModel {
        OrphanModel { subreaper, me: None, families: Vec::new(), asks: 0 }
    }

    fn ask(&mut self, i: u8, values: &[i64]) -> Result<(), Violation> {
        let f = self.families[usize::from(i)];
        let (Some((child, grand)), [pid, ppid, exists]) = (f.pids, values) else {
            return Err(violation(&[rules::ORPHAN_REPARENT], format!("grandchild {i} answered {values:?}")));
        };
        let me = self.me.unwrap_or(-1);
        let fail = |what: String| {
            Err(violation(
                &[rules::ORPHAN_REPARENT],
                format!("grandchild {i} (pid {grand}) says its parent is {ppid}: {what}"),
            ))
        };
        if *pid != grand {
            return Err(violation(
                &[rules::ORPHAN_REPARENT],
                format!("grandchild {i} says its pid is {pid}, not {grand}"),
            ));
        }
        self.asks += 1;
        let adopted = || -> Result<(), Violation> {
            if self.subreaper && *ppid != me {
                return fail(format!("its parent (pid {child}) was reaped, so it is the subreaper's (pid {me})"));
            }
            if !self.subreaper && (*ppid == child || *ppid == me || *ppid <= 0 || *ppid == grand) {
                return fail(format!(
                    "its parent (pid {child}) was reaped; expected an adopter other than it and the supervisor (pid {me}), which is no subreaper"
                ));
            }
            if *exists != 1 {
                return fail("no such process (kill(ppid, 0) found none)".into());
            }
            Ok(())
        };
        match f.state {
            Fam { released: false, .. } if *ppid != child => fail(format!("its parent (pid {child}) is alive")),
            Fam { released: false, .. } => Ok(()),
            Fam { child_reaped: false, .. } if *ppid == child => Ok(()), // released, maybe still running
            _ => adopted(),
        }
    }

    fn state(&mut self, i: u8) -> &mut Fam {
        &mut self.families[usize::from(i)].state
    }

    fn status(&self, i: u8, grand: bool, values: &[i64]) -> Result<(), Violation> {
        let f = self.families[usize::from(i)];
        let Some((child, grandchild)) = f.pids else { return Ok(()) };
        let (pid, want) = if grand {
            (grandchild, (1, 0))
        } else {
            let want = match f.fate {
                Fate::Exit(c) => (1, i64::from(c)),
                Fate::Raise(s) | Fate::Killed(s) => (2, i64::from(s)),
            };
            (child, want)
        };
        match values {
            [p, kind, value] if *p == pid && (*kind, *value) == want => Ok(()),
            other => Err(violation(
                &[if grand { rules::ORPHAN_REPARENT } else { rules::WAIT_STATUS }],
                format!(
                    "waitpid({} {i}, pid {pid}) reported {other:?}; expected [{pid}, {}, {}]",
                    if grand { "grandchild" } else { "child" },
                    want.0,
                    want.1
                ),
            )),
        }
    }
}

impl Checker for OrphanModel {
    type Op = Op;

    fn can_issue(&self, _actor: u8, op: &Op) -> Result<(), &'static str> {
        match op {
            Op::Spawn(_) => Ok(()),
            Op::Ask(i) | Op::Release(i) | Op::ReapChild(i) | Op::LetGo(i) | Op::ReapGrandchild(i) => {
                match self.families.get(usize::from(*i)) {
                    Some(Family { pids: Some(_), .. }) => Ok(()),
                    _ => Err("the forks of that family were refused"),
                }
            }
        }
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let Event::Step { op, observed, .. } = event else {
            return match event {
                Event::Skipped { .. } => Ok(()),
                other => Err(violation(&[rules::ORPHAN_REPARENT], format!("unexpected: {other:?}"))),
            };
        };
        let Observed::Returned(reply) = observed else {
            return Err(violation(&[rules::ORPHAN_REPARENT], format!("{op}: {}", describe(observed))));
        };
        match (*op, reply) {
            (Op::Spawn(fate), Reply::Values(v)) if v.len() == 3 => {
                self.me.get_or_insert(v[2]);
                self.families.push(Family { fate, pids: Some((v[0], v[1])), state: Fam::default() });
                Ok(())
            }
            (Op::Spawn(fate), Reply::Errno(_)) => {
                self.families.push(Family { fate, pids: None, state: Fam::default() });
                Ok(())
            }
            (Op::Ask(i), Reply::Values(v)) => self.ask(i, v),
            (Op::Release(i), Reply::Done) => {
                self.state(i).released = true;
                Ok(())
            }
            (Op::LetGo(i), Reply::Done) => {
                self.state(i).let_go = true;
                Ok(())
            }
            (Op::ReapChild(i), Reply::Values(v)) => {
                self.status(i, false, v)?;
                self.state(i).child_reaped = true;
                Ok(())
            }
            (Op::ReapGrandchild(i), reply) => {
                self.state(i).grand_reaped = true;
                match reply {
                    Reply::Values(v) if self.subreaper => self.status(i, true, v),
                    Reply::Errno(e) if *e == libc::ECHILD && !self.subreaper => Ok(()),
                    other => Err(violation(
                        &[rules::ORPHAN_REPARENT],
                        format!(
                            "{op}: {}; expected {}",
                            describe(&Observed::Returned(other.clone())),
                            if self.subreaper {
                                "its status: it is the subreaper's child since its parent was reaped"
                            } else {
                                "ECHILD: it was adopted by another process"
                            }
                        ),
                    )),
                }
            }
            (op, other) => Err(violation(
                &[rules::ORPHAN_REPARENT],
                format!("{op}: {}", describe(&Observed::Returned(other.clone()))),
            )),
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        Vec::new()
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![(ASKS_OBSERVED.to_string(), self.asks)]
    }
}

/// Runs one orphan case.
pub fn run(case: &OrphanCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    crate::engine::run(Orphans { case }, OrphanModel::new(case.subreaper), timing)
}

struct Orphans<'a> {
    case: &'a OrphanCase,
}

impl Mechanism for Orphans<'_> {
    type Op = Op;
    type Model = OrphanModel;

    /// The case's steps, then every grandchild let go, every child
    /// released and reaped, and with a subreaper every grandchild reaped.
    fn steps(&self) -> Vec<(u8, Op)> {
        let mut steps: Vec<(u8, Op)> = self.case.steps.iter().map(|s| (0, s.op)).collect();
        let mut skeleton = Skeleton::default();
        for s in &self.case.steps {
            let _ = crate::engine::Skeleton::admit(&mut skeleton, s);
        }
        for (i, f) in skeleton.families.iter().enumerate() {
            let i = i as u8;
            let mut tail = Vec::new();
            if !f.let_go {
                tail.push(Op::LetGo(i));
            }
            if !f.released {
                tail.push(Op::Release(i));
            }
            if !f.child_reaped {
                tail.push(Op::ReapChild(i));
            }
            if self.case.subreaper && !f.grand_reaped {
                tail.push(Op::ReapGrandchild(i));
            }
            steps.extend(tail.into_iter().map(|op| (0, op)));
        }
        steps
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let id = session.spawn()?;
        if self.case.subreaper {
            match session.call(id, &Request::Process(ProcessOp::Subreaper { on: true }))? {
                Observed::Returned(Reply::Done) => {}
                Observed::Returned(Reply::Errno(e)) => {
                    return Err(Stop::Unsupported(format!(
                        "prctl(PR_SET_CHILD_SUBREAPER) refused: {}",
                        std::io::Error::from_raw_os_error(e)
                    )))
                }
                other => return Err(Stop::harness(format!("making {id} a subreaper: {}", describe(&other)))),
            }
        }
        Ok(())
    }

    fn made_by(&self) -> Vec<&'static str> {
        if self.case.subreaper {
            vec!["subreaper"]
        } else {
            Vec::new()
        }
    }

    fn invocation(&self, _model: &OrphanModel, _a: u8, op: &Op) -> Result<Invocation, Stop> {
        let family = |op| Invocation::Call(Request::Process(ProcessOp::Family(op)));
        Ok(match *op {
            Op::Spawn(fate) => family(FamilyOp::Spawn { fate }),
            Op::Ask(i) => family(FamilyOp::Ask { family: u32::from(i) }),
            Op::Release(i) => family(FamilyOp::Release { family: u32::from(i) }),
            Op::ReapChild(i) => family(FamilyOp::ReapChild { family: u32::from(i) }),
            Op::LetGo(i) => family(FamilyOp::LetGo { family: u32::from(i) }),
            Op::ReapGrandchild(i) => family(FamilyOp::ReapGrandchild { family: u32::from(i) }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(m: &mut OrphanModel, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::Step { index: 0, actor: 0, op, observed: Observed::Returned(reply) })
    }

    #[test]
    fn the_grandchild_s_parent_is_its_parent_then_the_subreaper() {
        let mut m = OrphanModel::new(true);
        step(&mut m, Op::Spawn(Fate::Exit(4)), Reply::Values(vec![20, 21, 10])).unwrap();
        assert!(step(&mut m.clone(), Op::Ask(0), Reply::Values(vec![21, 10, 1])).is_err(), "parent alive");
        step(&mut m, Op::Ask(0), Reply::Values(vec![21, 20, 1])).unwrap();
        step(&mut m, Op::Release(0), Reply::Done).unwrap();
        step(&mut m, Op::Ask(0), Reply::Values(vec![21, 20, 1])).unwrap(); // may not have ended yet
        let wrong = step(&mut m.clone(), Op::ReapChild(0), Reply::Values(vec![20, 1, 5])).unwrap_err();
        assert_eq!(wrong.rules, vec![rules::WAIT_STATUS]);
        step(&mut m, Op::ReapChild(0), Reply::Values(vec![20, 1, 4])).unwrap();
        let v = step(&mut m.clone(), Op::Ask(0), Reply::Values(vec![21, 20, 1])).unwrap_err();
        assert_eq!(v.rules, vec![rules::ORPHAN_REPARENT], "the reaped parent");
        assert!(step(&mut m.clone(), Op::Ask(0), Reply::Values(vec![21, 1, 1])).is_err(), "init, past the subreaper");
        step(&mut m, Op::Ask(0), Reply::Values(vec![21, 10, 1])).unwrap();
        step(&mut m, Op::LetGo(0), Reply::Done).unwrap();
        assert!(step(&mut m.clone(), Op::ReapGrandchild(0), Reply::Errno(libc::ECHILD)).is_err());
        step(&mut m, Op::ReapGrandchild(0), Reply::Values(vec![21, 1, 0])).unwrap();
    }

    #[test]
    fn without_a_subreaper_the_orphan_goes_to_another_adopter() {
        let mut m = OrphanModel::new(false);
        step(&mut m, Op::Spawn(Fate::Killed(libc::SIGTERM)), Reply::Values(vec![20, 21, 10])).unwrap();
        step(&mut m, Op::Release(0), Reply::Done).unwrap();
        step(&mut m, Op::ReapChild(0), Reply::Values(vec![20, 2, i64::from(libc::SIGTERM)])).unwrap();
        assert!(step(&mut m.clone(), Op::Ask(0), Reply::Values(vec![21, 10, 1])).is_err(), "no subreaper");
        assert!(step(&mut m.clone(), Op::Ask(0), Reply::Values(vec![21, 77, 0])).is_err(), "no such process");
        step(&mut m, Op::Ask(0), Reply::Values(vec![21, 1, 1])).unwrap();
        step(&mut m, Op::LetGo(0), Reply::Done).unwrap();
        assert!(step(&mut m.clone(), Op::ReapGrandchild(0), Reply::Values(vec![21, 1, 0])).is_err());
        step(&mut m, Op::ReapGrandchild(0), Reply::Errno(libc::ECHILD)).unwrap();
    }
}
