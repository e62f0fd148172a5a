//! ClickHouse `sequenceMatch` / `sequenceCount` patterns: parsing and matching.
//!
//! Grammar (no spaces, as in ClickHouse): `(?N)` an event matching condition N, `.` any
//! one event, `.*` any run of events, `(?t op n)` with op in `<= < >= > ==` comparing the
//! next event's time with the previous matched event's time plus `n`. The pattern has an
//! implicit leading `.*`. Patterns without time conditions run as an NFA over the events
//! (linear); others run ClickHouse's backtracking matcher, capped at 1,000,000 steps.

use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;

/// ClickHouse's iteration cap for the backtracking matcher.
const MAX_ITERATIONS: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    KleeneStar,
    AnyEvent,
    /// 0-based condition index.
    Event(u32),
    TimeLessOrEqual(i64),
    TimeLess(i64),
    TimeGreaterOrEqual(i64),
    TimeGreater(i64),
    TimeEqual(i64),
}

#[derive(Debug, Clone, Copy, Default)]
struct DfaState {
    kleene: bool,
    /// `None`: final state; `Some(None)`: any event; `Some(Some(i))`: condition i.
    transition: Option<Option<u32>>,
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    actions: Vec<Action>,
    dfa: Vec<DfaState>,
    has_time: bool,
    /// Bit i: condition i + 1 appears in the pattern.
    pub conditions: u32,
}

impl Pattern {
    /// Parses `text` for a call with `conditions` conditions; `units_per_second` scales
    /// the numbers of `(?t ...)` (1 for integer timestamps).
    pub(crate) fn parse(
        function: &str,
        text: &str,
        conditions: usize,
        units_per_second: i64,
    ) -> Result<Self> {
        let mut actions = vec![Action::KleeneStar];
        let mut dfa = vec![DfaState {
            kleene: true,
            transition: None,
        }];
        let mut has_time = false;
        let mut mask = 0u32;
        let bytes = text.as_bytes();
        let mut pos = 0usize;
        let fail = |pos: usize, what: &str| {
            plan_err!(
                "{function}: argument 1 (pattern): {what} at position {pos}: '{}'",
                &text[pos.min(text.len())..]
            )
        };
        let eat = |pos: &mut usize, s: &str| {
            if bytes[*pos..].starts_with(s.as_bytes()) {
                *pos += s.len();
                true
            } else {
                false
            }
        };
        let number = |pos: &mut usize| -> Option<u64> {
            let start = *pos;
            while *pos < bytes.len() && bytes[*pos].is_ascii_digit() {
                *pos += 1;
            }
            text[start..*pos].parse().ok()
        };
        while pos < bytes.len() {
            if eat(&mut pos, "(?") {
                if eat(&mut pos, "t") {
                    let op = if eat(&mut pos, "<=") {
                        Action::TimeLessOrEqual
                    } else if eat(&mut pos, "<") {
                        Action::TimeLess
                    } else if eat(&mut pos, ">=") {
                        Action::TimeGreaterOrEqual
                    } else if eat(&mut pos, ">") {
                        Action::TimeGreater
                    } else if eat(&mut pos, "==") {
                        Action::TimeEqual
                    } else {
                        return fail(pos, "unknown time condition");
                    };
                    let Some(n) = number(&mut pos) else {
                        return fail(pos, "could not parse number");
                    };
                    let n = i64::try_from(n)
                        .unwrap_or(i64::MAX)
                        .saturating_mul(units_per_second);
                    has_time = true;
                    actions.push(op(n));
                } else {
                    let Some(n) = number(&mut pos) else {
                        return fail(pos, "could not parse number");
                    };
                    if n == 0 || n > conditions as u64 {
                        return plan_err!(
                            "{function}: argument 1 (pattern): event number {n} is out of \
                             range 1..={conditions}"
                        );
                    }
                    let index = (n - 1) as u32;
                    actions.push(Action::Event(index));
                    if let Some(last) = dfa.last_mut() {
                        last.transition = Some(Some(index));
                    }
                    dfa.push(DfaState::default());
                    mask |= 1 << index;
                }
                if !eat(&mut pos, ")") {
                    return fail(pos, "expected closing parenthesis");
                }
            } else if eat(&mut pos, ".*") {
                actions.push(Action::KleeneStar);
                if let Some(last) = dfa.last_mut() {
                    last.kleene = true;
                }
            } else if eat(&mut pos, ".") {
                actions.push(Action::AnyEvent);
                if let Some(last) = dfa.last_mut() {
                    last.transition = Some(None);
                }
                dfa.push(DfaState::default());
            } else {
                return fail(pos, "unexpected symbol");
            }
        }
        Ok(Self {
            actions,
            dfa,
            has_time,
            conditions: mask,
        })
    }

