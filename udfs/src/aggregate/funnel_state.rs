//! Shared machinery of `window_funnel` and `funnel_step_times`: argument layout and
//! checks, the events each row adds (stored per group by `event_groups`), and
//! ClickHouse's `windowFunnel` scan.
//!
//! Each accepted row adds one `(ts, step)` event per true condition (`step` is 1-based);
//! under `strict_order` a row matching nothing adds `(ts, 0)`. Exclusion conditions
//! (`exclude:A-B`) are the last ones, so their events carry steps above the funnel's.
//! Rows with a NULL in any argument are skipped, as in ClickHouse. Finalising sorts by
//! `(ts, step)` and runs one linear scan, so the answer does not depend on arrival order
//! or on how partial states were split across partitions.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, ListArray, UInt8Array};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::physical_expr::expressions::Literal;

use super::event_groups::{
    self, Event, EventAggregate, EventGroups, Grouped, Groups, Rows, Single,
};

/// ClickHouse's limit on the number of conditions.
pub(crate) const MAX_STEPS: usize = 32;

/// Where the arguments of a funnel call are, decided from their types alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Whether argument 2 is the mode string.
    pub has_mode: bool,
    /// 0-based position of `ts`.
    pub ts_pos: usize,
    /// Number of step conditions.
    pub steps: usize,
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Checks the argument types of `window_funnel`-style calls and returns the layout.
pub(crate) fn layout(function: &str, types: &[DataType]) -> Result<Layout> {
    let usage = "(window, [mode,] ts, cond1, ..., condN)";
    if types.len() < 3 {
        return plan_err!(
            "{function}: expected {usage}, got {} arguments",
            types.len()
        );
    }
    let has_mode = is_string(&types[1]) || types[1] == DataType::Null && types.len() > 3;
    let ts_pos = if has_mode { 2 } else { 1 };
    if types.len() < ts_pos + 2 {
        return plan_err!(
            "{function}: expected {usage}: at least one condition after ts (argument {})",
            ts_pos + 1
        );
    }
    let steps = types.len() - ts_pos - 1;
    if steps > MAX_STEPS {
        return plan_err!("{function}: at most {MAX_STEPS} conditions, got {steps}");
    }
    let ts = &types[ts_pos];
    let ts_is_time = matches!(ts, DataType::Timestamp(_, _));
    if !ts_is_time && !ts.is_integer() {
        return plan_err!(
            "{function}: argument {} (ts) must be a TIMESTAMP or an integer, got {ts}",
            ts_pos + 1
        );
    }
    match &types[0] {
        DataType::Interval(_) if !ts_is_time => {
            return plan_err!(
                "{function}: argument 1 (window) is an INTERVAL but argument {} (ts) is \
                 the integer type {ts}; give the window in the same integer units",
                ts_pos + 1
            );
        }
        DataType::Interval(_) => {}
        t if t.is_integer() => {}
        t => {
            return plan_err!(
                "{function}: argument 1 (window) must be an INTERVAL or an integer, got {t}"
            );
        }
    }
    for (i, t) in types.iter().enumerate().skip(ts_pos + 1) {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return plan_err!(
                "{function}: argument {} (condition {}) must be BOOLEAN, got {t}",
                i + 1,
                i - ts_pos
            );
        }
    }
    Ok(Layout {
        has_mode,
        ts_pos,
        steps,
    })
}

/// The types the planner casts the arguments to.
pub(crate) fn coerce(function: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let layout = layout(function, types)?;
    Ok(types
        .iter()
        .enumerate()
        .map(|(i, t)| match i {
            0 if t.is_integer() => DataType::Int64,
            1 if layout.has_mode => DataType::Utf8,
            i if i == layout.ts_pos && t.is_integer() => DataType::Int64,
            i if i > layout.ts_pos => DataType::Boolean,
            _ => t.clone(),
        })
        .collect())
}

/// Most exclusion steps one call may have.
pub(crate) const MAX_EXCLUSIONS: usize = 4;

/// Funnel options, from the mode string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Modes {
    pub dedup: bool,
    pub order: bool,
    pub increase: bool,
    pub reentry: bool,
    pub once: bool,
    /// `exclude:A-B` words in order: the i-th takes the i-th of the trailing exclusion
    /// conditions; `(A, B)` are 1-based steps, `A < B`.
    exclusions: [(u8, u8); MAX_EXCLUSIONS],
    n_exclusions: u8,
}

