//! What every RPC handler takes and gives back: the caller ([`Ctx`]), a serialized result
//! or an `rpc_error` ([`Reply`]), and the helpers that build them. The dispatcher
//! (`rpc`) and the handlers (`auth`, `files`, `messaging`) all use these; none of the
//! handlers needs the dispatcher.

use super::state::KeyId;
use grammers_tl_types::{Deserializable, Serializable};

/// Who is calling: the connection and its device key.
pub(crate) struct Ctx {
    pub conn_id: u64,
    pub key_id: KeyId,
}

/// An `rpc_error` to answer with.
#[derive(Debug)]
pub(crate) struct RpcError {
    pub code: i32,
    pub message: String,
}

pub(crate) fn err(code: i32, message: impl Into<String>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
    }
}

pub(crate) type Reply = Result<Vec<u8>, RpcError>;

pub(crate) fn parse<T: Deserializable>(args: &[u8]) -> Result<T, RpcError> {
    T::from_bytes(args).map_err(|e| err(400, format!("INPUT_REQUEST_INVALID: {e}")))
}

pub(crate) fn ok<T: Serializable>(value: T) -> Reply {
    Ok(value.to_bytes())
}
