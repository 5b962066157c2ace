//! One running grammers client: the sender pool's I/O task, the client handle and the
//! channel its updates arrive on. Dropping the connection stops the task.

use super::{MtprotoConfig, UserSession};
use grammers_client::Client;
use grammers_mtsender::{AutoSleep, ConnectionParams, SenderPool, SenderPoolHandle};
use grammers_session::updates::UpdatesLike;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub struct Connection {
    pub client: Client,
    pub session: Arc<UserSession>,
    updates: Option<mpsc::Receiver<UpdatesLike>>,
    handle: SenderPoolHandle,
    runner: JoinHandle<()>,
}

impl Connection {
    pub fn open(config: &MtprotoConfig, session: UserSession) -> Self {
        let session = Arc::new(session);
        let params = ConnectionParams {
            device_model: "Relay".into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            // A FLOOD_WAIT goes back to the queue as a typed wait; only a dropped connection
            // is retried here, once, after a second.
            retry_policy: Box::new(AutoSleep {
                tries: NonZeroU32::MIN,
                threshold: Duration::ZERO,
                io_errors_as_flood_of: Some(Duration::from_secs(1)),
            }),
            ..ConnectionParams::default()
        };
        let pool = SenderPool::with_configuration(Arc::clone(&session), config.api_id, params);
        let handle = pool.handle.thin.clone();
        let client = Client::new(pool.handle);
        let runner = tokio::spawn(pool.runner.run());
        Self {
            client,
            session,
            updates: Some(pool.updates),
            handle,
            runner,
        }
    }

    /// The raw updates channel (once); the listener turns it into an update stream.
    pub fn take_updates(&mut self) -> Option<mpsc::Receiver<UpdatesLike>> {
        self.updates.take()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.handle.quit();
        self.runner.abort();
    }
}