impl Modes {
    /// Parses ClickHouse's comma-separated mode list; `''` is the default mode.
    pub(crate) fn parse(function: &str, text: &str) -> Result<Self> {
        let mut modes = Self::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "strict_deduplication" => modes.dedup = true,
                "strict_order" => modes.order = true,
                "strict_increase" => modes.increase = true,
                "strict" => {
                    return plan_err!(
                        "{function}: argument 2 (mode): 'strict' is replaced with \
                         'strict_deduplication'"
                    );
                }
                "allow_reentry" => modes.reentry = true,
                "strict_once" => modes.once = true,
                w if w.starts_with("exclude:") => modes.add_exclusion(function, w)?,
                other => {
                    return plan_err!(
                        "{function}: argument 2 (mode): unknown mode '{other}'; expected a \
                         comma-separated list of strict_deduplication, strict_order, \
                         strict_increase, strict_once, allow_reentry, exclude:A-B"
                    );
                }
            }
        }
        if modes.once && (modes.order || modes.dedup) {
            return plan_err!(
                "{function}: argument 2 (mode): strict_once combined with strict_order or \
                 strict_deduplication is not supported yet"
            );
        }
        if modes.reentry && !modes.order {
            return plan_err!("{function}: argument 2 (mode): allow_reentry requires strict_order");
        }
        if modes.once && modes.n_exclusions > 0 {
            return plan_err!(
                "{function}: argument 2 (mode): strict_once combined with exclude:A-B is not \
                 supported yet"
            );
        }
        Ok(modes)
    }

    /// Parses `exclude:A-B` (1-based steps, `A < B`).
    fn add_exclusion(&mut self, function: &str, word: &str) -> Result<()> {
        let range = word.trim_start_matches("exclude:");
        let parsed = range
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse::<u8>().ok()?, b.trim().parse::<u8>().ok()?)));
        let Some((a, b)) = parsed.filter(|&(a, b)| a >= 1 && a < b) else {
            return plan_err!(
                "{function}: argument 2 (mode): '{word}' must be exclude:A-B with steps \
                 1 <= A < B, e.g. exclude:1-2"
            );
        };
        if usize::from(self.n_exclusions) == MAX_EXCLUSIONS {
            return plan_err!(
                "{function}: argument 2 (mode): at most {MAX_EXCLUSIONS} exclude:A-B steps"
            );
        }
        self.exclusions[usize::from(self.n_exclusions)] = (a, b);
        self.n_exclusions += 1;
        Ok(())
    }

    /// No mode word at all: ClickHouse's default scan.
    pub(crate) fn is_default(&self) -> bool {
        !(self.dedup || self.order || self.increase || self.reentry || self.once)
            && self.n_exclusions == 0
    }

    /// The exclusion steps, in the order of their trailing conditions.
    pub(crate) fn exclusions(&self) -> &[(u8, u8)] {
        &self.exclusions[..usize::from(self.n_exclusions)]
    }
}

/// Everything a funnel accumulator needs, read from the physical call.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub layout: Layout,
    pub modes: Modes,
    /// The window in `ts` units.
    pub window: i64,
    /// The type of `ts` (after coercion).
    pub ts_type: DataType,
    /// Whether any argument may be NULL (then a group with no complete row gives NULL).
    pub nullable_input: bool,
}

fn literal<'a>(
    function: &str,
    args: &'a AccumulatorArgs,
    position: usize,
    name: &str,
) -> Result<&'a ScalarValue> {
    match args
        .exprs
        .get(position)
        .and_then(|e| e.downcast_ref::<Literal>())
    {
        Some(lit) => Ok(lit.value()),
        None => plan_err!(
            "{function}: argument {} ({name}) must be a constant",
            position + 1
        ),
    }
}

