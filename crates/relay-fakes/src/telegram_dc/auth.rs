//! Logging in (code, 2FA over real SRP, bot tokens), logging out, and the calls that need a
//! logged-in device key: getState, getDifference, getChannelDifference and users.getUsers
//! (the dialogs are in `dialogs.rs`).
//!
//! A login code belongs to the device key (key id) that asked for it: any connection with
//! that key may finish the login, another key gets `PHONE_CODE_INVALID`.

use super::FakeDc;
use super::keys::{random_bytes, random_i64};
use super::reply::{Ctx, Reply, RpcError, err, ok};
use super::state::{CodeRec, SrpRec, State, normalize_phone};
use super::tl;
use grammers_tl_types::{enums, functions, types};

/// Telegram's 2048-bit safe prime used with g = 3 for SRP.
const SRP_P_HEX: &str = "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b";
const SRP_G: i32 = 3;

pub(crate) fn unregistered() -> RpcError {
    err(401, "AUTH_KEY_UNREGISTERED")
}

/// The user this call's device key is logged in as.
pub(crate) fn me(st: &State, ctx: &Ctx) -> Result<i64, RpcError> {
    st.user_of_key(&ctx.key_id).ok_or_else(unregistered)
}

fn authorization(st: &State, user: i64) -> Reply {
    let u = st.users.get(&user).ok_or_else(unregistered)?;
    ok(enums::auth::Authorization::Authorization(
        types::auth::Authorization {
            setup_password_required: false,
            otherwise_relogin_days: None,
            tmp_sessions: None,
            future_auth_token: None,
            user: tl::user(u, Some(user)),
        },
    ))
}

fn bind(st: &mut State, ctx: &Ctx, user: i64) {
    let key = st.keys.entry(ctx.key_id).or_default();
    key.user = Some(user);
    key.pending_password = None;
    tracing::info!(user, "fake Telegram DC: device logged in");
}

pub(crate) fn send_code(dc: &FakeDc, ctx: &Ctx, req: functions::auth::SendCode) -> Reply {
    let phone =
        normalize_phone(&req.phone_number).ok_or_else(|| err(400, "PHONE_NUMBER_INVALID"))?;
    let digits = random_bytes::<5>();
    let code: String = digits.iter().map(|d| char::from(b'0' + d % 10)).collect();
    let hash: String = random_bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    tracing::info!(phone = %phone, code = %code, "fake Telegram DC sent a login code");
    let mut st = dc.state();
    st.last_codes.insert(phone.clone(), code.clone());
    st.codes.insert(
        hash.clone(),
        CodeRec {
            phone,
            code,
            key_id: ctx.key_id,
            expired: false,
        },
    );
    ok(enums::auth::SentCode::Code(types::auth::SentCode {
        r#type: types::auth::SentCodeTypeApp { length: 5 }.into(),
        phone_code_hash: hash,
        next_type: None,
        timeout: None,
    }))
}

pub(crate) fn sign_in(dc: &FakeDc, ctx: &Ctx, req: functions::auth::SignIn) -> Reply {
    let mut st = dc.state();
    let rec = st
        .codes
        .get(&req.phone_code_hash)
        .ok_or_else(|| err(400, "PHONE_CODE_EXPIRED"))?;
    if rec.key_id != ctx.key_id
        || normalize_phone(&req.phone_number).as_deref() != Some(rec.phone.as_str())
    {
        return Err(err(400, "PHONE_CODE_INVALID"));
    }
    if rec.expired {
        return Err(err(400, "PHONE_CODE_EXPIRED"));
    }
    match req.phone_code.as_deref() {
        None | Some("") => return Err(err(400, "PHONE_CODE_EMPTY")),
        Some(code) if code != rec.code => return Err(err(400, "PHONE_CODE_INVALID")),
        Some(_) => {}
    }
    let Some(&user) = st.phones.get(&rec.phone) else {
        return ok(enums::auth::Authorization::SignUpRequired(
            types::auth::AuthorizationSignUpRequired {
                terms_of_service: None,
            },
        ));
    };
    st.codes.remove(&req.phone_code_hash);
    if st.users.get(&user).is_some_and(|u| u.password.is_some()) {
        st.keys.entry(ctx.key_id).or_default().pending_password = Some(user);
        return Err(err(401, "SESSION_PASSWORD_NEEDED"));
    }
    bind(&mut st, ctx, user);
    authorization(&st, user)
}

fn srp_p() -> Vec<u8> {
    grammers_crypto::hex::from_hex(SRP_P_HEX)
}

