//! The per-group event store shared by the funnel and sequence aggregates.
//!
//! Those aggregates keep every matching event of a group, `(ts, tag)` (the tag is a step
//! number or a bit set of conditions), and only look at them when the group is
//! finished. Keeping one `Vec` per group costs an allocation and several reallocations
//! for each of millions of groups, which used to be a quarter of a funnel query. Here
//! events of all groups go into one flat arena in arrival order, next to their group
//! index; finishing gathers them per group with one counting sort (stable, so each
//! group's events stay in arrival order, which is usually time order).
//!
//! The partial state is one list column, one row per group, of flattened `ts, tag`
//! pairs; a NULL row is a group that has not seen a complete input row.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{ScalarValue, exec_err, internal_err};
use datafusion::error::Result;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

/// One stored event: its time (in `ts` units) and its step or condition bits.
pub(crate) type Event = (i64, u32);

/// The partial-state field: one list per group of `ts, tag` pairs, flattened
/// (`[ts0, tag0, ts1, tag1, ...]`) so that repartitioning moves one list, not two.
pub(crate) fn state_fields(name: &str, tag: &str) -> Vec<FieldRef> {
    vec![Arc::new(Field::new(
        format!("{name}[ts, {tag}]"),
        DataType::new_list(DataType::Int64, false),
        true,
    ))]
}

/// The `ts` column as plain i64 values (timestamps are reinterpreted, not converted).
pub(crate) fn ts_values(function: &str, array: &ArrayRef) -> Result<Int64Array> {
    match array.data_type() {
        DataType::Int64 => Ok(array.as_primitive::<Int64Type>().clone()),
        DataType::Timestamp(_, _) => {
            let data = array.to_data().into_builder().data_type(DataType::Int64);
            Ok(Int64Array::from(data.build()?))
        }
        other if other.is_integer() => Ok(cast(array, &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .clone()),
        other => exec_err!("{function}: ts must be a TIMESTAMP or an integer, got {other}"),
    }
}

/// One batch of input rows, read once: timestamps, per-row condition bits (bit j =
/// condition j + 1 is true) and which rows count. A row counts when `ts` and every
/// condition are non-NULL (ClickHouse skips the others) and the FILTER is true.
pub(crate) struct Rows {
    pub ts: Int64Array,
    pub masks: Vec<u32>,
    pub valid: Option<NullBuffer>,
}

impl Rows {
    pub(crate) fn read(
        function: &str,
        ts: &ArrayRef,
        conditions: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Self> {
        let ts = ts_values(function, ts)?;
        let rows = ts.len();
        let mut valid = NullBuffer::union(ts.nulls(), None);
        let mut masks = vec![0u32; rows];
        for (j, array) in conditions.iter().enumerate() {
            let Some(cond) = array.as_boolean_opt() else {
                if array.data_type() == &DataType::Null {
                    valid = Some(NullBuffer::new_null(rows));
                    continue;
                }
                return exec_err!("{function}: conditions must be BOOLEAN");
            };
            valid = NullBuffer::union(valid.as_ref(), cond.nulls());
            for i in cond.values().set_indices() {
                masks[i] |= 1 << j;
            }
        }
        if let Some(filter) = opt_filter {
            let keep = NullBuffer::new(filter.values().clone());
            valid = NullBuffer::union(valid.as_ref(), Some(&keep));
            valid = NullBuffer::union(valid.as_ref(), filter.nulls());
        }
        Ok(Self { ts, masks, valid })
    }

    /// Whether row `i` counts.
    pub(crate) fn counts(&self, i: usize) -> bool {
        self.valid.as_ref().is_none_or(|v| v.is_valid(i))
    }
}

/// One event in the arena with its group, packed into 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    ts: i64,
    tag: u32,
    group: u32,
}

/// Events of many groups in one arena (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct EventGroups {
    entries: Vec<Entry>,
    /// Whether each group has seen a complete row (else its result is NULL).
    seen: Vec<bool>,
}

impl EventGroups {
    /// Makes room for `total` groups.
    pub(crate) fn resize(&mut self, total: usize) -> Result<()> {
        if total > u32::MAX as usize {
            return exec_err!("more than 2^32 groups in one aggregate");
        }
        if self.seen.len() < total {
            self.seen.resize(total, false);
        }
        Ok(())
    }

    pub(crate) fn mark_seen(&mut self, group: usize) {
        self.seen[group] = true;
    }

