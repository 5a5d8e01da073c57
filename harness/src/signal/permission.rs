//! Permission to signal (`signal.permission`): one scenario, its case
//! type, its model and its executor. Three actors: a target that stays
//! root, a target that switches to the second user (uid 65534), and a
//! sender that switches to that user too; both targets catch `SIGUSR1`
//! with the recording handler. The sender's `kill` of the root target,
//! with `SIGUSR1` or with signal 0 (the existence check), is owed
//! `EPERM` and no delivery; its `kill` of the target of its own user is
//! the positive control: it succeeds and the handler runs. Unsupported
//! where no second user is at hand (not root).

use super::rules;
use crate::case::{CaseOutcome, CaseReport, Stop};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::engine::{Invocation, Mechanism};
use crate::observed::Observed;
use crate::os::process::UNPRIVILEGED;
use crate::protocol::signal::SignalOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The actors: the root target, the second user's target, the sender.
const FOREIGN: u8 = 0;
const OWN: u8 = 1;
const SENDER: u8 = 2;

/// One operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// The sender's `kill` of the root target (`foreign`) or of the
    /// second user's, with `SIGUSR1` or with signal 0 (`probe`).
    Kill { foreign: bool, probe: bool },
    /// A target reports the deliveries its handler recorded (the last
    /// steps, always).
    Take { foreign: bool },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = |foreign: bool| if foreign { "the root target" } else { "the target of its own user" };
        match self {
            Op::Kill { foreign, probe } => {
                write!(f, "kill({}, {})", whose(*foreign), if *probe { "0" } else { "SIGUSR1" })
            }
            Op::Take { foreign } => write!(f, "{} reports the deliveries its handler recorded", whose(*foreign)),
        }
    }
}

/// A permission case: the sender's kills, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionCase {
    /// The sender's kills (`Op::Kill` only; the reports follow).
    pub kills: Vec<Op>,
}

impl PermissionCase {
    /// Whether the case is within range (a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        if self.kills.len() > 64 {
            return Err(format!("{} kills; at most 64", self.kills.len()));
        }
        match self.kills.iter().position(|op| !matches!(op, Op::Kill { .. })) {
            Some(i) => Err(format!("step {}: {}: only kills are a case's", i + 1, self.kills[i])),
            None => Ok(()),
        }
    }

    fn steps(&self) -> Vec<(u8, Op)> {
        let mut steps: Vec<(u8, Op)> = self.kills.iter().map(|op| (SENDER, *op)).collect();
        steps.extend([(FOREIGN, Op::Take { foreign: true }), (OWN, Op::Take { foreign: false })]);
        steps
    }
}

impl fmt::Display for PermissionCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (uid, _) = UNPRIVILEGED;
        writeln!(
            f,
            "setup: actor 0 stays root, actor 1 switches to uid {uid}, both catch SIGUSR1; actor 2 (the sender) switches to uid {uid}"
        )?;
        for (i, (a, op)) in self.steps().iter().enumerate() {
            writeln!(f, "{:>3}. actor {a}: {op}", i + 1)?;
        }
        Ok(())
    }
}

/// The reference model of a permission case.
#[derive(Clone, Debug, Default)]
pub struct PermissionModel {
    /// `SIGUSR1` kills of the own target that succeeded.
    sent: u64,
    /// Kills judged (an observation).
    judged: u64,
}

impl Checker for PermissionModel {
    type Op = Op;

    fn can_issue(&self, _actor: u8, _op: &Op) -> Result<(), &'static str> {
        Ok(())
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let Event::Step { op, observed, .. } = event else {
            return match event {
                Event::Skipped { .. } => Ok(()),
                other => Err(violation(&[rules::PERMISSION], format!("unexpected: {other:?}"))),
            };
        };
        let Observed::Returned(reply) = observed else {
            return Err(violation(&[rules::PERMISSION], format!("{op}: {}", describe(observed))));
        };
        let text = describe(&Observed::Returned(reply.clone()));
        match (*op, reply) {
            (Op::Kill { foreign: true, .. }, Reply::Errno(e)) if *e == libc::EPERM => {
                self.judged += 1;
                Ok(())
            }
            (Op::Kill { foreign: true, .. }, _) => Err(violation(
                &[rules::PERMISSION],
                format!("{op} by uid {}: {text}; expected EPERM (another user's process)", UNPRIVILEGED.0),
            )),
            (Op::Kill { foreign: false, probe }, Reply::Done) => {
                self.judged += 1;
                self.sent += u64::from(!probe);
                Ok(())
            }
            (Op::Kill { foreign: false, .. }, _) => Err(violation(
                &[rules::PERMISSION],
                format!("{op}: {text}; expected success (a process of the sender's own user)"),
            )),
            (Op::Take { foreign: true }, Reply::Values(v)) if v.is_empty() => Ok(()),
            (Op::Take { foreign: true }, Reply::Values(v)) => Err(violation(
                &[rules::PERMISSION],
                format!(
                    "the root target's handler ran ({} deliveries) although every kill of it was refused",
                    v.len() / 2
                ),
            )),
            (Op::Take { foreign: false }, Reply::Values(v)) => {
                let got = (v.len() / 2) as u64;
                let owed = u64::from(self.sent > 0)..=self.sent;
                if owed.contains(&got) {
                    Ok(())
                } else {
                    Err(violation(
                        &[rules::PERMISSION],
                        format!("the own-user target's handler ran {got} time(s) after {} kill(s) of it", self.sent),
                    ))
                }
            }
            (op, _) => Err(violation(&[rules::PERMISSION], format!("{op}: {text}"))),
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        Vec::new()
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![("kills judged".to_string(), self.judged)]
    }
}