fn nanos_per_unit(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

impl Params {
    /// Reads and checks the constant window and mode of a call.
    pub(crate) fn from_args(function: &str, args: &AccumulatorArgs) -> Result<Self> {
        let types: Vec<DataType> = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let mut layout = layout(function, &types)?;
        let ts_type = types[layout.ts_pos].clone();
        let modes = if layout.has_mode {
            match literal(function, args, 1, "mode")? {
                v if v.is_null() => Modes::default(),
                v => match v.try_as_str().flatten() {
                    Some(text) => Modes::parse(function, text)?,
                    None => {
                        return plan_err!("{function}: argument 2 (mode) must be a string");
                    }
                },
            }
        } else {
            Modes::default()
        };
        // The last conditions are the exclusion events, one per exclude:A-B.
        let excluded = modes.exclusions().len();
        if excluded > 0 {
            if excluded >= layout.steps {
                return plan_err!(
                    "{function}: argument 2 (mode): {excluded} exclude:A-B step(s) take the \
                     last {excluded} condition(s), which leaves no funnel step"
                );
            }
            layout.steps -= excluded;
            for &(a, b) in modes.exclusions() {
                if usize::from(b) > layout.steps {
                    return plan_err!(
                        "{function}: argument 2 (mode): exclude:{a}-{b} names step {b}, but \
                         the funnel has {} steps (the last {excluded} condition(s) are \
                         exclusions)",
                        layout.steps
                    );
                }
            }
        }
        let window_value = literal(function, args, 0, "window")?;
        let unit_nanos = match &ts_type {
            DataType::Timestamp(unit, _) => Some(nanos_per_unit(*unit)),
            _ => None,
        };
        let bad_window = |what: &str| {
            plan_err!(
                "{function}: argument 1 (window) must be a non-negative constant INTERVAL \
                 (days, hours, minutes, seconds) or integer, {what}"
            )
        };
        let window = match window_value {
            ScalarValue::Int64(Some(w)) if *w >= 0 => match unit_nanos {
                // Integer seconds against a TIMESTAMP; saturate on overflow.
                Some(n) => w.saturating_mul(1_000_000_000 / n),
                None => *w,
            },
            ScalarValue::IntervalMonthDayNano(Some(v)) => {
                if v.months != 0 {
                    return bad_window("got months, whose length varies");
                }
                let nanos = i128::from(v.days) * 86_400_000_000_000 + i128::from(v.nanoseconds);
                if nanos < 0 {
                    return bad_window("got a negative interval");
                }
                let per = i128::from(unit_nanos.unwrap_or(1_000_000_000));
                i64::try_from(nanos / per).unwrap_or(i64::MAX)
            }
            ScalarValue::IntervalDayTime(Some(v)) => {
                let millis = i128::from(v.days) * 86_400_000 + i128::from(v.milliseconds);
                if millis < 0 {
                    return bad_window("got a negative interval");
                }
                let per = i128::from(unit_nanos.unwrap_or(1_000_000_000));
                i64::try_from(millis * 1_000_000 / per).unwrap_or(i64::MAX)
            }
            ScalarValue::IntervalYearMonth(_) => {
                return bad_window("got years/months, whose length varies");
            }
            v if v.is_null() => return bad_window("got NULL"),
            v => return bad_window(&format!("got {v}")),
        };
        let nullable_input = args.expr_fields.iter().any(|f| f.is_nullable());
        Ok(Self {
            layout,
            modes,
            window,
            ts_type,
            nullable_input,
        })
    }
}

/// Partial state: the events' `(ts, step)` pairs, one list per group (see
/// [`event_groups`]). A NULL list means the group has not seen a complete row yet.
pub(crate) fn state_fields(args: &StateFieldsArgs) -> Vec<FieldRef> {
    event_groups::state_fields(args.name, "step")
}

/// What the accumulator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// The deepest step reached (`window_funnel`).
    Level,
    /// The timestamps of the winning chain (`funnel_step_times`).
    StepTimes,
}

/// The result of a scan: the level and, when asked for, the winning chain's timestamps
/// (`times[..level]`; empty otherwise).
pub(crate) struct Scan {
    pub level: usize,
    pub times: Vec<i64>,
}

/// ClickHouse's `windowFunnel` scan over one group's events (sorted here).
pub(crate) fn scan(
    events: &mut [Event],
    steps: usize,
    window: i64,
    modes: Modes,
    want_times: bool,
) -> Scan {
    if events.is_empty() {
        return Scan {
            level: 0,
            times: Vec::new(),
        };
    }
    if !modes.order && steps == 1 && !want_times && modes.exclusions().is_empty() {
        return Scan {
            level: 1,
            times: Vec::new(),
        };
    }
    if modes.once {
        return scan_once(events, steps, window, modes.increase, want_times);
    }
    // Usually already in order: events arrive in time order and a row's steps ascend.
    if !events.is_sorted() {
        events.sort_unstable();
    }
    if !want_times && modes.is_default() {
        return Scan {
            level: scan_default(events, steps, window),
            times: Vec::new(),
        };
    }
    scan_chains(events, steps, window, modes, want_times)
}