    /// Makes room for `additional` more events (one batch's worth).
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
    }

    pub(crate) fn push(&mut self, group: usize, (ts, tag): Event) {
        self.entries.push(Entry {
            ts,
            tag,
            group: group as u32,
        });
    }

    /// A sink for the events of group `group`.
    pub(crate) fn group(&mut self, group: usize) -> GroupSink<'_> {
        GroupSink {
            entries: &mut self.entries,
            group: group as u32,
        }
    }

    /// Adds partial states (the list column of [`state_fields`]).
    pub(crate) fn merge(
        &mut self,
        function: &str,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        let Some(pairs) = values.first().and_then(|v| v.as_list_opt::<i32>()) else {
            return internal_err!("{function}: unexpected partial state type");
        };
        let flat = pairs.values().as_primitive::<Int64Type>().values();
        let offsets = pairs.value_offsets();
        for row in 0..pairs.len() {
            if pairs.is_null(row) {
                continue;
            }
            let g = group_of(row);
            self.seen[g] = true;
            let (a, b) = (offsets[row] as usize, offsets[row + 1] as usize);
            if (b - a) % 2 != 0 {
                return internal_err!("{function}: partial state holds an odd number of values");
            }
            self.entries
                .extend(flat[a..b].chunks_exact(2).map(|pair| Entry {
                    ts: pair[0],
                    tag: pair[1] as u32,
                    group: g as u32,
                }));
        }
        Ok(())
    }

    /// Removes the groups `emit_to` asks for and returns their events, gathered per group.
    pub(crate) fn take(&mut self, emit_to: EmitTo) -> Grouped {
        let seen = emit_to.take_needed(&mut self.seen);
        let n = seen.len() as u32;
        if self.seen.is_empty() {
            return Grouped::gather(&std::mem::take(&mut self.entries), seen);
        }
        // Emitting the first n groups: keep the others, renumbered from 0.
        let mut taken = Vec::new();
        self.entries.retain_mut(|e| {
            if e.group < n {
                taken.push(*e);
                false
            } else {
                e.group -= n;
                true
            }
        });
        Grouped::gather(&taken, seen)
    }

    /// A copy of every group's events, leaving the store as it is.
    pub(crate) fn snapshot(&self) -> Grouped {
        Grouped::gather(&self.entries, self.seen.clone())
    }

    /// Bytes held, counting capacity.
    pub(crate) fn size(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>() + self.seen.capacity()
    }
}

/// Appends events to one group of an [`EventGroups`].
pub(crate) struct GroupSink<'a> {
    entries: &'a mut Vec<Entry>,
    group: u32,
}

impl Extend<Event> for GroupSink<'_> {
    fn extend<I: IntoIterator<Item = Event>>(&mut self, events: I) {
        let group = self.group;
        self.entries
            .extend(events.into_iter().map(|(ts, tag)| Entry { ts, tag, group }));
    }
}

/// Events gathered per group: group `g` owns `events[offsets[g]..offsets[g + 1]]`.
pub(crate) struct Grouped {
    pub events: Vec<Event>,
    pub offsets: Vec<usize>,
    pub seen: Vec<bool>,
}

impl Grouped {
    /// Counting sort of `entries` by group (stable). `offsets[g + 1]` first counts group
    /// g's events, then holds its start and serves as its write cursor, which leaves it
    /// at the group's end: the offsets come out without a second array.
    fn gather(entries: &[Entry], seen: Vec<bool>) -> Self {
        let groups = seen.len();
        let mut offsets = vec![0usize; groups + 1];
        for e in entries {
            offsets[e.group as usize + 1] += 1;
        }
        let mut start = 0;
        for slot in &mut offsets[1..] {
            let count = *slot;
            *slot = start;
            start += count;
        }
        let mut sorted = vec![(0i64, 0u32); entries.len()];
        for e in entries {
            let cursor = &mut offsets[e.group as usize + 1];
            sorted[*cursor] = (e.ts, e.tag);
            *cursor += 1;
        }
        Self {
            events: sorted,
            offsets,
            seen,
        }
    }

    /// Events per row as its own group (`convert_to_state`): one or more per row.
    pub(crate) fn from_rows(
        rows: &Rows,
        mut events_of: impl FnMut(usize, &mut Vec<Event>),
    ) -> Self {
        let n = rows.masks.len();
        let mut events = Vec::with_capacity(n);
        let mut offsets = Vec::with_capacity(n + 1);
        let mut seen = Vec::with_capacity(n);
        offsets.push(0);
        for i in 0..n {
            let counts = rows.counts(i);
            if counts {
                events_of(i, &mut events);
            }
            seen.push(counts);
            offsets.push(events.len());
        }
        Self {
            events,
            offsets,
            seen,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    /// The events of group `g`, to sort and scan in place.
    pub(crate) fn group_mut(&mut self, g: usize) -> &mut [Event] {
        &mut self.events[self.offsets[g]..self.offsets[g + 1]]
    }

    /// The NULL mask of the results: groups that never saw a complete row, when the
    /// input can be NULL at all.
    pub(crate) fn result_nulls(&self, nullable_input: bool) -> Option<NullBuffer> {
        (nullable_input && self.seen.iter().any(|s| !s))
            .then(|| NullBuffer::from(self.seen.clone()))
    }

    /// The partial state: the list column of [`state_fields`].
    pub(crate) fn into_state(self) -> Result<Vec<ArrayRef>> {
        if i32::try_from(self.events.len() * 2).is_err() {
            return exec_err!("partial state exceeds 2^30 events");
        }
        let offsets: Vec<i32> = self.offsets.iter().map(|&o| (o * 2) as i32).collect();
        let nulls = (!self.seen.iter().all(|s| *s)).then(|| NullBuffer::from(self.seen));
        let flat: Vec<i64> = self
            .events
            .into_iter()
            .flat_map(|(ts, tag)| [ts, i64::from(tag)])
            .collect();
        Ok(vec![Arc::new(ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Int64, false)),
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Arc::new(Int64Array::from(flat)),
            nulls,
        )?)])
    }
}