    /// `sequence_match` over events sorted by time (`(ts, condition bits)`).
    pub(crate) fn matches(&self, events: &[(i64, u32)], met: u32) -> Result<bool> {
        if met & self.conditions != self.conditions {
            return Ok(false);
        }
        if self.has_time {
            let mut it = 0;
            Ok(self.deterministic_parts(events)? && self.backtrack(events, &mut it)?)
        } else {
            Ok(self.dfa_match(events))
        }
    }

    /// `sequence_count`: non-overlapping matches, each search restarting after the last.
    pub(crate) fn count(&self, events: &[(i64, u32)], met: u32) -> Result<i64> {
        if met & self.conditions != self.conditions {
            return Ok(0);
        }
        let mut count = 0;
        let mut it = 0;
        if self.deterministic_parts(events)? {
            while it < events.len() && self.backtrack(events, &mut it)? {
                count += 1;
            }
        }
        Ok(count)
    }

    fn dfa_match(&self, events: &[(i64, u32)]) -> bool {
        let n = self.dfa.len();
        let mut active = vec![false; n];
        let mut next = vec![false; n];
        active[0] = true;
        let mut n_active = 1;
        for &(_, bits) in events {
            if n_active == 0 || active[n - 1] {
                break;
            }
            n_active = 0;
            next.iter_mut().for_each(|s| *s = false);
            for (state, dfa) in self.dfa.iter().enumerate() {
                if !active[state] {
                    continue;
                }
                let advance = match dfa.transition {
                    None => false,
                    Some(None) => true,
                    Some(Some(c)) => bits & (1 << c) != 0,
                };
                if advance {
                    next[state + 1] = true;
                    n_active += 1;
                }
                if dfa.kleene {
                    next[state] = true;
                    n_active += 1;
                }
            }
            std::mem::swap(&mut active, &mut next);
        }
        active[n - 1]
    }

    /// ClickHouse's quick rejection: the runs of `(?N)` / `.` between `.*` and time
    /// conditions must occur, in order, as consecutive events.
    fn deterministic_parts(&self, events: &[(i64, u32)]) -> Result<bool> {
        let mut processed = 0usize;
        let mut ev = 0usize;
        let mut part_begin = 0usize;
        let mut match_part = |begin: usize, end: usize, ev: &mut usize| -> Result<bool> {
            let mut init = *ev;
            let mut a = begin;
            while a != end && *ev < events.len() {
                let ok = match self.actions[a] {
                    Action::AnyEvent => true,
                    Action::Event(c) => events[*ev].1 & (1 << c) != 0,
                    _ => true,
                };
                if ok {
                    *ev += 1;
                    a += 1;
                } else {
                    init += 1;
                    *ev = init;
                    a = begin;
                }
                processed += 1;
                if processed > MAX_ITERATIONS {
                    return exec_err!(
                        "sequence pattern too difficult: more than {MAX_ITERATIONS} steps"
                    );
                }
            }
            Ok(a == end)
        };
        for (i, action) in self.actions.iter().enumerate() {
            if !matches!(action, Action::Event(_) | Action::AnyEvent) {
                if !match_part(part_begin, i, &mut ev)? {
                    return Ok(false);
                }
                part_begin = i + 1;
            }
        }
        match_part(part_begin, self.actions.len(), &mut ev)
    }

