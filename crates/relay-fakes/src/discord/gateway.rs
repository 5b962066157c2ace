//! The gateway websocket: Hello, Identify → READY (with a `resume_gateway_url` pointing
//! back here), heartbeats and acks, dispatches with sequence numbers, Resume with replay,
//! and the levers tests pull (op 7, op 9, close codes, dropped TCP, outages).

use super::FakeDiscord;
use super::state::{GatewayCommand, Session, dispatch_frame};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::mpsc;

pub fn router(fake: FakeDiscord) -> Router {
    Router::new().route("/", get(upgrade)).with_state(fake)
}

async fn upgrade(State(fake): State<FakeDiscord>, ws: WebSocketUpgrade) -> Response {
    if fake.state().gateway_down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    ws.on_upgrade(move |socket| connection(fake, socket))
}

fn close(code: u16, reason: &'static str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

async fn connection(fake: FakeDiscord, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let heartbeat = fake.state().heartbeat_ms;
    let hello = format!(r#"{{"op":10,"d":{{"heartbeat_interval":{heartbeat}}}}}"#);
    if sink.send(WsMessage::Text(hello.into())).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<GatewayCommand>();
    let conn_id = fake.next_id();
    let mut session_id: Option<String> = None;
    loop {
        tokio::select! {
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(WsMessage::Text(text))) => text.to_string(),
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => {
                        // Complete the close handshake: twilight waits for it.
                        let _ = sink.send(WsMessage::Close(None)).await;
                        break;
                    }
                    Some(Ok(_)) => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    let _ = sink.send(close(4002, "Decode error")).await;
                    break;
                };
                let replies = match frame["op"].as_u64() {
                    Some(1) => vec![r#"{"op":11}"#.to_owned()],
                    Some(2) => match identify(&fake, &frame["d"], &tx, conn_id) {
                        Some((id, ready)) => {
                            session_id = Some(id);
                            vec![ready]
                        }
                        None => {
                            let _ = sink.send(close(4004, "Authentication failed")).await;
                            break;
                        }
                    },
                    Some(6) => match resume(&fake, &frame["d"], &tx, conn_id) {
                        Some((id, frames)) => {
                            session_id = Some(id);
                            frames
                        }
                        None => vec![r#"{"op":9,"d":false}"#.to_owned()],
                    },
                    _ => Vec::new(),
                };
                for reply in replies {
                    if sink.send(WsMessage::Text(reply.into())).await.is_err() {
                        break;
                    }
                }
            }
            command = rx.recv() => {
                let outgoing = match command {
                    Some(GatewayCommand::Frame(frame)) => WsMessage::Text(frame.into()),
                    Some(GatewayCommand::Reconnect) => WsMessage::Text(r#"{"op":7,"d":null}"#.into()),
                    Some(GatewayCommand::InvalidSession(resumable)) => {
                        WsMessage::Text(format!(r#"{{"op":9,"d":{resumable}}}"#).into())
                    }
                    Some(GatewayCommand::Close(code)) => {
                        let _ = sink.send(close(code, "closed by the fake")).await;
                        // Give the client a moment to answer the close, then hang up.
                        let _ = tokio::time::timeout(Duration::from_secs(2), stream.next()).await;
                        break;
                    }
                    Some(GatewayCommand::Drop) | None => break,
                };
                if sink.send(outgoing).await.is_err() {
                    break;
                }
            }
        }
    }
    if let Some(id) = session_id
        && let Some(session) = fake.state().sessions.get_mut(&id)
        && session.conn_id == conn_id
    {
        session.conn = None;
    }
}

fn token_of(d: &Value) -> Option<String> {
    d["token"]
        .as_str()
        .map(|t| t.strip_prefix("Bot ").unwrap_or(t).to_owned())
}

fn identify(
    fake: &FakeDiscord,
    d: &Value,
    tx: &mpsc::UnboundedSender<GatewayCommand>,
    conn_id: u64,
) -> Option<(String, String)> {
    let token = token_of(d)?;
    let intents = d["intents"].as_u64().unwrap_or(0);
    let resume_url = fake.base_url().replacen("http", "ws", 1);
    let session_id = format!("session{}", fake.next_id());
    let mut state = fake.state();
    let bot = state.bot_by_token(&token)?.user.clone();
    let guilds: Vec<Value> = state
        .guilds
        .iter()
        .filter(|g| g.bots.contains(&bot.id.get()))
        .map(|g| json!({"id": g.id.to_string(), "unavailable": true}))
        .collect();
    let ready = json!({
        "v": 10,
        "user": {"id": bot.id.to_string(), "username": bot.name, "discriminator": "0", "bot": true, "mfa_enabled": false},
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "application": {"id": bot.id.to_string(), "flags": 0},
    });
    let frame = dispatch_frame(1, "READY", &ready);
    state.sessions.insert(
        session_id.clone(),
        Session {
            bot_id: bot.id.get(),
            intents,
            seq: 1,
            log: vec![(1, frame.clone())],
            conn: Some(tx.clone()),
            conn_id,
        },
    );
    Some((session_id, frame))
}

fn resume(
    fake: &FakeDiscord,
    d: &Value,
    tx: &mpsc::UnboundedSender<GatewayCommand>,
    conn_id: u64,
) -> Option<(String, Vec<String>)> {
    let token = token_of(d)?;
    let session_id = d["session_id"].as_str()?.to_owned();
    let seq = d["seq"].as_u64().unwrap_or(0);
    let mut state = fake.state();
    let bot_id = state.bot_by_token(&token)?.user.id.get();
    let session = state.sessions.get_mut(&session_id)?;
    if session.bot_id != bot_id {
        return None;
    }
    let mut frames: Vec<String> = session
        .log
        .iter()
        .filter(|(s, _)| *s > seq)
        .map(|(_, f)| f.clone())
        .collect();
    session.seq += 1;
    let resumed = dispatch_frame(session.seq, "RESUMED", &Value::Null);
    session.log.push((session.seq, resumed.clone()));
    frames.push(resumed);
    session.conn = Some(tx.clone());
    session.conn_id = conn_id;
    Some((session_id, frames))
}