/// What the funnel and sequence aggregates do differently; [`Groups`] and [`Single`]
/// make the DataFusion accumulators of it.
pub(crate) trait EventAggregate: std::fmt::Debug + Send + Sync + 'static {
    /// The SQL name, for errors.
    fn function(&self) -> &'static str;
    fn store(&self) -> &EventGroups;
    fn store_mut(&mut self) -> &mut EventGroups;
    /// Adds a batch of input rows, row `i` to group `group_of(i)`.
    fn add_rows(
        &mut self,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
        opt_filter: Option<&BooleanArray>,
    ) -> Result<()>;
    /// Every input row as a group of its own (`convert_to_state`).
    fn rows_as_groups(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Grouped>;
    /// The results of finished groups.
    fn finish(&self, groups: Grouped) -> Result<ArrayRef>;
}

/// The [`GroupsAccumulator`] of an [`EventAggregate`].
#[derive(Debug)]
pub(crate) struct Groups<T>(pub T);

impl<T: EventAggregate> GroupsAccumulator for Groups<T> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.store_mut().resize(total_num_groups)?;
        self.0.add_rows(values, |i| group_indices[i], opt_filter)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.0.store_mut().take(emit_to);
        self.0.finish(groups)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.0.store_mut().take(emit_to).into_state()
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let function = self.0.function();
        let store = self.0.store_mut();
        store.resize(total_num_groups)?;
        store.merge(function, values, |i| group_indices[i])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.0.rows_as_groups(values, opt_filter)?.into_state()
    }

    fn size(&self) -> usize {
        size_of::<T>() + self.0.store().size()
    }
}

/// The plain [`Accumulator`] of an [`EventAggregate`]: one group.
#[derive(Debug)]
pub(crate) struct Single<T>(T);

impl<T: EventAggregate> Single<T> {
    pub(crate) fn of(mut inner: T) -> Self {
        // One group can always be held.
        let _ = inner.store_mut().resize(1);
        Self(inner)
    }
}

impl<T: EventAggregate> Accumulator for Single<T> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.add_rows(values, |_| 0, None)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        // Evaluate may be called more than once (window frames): leave the state be.
        let result = self.0.finish(self.0.store().snapshot())?;
        ScalarValue::try_from_array(&result, 0)
    }

    fn size(&self) -> usize {
        size_of::<T>() + self.0.store().size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0
            .store()
            .snapshot()
            .into_state()?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let function = self.0.function();
        self.0.store_mut().merge(function, states, |_| 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(entries: &[(usize, Event)], groups: usize) -> EventGroups {
        let mut store = EventGroups::default();
        store.resize(groups).expect("resize");
        for &(g, e) in entries {
            store.mark_seen(g);
            store.push(g, e);
        }
        store
    }

    #[test]
    fn gathers_events_per_group_in_arrival_order() {
        let mut s = store(&[(1, (5, 1)), (0, (3, 2)), (1, (4, 1)), (0, (1, 1))], 3);
        let mut g = s.take(EmitTo::All);
        assert_eq!(g.len(), 3);
        assert_eq!(g.group_mut(0), &[(3, 2), (1, 1)]);
        assert_eq!(g.group_mut(1), &[(5, 1), (4, 1)]);
        assert!(g.group_mut(2).is_empty());
        assert_eq!(g.seen, vec![true, true, false]);
        assert_eq!(s.take(EmitTo::All).len(), 0, "taking all empties the store");
    }

    #[test]
    fn emitting_the_first_groups_keeps_and_renumbers_the_rest() {
        let mut s = store(&[(2, (9, 1)), (0, (1, 1)), (1, (2, 1)), (2, (8, 2))], 3);
        let mut first = s.take(EmitTo::First(2));
        assert_eq!(first.len(), 2);
        assert_eq!(first.group_mut(0), &[(1, 1)]);
        assert_eq!(first.group_mut(1), &[(2, 1)]);
        let mut rest = s.take(EmitTo::All);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest.group_mut(0), &[(9, 1), (8, 2)]);
    }

    #[test]
    fn state_round_trips_through_merge() {
        let s = store(&[(0, (1, 1)), (2, (2, 2)), (0, (3, 1))], 3);
        let state = s.snapshot().into_state().expect("state");
        assert_eq!(state.len(), 1);
        assert_eq!(state[0].null_count(), 1, "group 1 saw no row");
        let mut merged = EventGroups::default();
        merged.resize(3).expect("resize");
        merged.merge("t", &state, |row| row).expect("merge");
        let mut g = merged.take(EmitTo::All);
        assert_eq!(g.group_mut(0), &[(1, 1), (3, 1)]);
        assert_eq!(g.group_mut(2), &[(2, 2)]);
        assert_eq!(g.seen, vec![true, false, true]);
    }
}