    /// ClickHouse's backtracking matcher, starting at `*events_it`; on return
    /// `*events_it` is just after the match.
    fn backtrack(&self, events: &[(i64, u32)], events_it: &mut usize) -> Result<bool> {
        let end = events.len();
        let actions = &self.actions;
        let mut action = 0usize;
        let events_begin = *events_it;
        let mut ev = *events_it;
        let mut base = ev;
        let mut stack: Vec<(usize, usize, usize)> = Vec::new();
        let backtrack = |stack: &mut Vec<(usize, usize, usize)>,
                         action: &mut usize,
                         ev: &mut usize,
                         base: &mut usize| {
            while let Some((a, e, b)) = stack.pop() {
                *action = a;
                *ev = e + 1;
                *base = b;
                if *ev != end {
                    return true;
                }
            }
            false
        };
        let mut iterations = 0usize;
        while action < actions.len() && ev < end {
            let base_ts = events[base].0;
            let ts = events[ev].0;
            match actions[action] {
                Action::Event(c) => {
                    if events[ev].1 & (1 << c) != 0 {
                        base = ev;
                        action += 1;
                        ev += 1;
                    } else if !backtrack(&mut stack, &mut action, &mut ev, &mut base) {
                        break;
                    }
                }
                Action::AnyEvent => {
                    base = ev;
                    action += 1;
                    ev += 1;
                }
                Action::KleeneStar => {
                    stack.push((action, ev, base));
                    base = ev;
                    action += 1;
                }
                Action::TimeLessOrEqual(n) | Action::TimeLess(n) => {
                    let ok = match actions[action] {
                        Action::TimeLess(_) => ts < base_ts.saturating_add(n),
                        _ => ts <= base_ts.saturating_add(n),
                    };
                    if ok {
                        stack.push((action, ev, base));
                        base = ev;
                        action += 1;
                    } else if !backtrack(&mut stack, &mut action, &mut ev, &mut base) {
                        break;
                    }
                }
                Action::TimeGreaterOrEqual(n) | Action::TimeGreater(n) | Action::TimeEqual(n) => {
                    let limit = base_ts.saturating_add(n);
                    let ok = match actions[action] {
                        Action::TimeGreaterOrEqual(_) => ts >= limit,
                        Action::TimeGreater(_) => ts > limit,
                        _ => ts == limit,
                    };
                    if ok {
                        stack.push((action, ev, base));
                        base = ev;
                        action += 1;
                    } else {
                        ev += 1;
                        if ev == end && !backtrack(&mut stack, &mut action, &mut ev, &mut base) {
                            break;
                        }
                    }
                }
            }
            iterations += 1;
            if iterations > MAX_ITERATIONS {
                return exec_err!(
                    "sequence pattern too difficult: more than {MAX_ITERATIONS} steps"
                );
            }
        }
        // Trailing actions that can match the empty string.
        while action < actions.len()
            && matches!(
                actions[action],
                Action::KleeneStar
                    | Action::TimeLessOrEqual(_)
                    | Action::TimeLess(_)
                    | Action::TimeGreaterOrEqual(0)
            )
        {
            action += 1;
        }
        if ev == events_begin {
            ev += 1;
        }
        *events_it = ev;
        Ok(action == actions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Pattern {
        Pattern::parse("t", text, 3, 1).expect("pattern")
    }

    #[test]
    fn parse_errors() {
        assert!(Pattern::parse("t", "(?1) (?2)", 2, 1).is_err());
        assert!(Pattern::parse("t", "(?0)", 2, 1).is_err());
        assert!(Pattern::parse("t", "(?3)", 2, 1).is_err());
        assert!(Pattern::parse("t", "(?t~3)", 2, 1).is_err());
        assert!(Pattern::parse("t", "(?1", 2, 1).is_err());
    }

    #[test]
    fn matching() {
        let ev = [(1, 0b001), (2, 0b100), (3, 0b010)];
        let met = 0b111;
        // (?1)(?2) needs adjacency: condition 3 in between breaks it.
        assert!(!p("(?1)(?2)").matches(&ev, met).expect("m"));
        assert!(p("(?1).*(?2)").matches(&ev, met).expect("m"));
        assert!(p("(?1).(?2)").matches(&ev, met).expect("m"));
        // (?t<=2) backtracks over events, as in ClickHouse.
        assert!(p("(?1)(?t<=2)(?2)").matches(&ev, met).expect("m"));
        assert!(!p("(?1)(?t<2)(?2)").matches(&ev, met).expect("m"));
        assert_eq!(p("(?1)").count(&[(1, 1), (2, 1), (3, 2)], 3).expect("c"), 2);
        assert_eq!(p("").count(&[(1, 1), (3, 2)], 3).expect("c"), 2);
    }
}