/// Runs one permission case (unsupported where no second user is at hand).
pub fn run(case: &PermissionCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    if !crate::os::process::can_switch_user() {
        let mut report = CaseReport::new();
        report.outcome = CaseOutcome::Unsupported(format!(
            "needs a second user: run as root so that actors can switch to uid {}",
            UNPRIVILEGED.0
        ));
        return report;
    }
    crate::engine::run(Permissions { case, pids: Vec::new() }, PermissionModel::default(), timing)
}

struct Permissions<'a> {
    case: &'a PermissionCase,
    pids: Vec<i32>,
}

impl Mechanism for Permissions<'_> {
    type Op = Op;
    type Model = PermissionModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let ids = (0..3).map(|_| session.spawn()).collect::<Result<Vec<ActorId>, _>>()?;
        self.pids = ids.iter().map(|id| session.pid(*id)).collect();
        let (uid, gid) = UNPRIVILEGED;
        for (i, id) in ids.iter().enumerate() {
            let mut requests = Vec::new();
            if i != usize::from(SENDER) {
                requests.push(Request::Signal(SignalOp::Catch { signals: vec![libc::SIGUSR1], restart: true }));
            }
            if i != usize::from(FOREIGN) {
                requests.push(Request::DropPrivileges { uid, gid });
            }
            for r in requests {
                let got = session.call(*id, &r)?;
                if got != Observed::Returned(Reply::Done) {
                    return Err(Stop::harness(format!("setting up {id} ({r:?}): {}", describe(&got))));
                }
            }
        }
        Ok(())
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        matches!(op, Op::Kill { .. }).then_some("kill")
    }

    fn invocation(&self, _model: &PermissionModel, _a: u8, op: &Op) -> Result<Invocation, Stop> {
        Ok(Invocation::Call(Request::Signal(match *op {
            Op::Kill { foreign, probe } => SignalOp::Kill {
                pid: self.pids[usize::from(if foreign { FOREIGN } else { OWN })],
                signal: if probe { 0 } else { libc::SIGUSR1 },
            },
            Op::Take { .. } => SignalOp::Take { signals: vec![libc::SIGUSR1] },
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(m: &mut PermissionModel, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::step(0, SENDER, op, Observed::Returned(reply)))
    }

    #[test]
    fn another_user_s_process_is_refused_and_one_s_own_reached() {
        let mut m = PermissionModel::default();
        let foreign = Op::Kill { foreign: true, probe: false };
        let v = step(&mut m.clone(), foreign, Reply::Done).unwrap_err();
        assert_eq!(v.rules, vec![rules::PERMISSION]);
        step(&mut m, foreign, Reply::Errno(libc::EPERM)).unwrap();
        step(&mut m, Op::Kill { foreign: true, probe: true }, Reply::Errno(libc::EPERM)).unwrap();
        assert!(step(&mut m.clone(), Op::Kill { foreign: false, probe: false }, Reply::Errno(libc::EPERM)).is_err());
        step(&mut m, Op::Kill { foreign: false, probe: false }, Reply::Done).unwrap();
        assert!(step(&mut m.clone(), Op::Take { foreign: true }, Reply::Values(vec![10, -1])).is_err());
        step(&mut m, Op::Take { foreign: true }, Reply::Values(vec![])).unwrap();
        assert!(step(&mut m.clone(), Op::Take { foreign: false }, Reply::Values(vec![])).is_err(), "lost");
        step(&mut m, Op::Take { foreign: false }, Reply::Values(vec![10, -1])).unwrap();
    }
}