pub(crate) fn get_password(dc: &FakeDc, ctx: &Ctx) -> Reply {
    let mut st = dc.state();
    let key = st.keys.get(&ctx.key_id);
    let user = key
        .and_then(|k| k.pending_password.or(k.user))
        .ok_or_else(unregistered)?;
    let u = st.users.get(&user).ok_or_else(unregistered)?;
    let algo: enums::PasswordKdfAlgo =
        types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
            salt1: u.salt1.clone(),
            salt2: u.salt2.clone(),
            g: SRP_G,
            p: srp_p(),
        }
        .into();
    let secure_random = random_bytes::<256>().to_vec();
    let has_password = u.password.is_some();
    let mut srp_b = random_bytes::<256>().to_vec();
    srp_b[0] = 0x05;
    let srp_id = random_i64();
    if has_password {
        st.srp.insert(
            srp_id,
            SrpRec {
                user,
                key_id: ctx.key_id,
                secure_random: secure_random.clone(),
                srp_b: srp_b.clone(),
            },
        );
    }
    ok(enums::account::Password::Password(
        types::account::Password {
            has_recovery: false,
            has_secure_values: false,
            has_password,
            current_algo: has_password.then(|| algo.clone()),
            srp_b: has_password.then_some(srp_b),
            srp_id: has_password.then_some(srp_id),
            hint: None,
            email_unconfirmed_pattern: None,
            new_algo: algo,
            new_secure_algo: enums::SecurePasswordKdfAlgo::Unknown,
            secure_random,
            pending_reset_date: None,
            login_email_pattern: None,
        },
    ))
}

/// Recomputes the client's SRP proof from the stored password and compares it.
pub(crate) fn check_password(dc: &FakeDc, ctx: &Ctx, req: functions::auth::CheckPassword) -> Reply {
    let enums::InputCheckPasswordSrp::Srp(proof) = req.password else {
        return Err(err(400, "PASSWORD_HASH_INVALID"));
    };
    let (user, salt1, salt2, srp_b, secure_random, password) = {
        let st = dc.state();
        let rec = st
            .srp
            .get(&proof.srp_id)
            .filter(|r| r.key_id == ctx.key_id)
            .ok_or_else(|| err(400, "SRP_ID_INVALID"))?;
        let u = st.users.get(&rec.user).ok_or_else(unregistered)?;
        (
            rec.user,
            u.salt1.clone(),
            u.salt2.clone(),
            rec.srp_b.clone(),
            rec.secure_random.clone(),
            u.password.clone().unwrap_or_default(),
        )
    };
    let (m1, _) = grammers_crypto::two_factor_auth::calculate_2fa(
        &salt1,
        &salt2,
        &srp_p(),
        &SRP_G,
        srp_b,
        secure_random,
        password,
    );
    if m1[..] != proof.m1[..] {
        return Err(err(400, "PASSWORD_HASH_INVALID"));
    }
    let mut st = dc.state();
    st.srp.retain(|_, r| r.key_id != ctx.key_id);
    bind(&mut st, ctx, user);
    authorization(&st, user)
}

pub(crate) fn import_bot(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::auth::ImportBotAuthorization,
) -> Reply {
    let mut st = dc.state();
    let user = *st
        .bot_tokens
        .get(&req.bot_auth_token)
        .ok_or_else(|| err(400, "ACCESS_TOKEN_INVALID"))?;
    bind(&mut st, ctx, user);
    authorization(&st, user)
}

pub(crate) fn log_out(dc: &FakeDc, ctx: &Ctx) -> Reply {
    let mut st = dc.state();
    me(&st, ctx)?;
    st.keys.remove(&ctx.key_id);
    ok(enums::auth::LoggedOut::Out(types::auth::LoggedOut {
        future_auth_token: None,
    }))
}

pub(crate) fn get_users(dc: &FakeDc, ctx: &Ctx, req: functions::users::GetUsers) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    let users: Vec<enums::User> = req
        .id
        .iter()
        .map(|input| {
            let id = match input {
                enums::InputUser::UserSelf => Some(me),
                enums::InputUser::User(u) => Some(u.user_id),
                _ => None,
            };
            match id.and_then(|id| st.users.get(&id)) {
                Some(u) => tl::user(u, Some(me)),
                None => types::UserEmpty {
                    id: id.unwrap_or(0),
                }
                .into(),
            }
        })
        .collect();
    ok(users)
}

pub(crate) fn get_state(dc: &FakeDc, ctx: &Ctx) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    ok(st.updates_state(me))
}

pub(crate) fn get_difference(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::updates::GetDifference,
) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    ok(st.difference(me, req.pts))
}

pub(crate) fn get_channel_difference(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::updates::GetChannelDifference,
) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    let enums::InputChannel::Channel(channel) = req.channel else {
        return Err(err(400, "CHANNEL_INVALID"));
    };
    let c = st
        .channels
        .get(&channel.channel_id)
        .ok_or_else(|| err(400, "CHANNEL_INVALID"))?;
    if !c.members.contains(&me) {
        return Err(err(400, "CHANNEL_PRIVATE"));
    }
    let diff = st
        .channel_difference(me, channel.channel_id, req.pts)
        .ok_or_else(|| err(400, "CHANNEL_INVALID"))?;
    ok(diff)
}
