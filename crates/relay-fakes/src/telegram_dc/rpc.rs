//! RPC dispatch: unwraps invokeWithLayer/initConnection (by hand: generated function
//! deserializers skip the constructor id and `!X` has no type), records the call, applies
//! forced errors, and routes by constructor id. Unknown methods get
//! `400 METHOD_NOT_SUPPORTED_BY_FAKE` so no client call ever hangs.

use super::reply::{Ctx, Reply, err, ok, parse};
use super::{FakeDc, auth, dialogs, files, messaging, tl};
use grammers_tl_types::{Cursor, Deserializable, Identifiable, enums, functions};

const INVOKE_WITH_LAYER: u32 = 0xda9b_0d0d;
const INIT_CONNECTION: u32 = 0xc1cd_5ea9;
const INVOKE_WITHOUT_UPDATES: u32 = 0xbf94_59b7;
const INVOKE_AFTER_MSG: u32 = 0xcb9f_372d;

/// The query inside invokeWithLayer/initConnection/invokeWithoutUpdates/invokeAfterMsg.
fn unwrap_query(mut body: &[u8]) -> Option<&[u8]> {
    loop {
        let ctor = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
        body = match ctor {
            INVOKE_WITH_LAYER => body.get(8..)?,
            INVOKE_WITHOUT_UPDATES => body.get(4..)?,
            INVOKE_AFTER_MSG => body.get(12..)?,
            INIT_CONNECTION => {
                let mut cursor = Cursor::from_slice(&body[4..]);
                let flags = i32::deserialize(&mut cursor).ok()?;
                let _api_id = i32::deserialize(&mut cursor).ok()?;
                for _ in 0..6 {
                    String::deserialize(&mut cursor).ok()?;
                }
                if flags & 1 != 0 {
                    enums::InputClientProxy::deserialize(&mut cursor).ok()?;
                }
                if flags & 2 != 0 {
                    enums::Jsonvalue::deserialize(&mut cursor).ok()?;
                }
                body.get(4 + cursor.pos()..)?
            }
            _ => return Some(body),
        };
    }
}

pub(crate) fn handle_request(dc: &FakeDc, ctx: &Ctx, body: &[u8]) -> Reply {
    let query = unwrap_query(body).ok_or_else(|| err(400, "INPUT_REQUEST_INVALID"))?;
    let ctor = u32::from_le_bytes(
        query
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| err(400, "INPUT_REQUEST_INVALID"))?,
    );
    let name = grammers_tl_types::name_for_id(ctor);
    {
        let mut st = dc.state();
        st.calls.push(name.to_owned());
        if let Some(forced) = st
            .forced
            .iter_mut()
            .find(|f| f.method == name && f.remaining > 0)
        {
            forced.remaining -= 1;
            let e = err(forced.code, forced.message.clone());
            st.forced.retain(|f| f.remaining > 0);
            return Err(e);
        }
    }
    let args = &query[4..];
    let reply = dispatch(dc, ctx, ctor, args);
    if let Err(e) = &reply {
        tracing::debug!(method = name, code = e.code, message = %e.message, "fake DC rpc error");
    }
    reply
}

fn dispatch(dc: &FakeDc, ctx: &Ctx, ctor: u32, args: &[u8]) -> Reply {
    use functions::{account, auth as a, channels, help, messages as m, updates, upload, users};
    match ctor {
        help::GetConfig::CONSTRUCTOR_ID => ok(tl::config()),
        a::SendCode::CONSTRUCTOR_ID => auth::send_code(dc, ctx, parse(args)?),
        a::SignIn::CONSTRUCTOR_ID => auth::sign_in(dc, ctx, parse(args)?),
        account::GetPassword::CONSTRUCTOR_ID => auth::get_password(dc, ctx),
        a::CheckPassword::CONSTRUCTOR_ID => auth::check_password(dc, ctx, parse(args)?),
        a::ImportBotAuthorization::CONSTRUCTOR_ID => auth::import_bot(dc, ctx, parse(args)?),
        a::LogOut::CONSTRUCTOR_ID => auth::log_out(dc, ctx),
        users::GetUsers::CONSTRUCTOR_ID => auth::get_users(dc, ctx, parse(args)?),
        updates::GetState::CONSTRUCTOR_ID => auth::get_state(dc, ctx),
        updates::GetDifference::CONSTRUCTOR_ID => auth::get_difference(dc, ctx, parse(args)?),
        updates::GetChannelDifference::CONSTRUCTOR_ID => {
            auth::get_channel_difference(dc, ctx, parse(args)?)
        }
        m::GetPeerDialogs::CONSTRUCTOR_ID => dialogs::get_peer_dialogs(dc, ctx, parse(args)?),
        m::GetDialogs::CONSTRUCTOR_ID => dialogs::get_dialogs(dc, ctx, parse(args)?),
        m::SendMessage::CONSTRUCTOR_ID => messaging::send_message(dc, ctx, parse(args)?),
        m::SendMedia::CONSTRUCTOR_ID => messaging::send_media(dc, ctx, parse(args)?),
        m::SendMultiMedia::CONSTRUCTOR_ID => messaging::send_multi_media(dc, ctx, parse(args)?),
        m::EditMessage::CONSTRUCTOR_ID => messaging::edit_message(dc, ctx, parse(args)?),
        m::DeleteMessages::CONSTRUCTOR_ID => messaging::delete_messages(dc, ctx, parse(args)?),
        channels::DeleteMessages::CONSTRUCTOR_ID => {
            messaging::delete_channel_messages(dc, ctx, parse(args)?)
        }
        m::GetMessages::CONSTRUCTOR_ID => messaging::get_messages(dc, ctx, parse(args)?),
        channels::GetMessages::CONSTRUCTOR_ID => {
            messaging::get_channel_messages(dc, ctx, parse(args)?)
        }
        upload::SaveFilePart::CONSTRUCTOR_ID => files::save_part(dc, ctx, parse(args)?),
        upload::SaveBigFilePart::CONSTRUCTOR_ID => files::save_big_part(dc, ctx, parse(args)?),
        m::UploadMedia::CONSTRUCTOR_ID => files::upload_media(dc, ctx, parse(args)?),
        upload::GetFile::CONSTRUCTOR_ID => files::get_file(dc, ctx, parse(args)?),
        _ => Err(err(400, "METHOD_NOT_SUPPORTED_BY_FAKE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_ids_are_the_real_ones() {
        use grammers_tl_types::name_for_id;
        assert_eq!(name_for_id(INVOKE_WITH_LAYER), "invokeWithLayer");
        assert_eq!(name_for_id(INIT_CONNECTION), "initConnection");
        assert_eq!(name_for_id(INVOKE_WITHOUT_UPDATES), "invokeWithoutUpdates");
        assert_eq!(name_for_id(INVOKE_AFTER_MSG), "invokeAfterMsg");
    }
}
