//! One client connection: Full-transport frames in, decrypted with the shared key half;
//! service messages (containers, gzip_packed, acks, pings) handled here, RPCs passed to
//! [`super::rpc`], and results plus pushed updates encrypted back under the client's key id
//! and session id.

use super::FakeDc;
use super::crypto::{decrypt, encrypt, read_frame, write_frame};
use super::reply::Ctx;
use super::rpc;
use super::state::KeyId;
use flate2::read::GzDecoder;
use grammers_tl_types::{Deserializable, Identifiable, Serializable, enums, functions, types};
use std::io::Read;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const MSG_CONTAINER: u32 = 0x73f1_f8dc;
const GZIP_PACKED: u32 = 0x3072_cfa1;
const RPC_RESULT: u32 = 0xf35c_6d01;

/// What the server side of one connection keeps to write messages.
struct Out {
    writer: OwnedWriteHalf,
    key_id: Option<KeyId>,
    session_id: i64,
    frame_seq: i32,
    content_seq: i32,
    last_msg_id: i64,
}

impl Out {
    fn next_msg_id(&mut self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let id = ((now.as_secs() as i64) << 32) | ((now.subsec_nanos() as i64) & !3) | 1;
        self.last_msg_id = id.max(self.last_msg_id + 4);
        self.last_msg_id
    }

    async fn send(&mut self, half: &[u8; 128], body: &[u8]) -> std::io::Result<()> {
        let Some(key_id) = self.key_id else {
            return Ok(());
        };
        let msg_id = self.next_msg_id();
        let seq_no = self.content_seq * 2 + 1;
        self.content_seq += 1;
        let mut plain = Vec::with_capacity(body.len() + 32);
        plain.extend_from_slice(&0i64.to_le_bytes());
        plain.extend_from_slice(&self.session_id.to_le_bytes());
        plain.extend_from_slice(&msg_id.to_le_bytes());
        plain.extend_from_slice(&seq_no.to_le_bytes());
        plain.extend_from_slice(&(body.len() as i32).to_le_bytes());
        plain.extend_from_slice(body);
        let payload = encrypt(half, &key_id, &plain);
        write_frame(&mut self.writer, &mut self.frame_seq, &payload).await
    }
}

/// Serves one accepted connection until it closes or `cancel` fires.
pub(crate) async fn serve(dc: FakeDc, stream: TcpStream, conn_id: u64, cancel: CancellationToken) {
    let _ = stream.set_nodelay(true);
    let (mut reader, writer) = stream.into_split();
    let (frame_tx, mut frame_rx) = mpsc::channel::<Vec<u8>>(8);
    let read_task = tokio::spawn(async move {
        let mut seq = 0;
        while let Some(frame) = read_frame(&mut reader, &mut seq).await {
            if frame_tx.send(frame).await.is_err() {
                break;
            }
        }
    });
    let (push_tx, mut push_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let half = dc.key_half();
    let mut out = Out {
        writer,
        key_id: None,
        session_id: 0,
        frame_seq: 0,
        content_seq: 0,
        last_msg_id: 0,
    };
    let mut registered = false;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            frame = frame_rx.recv() => {
                let Some(frame) = frame else { break };
                let Some(replies) = handle_frame(&dc, conn_id, &half, &mut out, &frame) else {
                    tracing::debug!(conn_id, "fake DC dropping a connection after a bad frame");
                    break;
                };
                let mut failed = false;
                while let Ok(update) = push_rx.try_recv() {
                    failed |= out.send(&half, &update).await.is_err();
                }
                for reply in replies {
                    failed |= out.send(&half, &reply).await.is_err();
                }
                if failed {
                    break;
                }
                if !registered {
                    registered = true;
                    if let Some(conn) = dc.state().conns.get_mut(&conn_id) {
                        conn.push = Some(push_tx.clone());
                    }
                }
            }
            Some(update) = push_rx.recv() => {
                if out.send(&half, &update).await.is_err() {
                    break;
                }
            }
        }
    }
    read_task.abort();
    dc.state().conns.remove(&conn_id);
}