/// [`scan_chains`] without modes or step times, the common case, with fewer branches:
/// `first[k]` is the start of the newest chain that reached step k + 1, bit k of
/// `reached` says whether there is one.
fn scan_default(events: &[Event], steps: usize, window: i64) -> usize {
    let mut first = [0i64; MAX_STEPS];
    let mut reached = 0u32;
    for &(ts, step) in events {
        let k = step as usize - 1;
        if k == 0 {
            first[0] = ts;
            reached |= 1;
        } else if (reached >> (k - 1)) & 1 == 1 && ts <= first[k - 1].saturating_add(window) {
            first[k] = first[k - 1];
            reached |= 1 << k;
            if k + 1 == steps {
                return steps;
            }
        }
    }
    (u32::BITS - reached.leading_zeros()) as usize
}

/// The scan of every mode but `strict_once`.
fn scan_chains(
    events: &[Event],
    steps: usize,
    window: i64,
    modes: Modes,
    want_times: bool,
) -> Scan {
    // slots[k] = (first, last) of the newest chain that reached step k + 1.
    let mut slots: [Option<(i64, i64)>; MAX_STEPS] = [None; MAX_STEPS];
    // chains[k] = the timestamps of that chain (only kept when asked for).
    let mut chains = if want_times {
        vec![[0i64; MAX_STEPS]; steps]
    } else {
        Vec::new()
    };
    let mut first_event = false;
    let finish = |level: usize, chains: &[[i64; MAX_STEPS]]| Scan {
        level,
        times: match level {
            0 => Vec::new(),
            _ => chains
                .get(level - 1)
                .map_or(Vec::new(), |c| c[..level].to_vec()),
        },
    };
    for &(ts, step) in events.iter() {
        if step as usize > steps {
            // An exclusion event (sorted after the steps of its timestamp).
            let (a, b) = modes.exclusions()[step as usize - steps - 1];
            void_chains(&mut slots, usize::from(a), usize::from(b));
            continue;
        }
        if step == 0 {
            // Only stored under strict_order: a row that matches no condition.
            if first_event {
                break;
            }
            continue;
        }
        let k = step as usize - 1;
        if k == 0 {
            slots[0] = Some((ts, ts));
            if want_times {
                chains[0][0] = ts;
            }
            first_event = true;
        } else if modes.dedup && slots[k].is_some() {
            let level = slots.iter().take(steps).take_while(|s| s.is_some()).count();
            return finish(level, &chains);
        } else if modes.order && first_event && slots[k - 1].is_none() {
            if modes.reentry {
                // allow_reentry: a step that comes too early is skipped, not a violation.
                continue;
            }
            let level = slots.iter().take(steps).take_while(|s| s.is_some()).count();
            return finish(level, &chains);
        } else if let Some((first, last)) = slots[k - 1] {
            let mut matched = ts <= first.saturating_add(window);
            if modes.increase {
                matched = matched && last < ts;
            }
            if matched {
                slots[k] = Some((first, ts));
                if want_times {
                    let mut chain = chains[k - 1];
                    chain[k] = ts;
                    chains[k] = chain;
                }
                if k + 1 == steps {
                    return finish(steps, &chains);
                }
            }
        }
    }
    let level = slots
        .iter()
        .take(steps)
        .rposition(|s| s.is_some())
        .map_or(0, |p| p + 1);
    finish(level, &chains)
}

/// An exclusion event between steps `a` and `b` (1-based): every chain whose last step
/// is in `a..b` is void, at every level it reached (the slots of its earlier levels that
/// hold the same start). Chains that already reached step `b` stand.
fn void_chains(slots: &mut [Option<(i64, i64)>], a: usize, b: usize) {
    let mut void = [i64::MIN; MAX_STEPS];
    let mut n = 0;
    for slot in &mut slots[a - 1..b - 1] {
        if let Some((first, _)) = slot.take() {
            void[n] = first;
            n += 1;
        }
    }
    for slot in &mut slots[..a - 1] {
        if slot.is_some_and(|(first, _)| void[..n].contains(&first)) {
            *slot = None;
        }
    }
}

