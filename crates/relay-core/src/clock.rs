//! Wall-clock time as a value that can be handed around, so tests can move a running
//! system forward (the daily quota's "tomorrow") without waiting. Production uses
//! [`Clock::system`]; a test builds an adjustable clock and [`Clock::advance`]s it, and
//! every copy sees the change.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

#[derive(Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system's time; `None` for the plain system clock.
    offset_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that starts at the system's time and moves when told to.
    pub fn adjustable() -> Self {
        Self {
            offset_ms: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Moves an adjustable clock (and all its copies) forward; the system clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Some(offset) = &self.offset_ms {
            let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            offset.fetch_add(ms, Ordering::Relaxed);
        }
    }

    pub fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        match &self.offset_ms {
            None => now,
            Some(offset) => {
                let ms = offset.load(Ordering::Relaxed);
                let by = Duration::from_millis(ms.unsigned_abs());
                if ms >= 0 { now + by } else { now - by }
            }
        }
    }

    /// Today's date in UTC by this clock.
    pub fn today_utc(&self) -> jiff::civil::Date {
        let ts = jiff::Timestamp::try_from(self.now()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        ts.to_zoned(jiff::tz::TimeZone::UTC).date()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.offset_ms {
            None => f.write_str("Clock::system"),
            Some(o) => write!(f, "Clock::adjustable(+{}ms)", o.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_for_every_copy_and_the_system_clock_does_not() {
        let clock = Clock::adjustable();
        let copy = clock.clone();
        let today = clock.today_utc();
        clock.advance(Duration::from_secs(86_400));
        assert_eq!(copy.today_utc(), today.tomorrow().expect("tomorrow"));
        let system = Clock::system();
        system.advance(Duration::from_secs(86_400));
        assert!(system.now() <= SystemTime::now());
    }
}
