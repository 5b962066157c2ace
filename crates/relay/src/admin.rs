//! `relay admin create`: the only way to make an admin. The public API never can.

use crate::config::Config;
use crate::preflight;
use relay_core::Role;
use relay_core::credentials::{Email, check_password};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

const EXIT_INPUT: u8 = 2;

/// Reads the password from `RELAY_ADMIN_PASSWORD`, else the first line of stdin.
fn read_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("RELAY_ADMIN_PASSWORD") {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "Password for the new admin (input is shown; prefer RELAY_ADMIN_PASSWORD or a pipe): "
        );
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("no password: set RELAY_ADMIN_PASSWORD or pipe it on standard input".into());
    }
    Ok(password)
}

pub async fn create(config: &Config, email: &str) -> ExitCode {
    let email = match Email::parse(email) {
        Ok(email) => email,
        Err(why) => {
            eprintln!("--email: {why}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let password = match read_password() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("{why}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    if let Err(why) = check_password(&password, &email) {
        eprintln!("password: {why}");
        return ExitCode::from(EXIT_INPUT);
    }
    let db = match preflight::connect_database(config, config.database_auto_create).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(preflight::EXIT_DEPENDENCY);
        }
    };
    let result = async {
        db.migrate()
            .await
            .map_err(|e| format!("migrating failed: {e}"))?;
        let hash = relay_api::auth::password::hash(password)
            .await
            .map_err(|e| e.to_string())?;
        db.create_user(&email, &hash, Role::Admin)
            .await
            .map_err(|e| match e {
                relay_store::StoreError::Duplicate(_) => {
                    format!("a user with the email {email} already exists")
                }
                other => other.to_string(),
            })
    }
    .await;
    db.close().await;
    match result {
        Ok(user) => {
            println!("created admin {} ({})", user.email, user.id);
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("{why}");
            ExitCode::FAILURE
        }
    }
}