/// `strict_once`: the deepest chain in which every step comes from a different row.
///
/// `events` hold one entry per row, `(ts, condition bits)`. Rows are taken in groups of
/// equal timestamps. Before a group, `slots[k]` is the newest start of a chain that
/// reached step k + 1 (newest is best, as in the default scan); chains from earlier
/// groups use other rows, so only steps taken inside one group can compete for rows.
/// For each entry level, the steps the chain can go on to inside the group are the
/// longest prefix that has distinct rows (bipartite matching by augmenting paths).
/// Checked against ClickHouse 26.9 by the differential tests.
fn scan_once(
    events: &mut [(i64, u32)],
    steps: usize,
    window: i64,
    increase: bool,
    want_times: bool,
) -> Scan {
    events.sort_unstable_by_key(|e| e.0);
    let mut slots: [Option<i64>; MAX_STEPS] = [None; MAX_STEPS];
    let mut chains = vec![[0i64; MAX_STEPS]; if want_times { steps } else { 0 }];
    let mut updates: Vec<(usize, i64, usize)> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    let mut visited: Vec<bool> = Vec::new();
    let mut start = 0;
    while start < events.len() {
        let t = events[start].0;
        let mut end = start;
        while end < events.len() && events[end].0 == t {
            end += 1;
        }
        let rows: Vec<u32> = events[start..end].iter().map(|e| e.1).collect();
        updates.clear();
        for entry in 0..steps {
            let first = if entry == 0 {
                t
            } else {
                match slots[entry - 1] {
                    Some(f) if t <= f.saturating_add(window) => f,
                    _ => continue,
                }
            };
            // owner[r] = the step (0-based) row r fills in this chain, or usize::MAX.
            owner.clear();
            owner.resize(rows.len(), usize::MAX);
            let mut level = entry;
            let max_level = if increase {
                (entry + 1).min(steps)
            } else {
                steps
            };
            while level < max_level {
                visited.clear();
                visited.resize(rows.len(), false);
                if !augment(level, &rows, &mut owner, &mut visited) {
                    break;
                }
                level += 1;
                updates.push((level, first, entry));
            }
        }
        // Chains as they were before this group (updates must not read each other).
        let before = if want_times {
            chains.clone()
        } else {
            Vec::new()
        };
        for &(level, first, entry) in &updates {
            let slot = &mut slots[level - 1];
            if slot.is_none_or(|f| first > f) {
                *slot = Some(first);
                if want_times {
                    let mut chain = if entry == 0 {
                        [0; MAX_STEPS]
                    } else {
                        before[entry - 1]
                    };
                    chain[entry..level].fill(t);
                    chains[level - 1] = chain;
                }
            }
        }
        start = end;
    }
    let level = slots
        .iter()
        .take(steps)
        .rposition(|s| s.is_some())
        .map_or(0, |p| p + 1);
    let times = if want_times && level > 0 {
        chains[level - 1][..level].to_vec()
    } else {
        Vec::new()
    };
    Scan { level, times }
}

/// Kuhn's augmenting path: give step `step` (0-based) a row, moving other steps.
fn augment(step: usize, rows: &[u32], owner: &mut [usize], visited: &mut [bool]) -> bool {
    for r in 0..rows.len() {
        if rows[r] & (1 << step) == 0 || visited[r] {
            continue;
        }
        visited[r] = true;
        if owner[r] == usize::MAX || augment(owner[r], rows, owner, visited) {
            owner[r] = step;
            return true;
        }
    }
    false
}

/// A funnel aggregate over its events (see [`EventAggregate`]).
#[derive(Debug)]
pub(crate) struct Funnel {
    function: &'static str,
    params: Params,
    output: Output,
    store: EventGroups,
}

/// The funnel's [`GroupsAccumulator`](datafusion::logical_expr::GroupsAccumulator).
pub(crate) type FunnelGroups = Groups<Funnel>;
/// The funnel's plain [`Accumulator`](datafusion::logical_expr::Accumulator).
pub(crate) type FunnelAccumulator = Single<Funnel>;

impl Funnel {
    pub(crate) fn new(function: &'static str, params: Params, output: Output) -> Self {
        Self {
            function,
            params,
            output,
            store: EventGroups::default(),
        }
    }