/// Decrypts a frame and handles the message in it; `None` closes the connection.
fn handle_frame(
    dc: &FakeDc,
    conn_id: u64,
    half: &[u8; 128],
    out: &mut Out,
    frame: &[u8],
) -> Option<Vec<Vec<u8>>> {
    let (key_id, plain) = decrypt(half, frame)?;
    if out.key_id.is_some_and(|k| k != key_id) {
        return None;
    }
    if out.key_id.is_none() {
        out.key_id = Some(key_id);
        let mut st = dc.state();
        st.keys.entry(key_id).or_default();
        if let Some(conn) = st.conns.get_mut(&conn_id) {
            conn.key_id = Some(key_id);
        }
    }
    let session_id = i64::from_le_bytes(plain.get(8..16)?.try_into().ok()?);
    let msg_id = i64::from_le_bytes(plain.get(16..24)?.try_into().ok()?);
    let len = usize::try_from(i32::from_le_bytes(plain.get(28..32)?.try_into().ok()?)).ok()?;
    let body = plain.get(32..32 + len)?;
    out.session_id = session_id;
    let ctx = Ctx { conn_id, key_id };
    let mut replies = Vec::new();
    process(dc, &ctx, msg_id, body, &mut replies, 0)?;
    Some(replies)
}

/// Handles one message body (possibly a container or gzip_packed) sent with `msg_id`.
fn process(
    dc: &FakeDc,
    ctx: &Ctx,
    msg_id: i64,
    body: &[u8],
    replies: &mut Vec<Vec<u8>>,
    depth: u8,
) -> Option<()> {
    if depth > 3 {
        return None;
    }
    let ctor = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
    let args = &body[4..];
    match ctor {
        MSG_CONTAINER => {
            let count = i32::from_le_bytes(args.get(..4)?.try_into().ok()?);
            let mut at = 4;
            for _ in 0..count {
                let inner_id = i64::from_le_bytes(args.get(at..at + 8)?.try_into().ok()?);
                let len = i32::from_le_bytes(args.get(at + 12..at + 16)?.try_into().ok()?);
                let len = usize::try_from(len).ok()?;
                let inner = args.get(at + 16..at + 16 + len)?;
                process(dc, ctx, inner_id, inner, replies, depth + 1)?;
                at += 16 + len;
            }
        }
        GZIP_PACKED => {
            let packed = Vec::<u8>::from_bytes(args).ok()?;
            let mut unpacked = Vec::new();
            GzDecoder::new(&packed[..])
                .read_to_end(&mut unpacked)
                .ok()?;
            process(dc, ctx, msg_id, &unpacked, replies, depth + 1)?;
        }
        types::MsgsAck::CONSTRUCTOR_ID => {}
        functions::Ping::CONSTRUCTOR_ID => {
            let ping = functions::Ping::from_bytes(args).ok()?;
            replies.push(pong(msg_id, ping.ping_id));
        }
        functions::PingDelayDisconnect::CONSTRUCTOR_ID => {
            let ping = functions::PingDelayDisconnect::from_bytes(args).ok()?;
            replies.push(pong(msg_id, ping.ping_id));
        }
        _ => {
            let result = match rpc::handle_request(dc, ctx, body) {
                Ok(bytes) => bytes,
                Err(e) => enums::RpcError::Error(types::RpcError {
                    error_code: e.code,
                    error_message: e.message,
                })
                .to_bytes(),
            };
            let mut reply = Vec::with_capacity(result.len() + 12);
            reply.extend_from_slice(&RPC_RESULT.to_le_bytes());
            reply.extend_from_slice(&msg_id.to_le_bytes());
            reply.extend_from_slice(&result);
            replies.push(reply);
        }
    }
    Some(())
}

fn pong(msg_id: i64, ping_id: i64) -> Vec<u8> {
    enums::Pong::Pong(types::Pong { msg_id, ping_id }).to_bytes()
}
