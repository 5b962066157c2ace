//! Discord's global limit: at most 50 requests per second per bot. A sliding log of the
//! last 50 send times: a request waits until the oldest of them is 1.25 s old. The quarter
//! second is margin for requests that reach Discord later than they left (a new
//! connection, a slow network), so no one-second window at Discord's end — however it is
//! drawn — ever holds more than 50.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

const WINDOW: Duration = Duration::from_millis(1250);

#[derive(Debug)]
pub struct GlobalLimit {
    per_window: usize,
    sent: Mutex<VecDeque<Instant>>,
}

impl GlobalLimit {
    pub fn new(per_second: u32) -> Self {
        let per_window = per_second.max(1) as usize;
        Self {
            per_window,
            sent: Mutex::new(VecDeque::with_capacity(per_window)),
        }
    }

    /// Waits until a request may go out, and counts it.
    pub async fn acquire(&self) {
        // Holding the lock while sleeping keeps callers in order.
        let mut sent = self.sent.lock().await;
        if sent.len() >= self.per_window
            && let Some(oldest) = sent.front().copied()
        {
            tokio::time::sleep_until(oldest + WINDOW).await;
        }
        while sent.len() >= self.per_window {
            sent.pop_front();
        }
        sent.push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_one_second_window_holds_more_than_the_limit() {
        let limit = GlobalLimit::new(50);
        let mut times = Vec::new();
        for _ in 0..160 {
            limit.acquire().await;
            times.push(Instant::now());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| **u < *t + WINDOW).count();
            assert!(
                in_window <= 50,
                "{in_window} requests within a second starting at #{i}"
            );
        }
        // 160 requests need at least 3 full windows after the first.
        assert!(times[159] - times[0] >= WINDOW * 3);
    }
}