    fn rows(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Rows> {
        let ts_pos = self.params.layout.ts_pos;
        Rows::read(
            self.function,
            &values[ts_pos],
            &values[ts_pos + 1..],
            opt_filter,
        )
    }

    /// The events one input row adds: one `(ts, step)` per true condition (`step` is
    /// 1-based); `(ts, 0)` for a row matching nothing under strict_order; under
    /// strict_once one `(ts, condition bits)`, as that mode keeps rows whole.
    fn events_of(modes: Modes, ts: i64, mask: u32, out: &mut impl Extend<Event>) {
        if mask == 0 {
            if modes.order {
                out.extend([(ts, 0)]);
            }
        } else if modes.once {
            out.extend([(ts, mask)]);
        } else {
            let mut m = mask;
            while m != 0 {
                out.extend([(ts, m.trailing_zeros() + 1)]);
                m &= m - 1;
            }
        }
    }
}

impl EventAggregate for Funnel {
    fn function(&self) -> &'static str {
        self.function
    }

    fn store(&self) -> &EventGroups {
        &self.store
    }

    fn store_mut(&mut self) -> &mut EventGroups {
        &mut self.store
    }

    fn add_rows(
        &mut self,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
        opt_filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let rows = self.rows(values, opt_filter)?;
        let modes = self.params.modes;
        let ts = rows.ts.values();
        self.store.reserve(rows.masks.len());
        for (i, &mask) in rows.masks.iter().enumerate() {
            if !rows.counts(i) {
                continue;
            }
            let g = group_of(i);
            self.store.mark_seen(g);
            Self::events_of(modes, ts[i], mask, &mut self.store.group(g));
        }
        Ok(())
    }

    fn rows_as_groups(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Grouped> {
        let rows = self.rows(values, opt_filter)?;
        let modes = self.params.modes;
        let ts = rows.ts.values().clone();
        Ok(Grouped::from_rows(&rows, |i, out| {
            Self::events_of(modes, ts[i], rows.masks[i], out)
        }))
    }

    fn finish(&self, mut groups: Grouped) -> Result<ArrayRef> {
        let p = &self.params;
        let nulls = groups.result_nulls(p.nullable_input);
        match self.output {
            Output::Level => {
                let levels: Vec<u8> = (0..groups.len())
                    .map(|g| {
                        let events = groups.group_mut(g);
                        scan(events, p.layout.steps, p.window, p.modes, false).level as u8
                    })
                    .collect();
                Ok(Arc::new(UInt8Array::new(levels.into(), nulls)))
            }
            Output::StepTimes => {
                let mut offsets = Vec::with_capacity(groups.len() + 1);
                offsets.push(0i32);
                let mut times = Vec::new();
                for g in 0..groups.len() {
                    let s = scan(groups.group_mut(g), p.layout.steps, p.window, p.modes, true);
                    times.extend_from_slice(&s.times[..s.level]);
                    offsets.push(times.len() as i32);
                }
                let values: ArrayRef = match &p.ts_type {
                    DataType::Int64 => Arc::new(Int64Array::from(times)),
                    t => cast(&(Arc::new(Int64Array::from(times)) as ArrayRef), t)?,
                };
                let field = Arc::new(Field::new_list_field(p.ts_type.clone(), false));
                Ok(Arc::new(ListArray::try_new(
                    field,
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    values,
                    nulls,
                )?))
            }
        }
    }
}

impl FunnelGroups {
    pub(crate) fn new(function: &'static str, params: Params, output: Output) -> Self {
        Groups(Funnel::new(function, params, output))
    }
}

impl FunnelAccumulator {
    pub(crate) fn new(function: &'static str, params: Params, output: Output) -> Self {
        Single::of(Funnel::new(function, params, output))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default-mode fast path gives the general scan's level on random groups.
    #[test]
    fn default_scan_matches_the_general_scan() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for _ in 0..20_000 {
            let steps = 1 + next(6) as usize;
            let window = next(20) as i64;
            let mut events: Vec<Event> = (0..next(12))
                .map(|_| (next(30) as i64, 1 + next(steps as u64) as u32))
                .collect();
            events.sort_unstable();
            let general = scan_chains(&events, steps, window, Modes::default(), false);
            assert_eq!(
                scan_default(&events, steps, window),
                general.level,
                "{events:?} steps {steps} window {window}"
            );
        }
    }
}
