//! Short-lived marks that let the router recognise a message Relay itself just sent before
//! the message map has it: a counter of sends in flight per sending account (raised before
//! the send, lowered after the sent ids were marked), and marks named by the caller (the
//! ids a send produced, fingerprints of what it sent), each with its own lifetime. Every
//! call is one round trip.

use crate::{QueueError, RedisConn};
use std::time::Duration;

/// How long an in-flight counter outlives a worker that died mid-send.
const IN_FLIGHT_TTL: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct EchoMarks {
    redis: RedisConn,
}

impl EchoMarks {
    pub fn new(redis: RedisConn) -> Self {
        Self { redis }
    }

    fn in_flight_key(&self, account: &str) -> String {
        self.redis.prefix().key(&["echo", "sending", account])
    }

    fn mark_key(&self, name: &str) -> String {
        self.redis.prefix().key(&["echo", "mark", name])
    }

    /// A send by `account` starts.
    pub async fn begin_send(&self, account: &str) -> Result<(), QueueError> {
        let key = self.in_flight_key(account);
        let mut pipe = redis::pipe();
        pipe.incr(&key, 1)
            .ignore()
            .expire(&key, IN_FLIGHT_TTL.as_secs() as i64)
            .ignore();
        self.redis.run_pipe(&pipe).await
    }

    /// A send by `account` ended: `marks` are set (each for its lifetime) before the
    /// in-flight counter goes down, so whoever sees the counter at zero finds the marks.
    pub async fn end_send(
        &self,
        account: &str,
        marks: &[(String, Duration)],
    ) -> Result<(), QueueError> {
        let key = self.in_flight_key(account);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (name, ttl) in marks {
            pipe.set_ex(self.mark_key(name), 1, ttl.as_secs().max(1))
                .ignore();
        }
        pipe.cmd("DECR").arg(&key).ignore();
        self.redis.run_pipe(&pipe).await
    }

    /// Sets marks without a send (e.g. a copy recognised by its fingerprint, so its later
    /// edits and deletes are recognised by id).
    pub async fn mark(&self, marks: &[(String, Duration)]) -> Result<(), QueueError> {
        if marks.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (name, ttl) in marks {
            pipe.set_ex(self.mark_key(name), 1, ttl.as_secs().max(1))
                .ignore();
        }
        self.redis.run_pipe(&pipe).await
    }

    /// Which of these marks are set, and how many sends each of these accounts has in
    /// flight.
    pub async fn look(
        &self,
        marks: &[String],
        accounts: &[String],
    ) -> Result<(Vec<bool>, Vec<i64>), QueueError> {
        if marks.is_empty() && accounts.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut pipe = redis::pipe();
        for name in marks {
            pipe.exists(self.mark_key(name));
        }
        for account in accounts {
            pipe.get(self.in_flight_key(account));
        }
        let values: Vec<redis::Value> = self.redis.run_pipe(&pipe).await?;
        let mut values = values.into_iter();
        let set = values
            .by_ref()
            .take(marks.len())
            .map(|v| matches!(v, redis::Value::Int(n) if n > 0))
            .collect();
        let counts = values
            .map(|v| {
                redis::from_redis_value::<Option<i64>>(v)
                    .ok()
                    .flatten()
                    .unwrap_or(0)
            })
            .collect();
        Ok((set, counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[tokio::test]
    async fn marks_and_counters_round_trip() {
        let prefix = testing::TestPrefix::new();
        let marks = EchoMarks::new(prefix.connect().expect("redis"));
        let account = "a1".to_owned();
        let mark = "test:a1".to_owned();
        let look = |marks: EchoMarks, mark: String, account: String| async move {
            marks
                .look(std::slice::from_ref(&mark), std::slice::from_ref(&account))
                .await
                .expect("look")
        };
        assert_eq!(
            look(marks.clone(), mark.clone(), account.clone()).await,
            (vec![false], vec![0])
        );
        marks.begin_send(&account).await.expect("begin");
        assert_eq!(
            look(marks.clone(), mark.clone(), account.clone()).await,
            (vec![false], vec![1])
        );
        marks
            .end_send(&account, &[(mark.clone(), Duration::from_secs(5))])
            .await
            .expect("end");
        assert_eq!(look(marks, mark, account).await, (vec![true], vec![0]));
    }
}
