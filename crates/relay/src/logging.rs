//! Logging with tracing: a level filter, pretty or JSON lines on standard error, and
//! optionally the same lines appended to a file. HTTP requests log inside a span that
//! carries their request id, so every line of a request names it.

use crate::config::{Config, LogFormat};
use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::sync::Mutex;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

fn layer<W>(format: LogFormat, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Pretty => fmt::layer().with_writer(writer).with_ansi(ansi).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(writer)
            .boxed(),
    }
}

/// Installs the global subscriber. Fails only when the log file cannot be opened.
pub fn init(config: &Config) -> Result<(), String> {
    let ansi = std::io::stderr().is_terminal();
    let mut layers: Vec<BoxedLayer> = vec![layer(config.log_format, std::io::stderr, ansi)];
    if let Some(path) = &config.log_file {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("RELAY_LOG_FILE: cannot open {}: {e}", path.display()))?;
        layers.push(layer(config.log_format, Mutex::new(file), false));
    }
    let mut filter =
        EnvFilter::try_new(&config.log_level).map_err(|e| format!("RELAY_LOG_LEVEL: {e}"))?;
    // PostgreSQL's notices ("relation already exists, skipping") are noise at info.
    if let Ok(quiet) = "sqlx::postgres::notice=warn".parse() {
        filter = filter.add_directive(quiet);
    }
    // A second init (tests running several commands in one process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    Ok(())
}
