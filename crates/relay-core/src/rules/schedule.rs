//! When a held message may go: a delay after it was posted, and forwarding hours (windows
//! of local time on some days of the week, in the rules' time zone; a window whose end is
//! before its start runs past midnight). Daylight-saving changes are the time zone
//! database's (jiff's bundled copy).

use super::model::{Schedule, Weekday};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A checked window.
#[derive(Debug, Clone)]
pub struct Window {
    days: Vec<jiff::civil::Weekday>,
    from: Time,
    to: Time,
}

/// Forwarding hours, checked.
#[derive(Debug, Clone)]
pub struct Hours(Vec<Window>);

/// `HH:MM`, 00:00 to 23:59 (24:00 means the end of the day).
pub fn parse_time(s: &str) -> Result<Time, String> {
    let bad = || format!("must be a time as HH:MM (00:00 to 24:00), not {s:?}");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if (h, m) == (24, 0) {
        return Ok(Time::MAX);
    }
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

impl Hours {
    /// The schedule's windows, each error with its path under `schedule`.
    pub fn check(schedule: &Schedule) -> Result<Hours, Vec<(String, String)>> {
        let mut errors = Vec::new();
        if schedule.windows.is_empty() {
            errors.push((
                "schedule.windows".into(),
                "must name at least one window".into(),
            ));
        }
        let mut windows = Vec::new();
        for (i, w) in schedule.windows.iter().enumerate() {
            let from = parse_time(&w.from).map_err(|e| (format!("schedule.windows[{i}].from"), e));
            let to = parse_time(&w.to).map_err(|e| (format!("schedule.windows[{i}].to"), e));
            match (from, to) {
                (Ok(from), Ok(to)) if from == to => errors.push((
                    format!("schedule.windows[{i}].to"),
                    "must differ from `from`".into(),
                )),
                (Ok(from), Ok(to)) => windows.push(Window {
                    days: w.days.iter().map(|d| weekday(*d)).collect(),
                    from,
                    to,
                }),
                (from, to) => errors.extend(from.err().into_iter().chain(to.err())),
            }
        }
        if errors.is_empty() {
            Ok(Hours(windows))
        } else {
            Err(errors)
        }
    }

    /// The first moment at or after `at` inside a window.
    pub fn next_open(&self, at: Timestamp, tz: &TimeZone) -> Timestamp {
        let local = at.to_zoned(tz.clone());
        let today = local.date();
        let mut best: Option<Timestamp> = None;
        // Yesterday's window may run past midnight into today; a week ahead covers every day.
        for offset in -1..=7i32 {
            let Ok(day) = today.checked_add(offset.days()) else {
                continue;
            };
            for w in &self.0 {
                if !w.days.is_empty() && !w.days.contains(&day.weekday()) {
                    continue;
                }
                let (Some(start), Some(end)) = (instant(day, w.from, tz), end_of(day, w, tz))
                else {
                    continue;
                };
                let candidate = if start <= at && at < end {
                    at
                } else if start > at {
                    start
                } else {
                    continue;
                };
                best = Some(best.map_or(candidate, |b| b.min(candidate)));
            }
        }
        best.unwrap_or(at)
    }
}

fn end_of(day: Date, w: &Window, tz: &TimeZone) -> Option<Timestamp> {
    if w.to == Time::MAX {
        return instant(day.checked_add(1.day()).ok()?, Time::midnight(), tz);
    }
    let end_day = if w.to <= w.from {
        day.checked_add(1.day()).ok()?
    } else {
        day
    };
    instant(end_day, w.to, tz)
}

fn instant(day: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    day.to_datetime(time)
        .to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp())
}

fn weekday(d: Weekday) -> jiff::civil::Weekday {
    use jiff::civil::Weekday as W;
    match d {
        Weekday::Mon => W::Monday,
        Weekday::Tue => W::Tuesday,
        Weekday::Wed => W::Wednesday,
        Weekday::Thu => W::Thursday,
        Weekday::Fri => W::Friday,
        Weekday::Sat => W::Saturday,
        Weekday::Sun => W::Sunday,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::Window as W;

    fn hours(windows: &[(&[Weekday], &str, &str)]) -> Hours {
        Hours::check(&Schedule {
            windows: windows
                .iter()
                .map(|(days, from, to)| W {
                    days: days.to_vec(),
                    from: (*from).into(),
                    to: (*to).into(),
                })
                .collect(),
        })
        .expect("valid")
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn inside_a_window_is_now_outside_is_the_next_start() {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        let h = hours(&[(&[Weekday::Mon, Weekday::Tue], "09:00", "17:00")]);
        // Wednesday 2026-12-02 10:00 Berlin (09:00Z): next is Monday 09:00 Berlin (08:00Z).
        assert_eq!(
            h.next_open(at("2026-12-02T09:00:00Z"), &tz),
            at("2026-12-07T08:00:00Z")
        );
        // Tuesday 2026-12-01 12:00 Berlin: open.
        assert_eq!(
            h.next_open(at("2026-12-01T11:00:00Z"), &tz),
            at("2026-12-01T11:00:00Z")
        );
    }

    #[test]
    fn a_window_past_midnight_covers_the_early_hours() {
        let h = hours(&[(&[], "22:00", "02:00")]);
        let utc = TimeZone::UTC;
        assert_eq!(
            h.next_open(at("2026-12-02T01:30:00Z"), &utc),
            at("2026-12-02T01:30:00Z")
        );
        assert_eq!(
            h.next_open(at("2026-12-02T03:00:00Z"), &utc),
            at("2026-12-02T22:00:00Z")
        );
        let whole_day = hours(&[(&[Weekday::Sat], "00:00", "24:00")]);
        assert_eq!(
            whole_day.next_open(at("2026-12-04T12:00:00Z"), &utc),
            at("2026-12-05T00:00:00Z")
        );
    }

    #[test]
    fn bad_times_name_their_field() {
        let errors = Hours::check(&Schedule {
            windows: vec![W {
                days: vec![],
                from: "9am".into(),
                to: "25:00".into(),
            }],
        })
        .expect_err("refused");
        let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["schedule.windows[0].from", "schedule.windows[0].to"]
        );
    }
}
