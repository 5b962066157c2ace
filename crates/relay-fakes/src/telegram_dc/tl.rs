//! Builders of the TL objects the fake sends: users, chats, messages, media, entities and
//! the config. Every object is built for a viewer (`out`, `self` and peers depend on who
//! looks).

use super::model::{FakeEntity, MediaKind, Peer};
use super::state::{ChannelRec, GroupRec, Msg, State, StoredFile, UserRec, now};
use grammers_tl_types::{enums, types};

pub(crate) fn user(u: &UserRec, viewer: Option<i64>) -> enums::User {
    enums::User::User(types::User {
        is_self: viewer == Some(u.id),
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: u.bot,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: false,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: u.id,
        access_hash: Some(u.access_hash),
        first_name: Some(u.first_name.clone()),
        last_name: None,
        username: u.username.clone(),
        phone: if viewer == Some(u.id) {
            u.phone.clone()
        } else {
            None
        },
        photo: None,
        status: None,
        bot_info_version: u.bot.then_some(1),
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    })
}

pub(crate) fn channel(c: &ChannelRec, viewer: Option<i64>) -> enums::Chat {
    enums::Chat::Channel(types::Channel {
        creator: viewer.is_some() && viewer == c.creator(),
        left: viewer.is_some_and(|v| !c.members.contains(&v)),
        broadcast: !c.megagroup,
        verified: false,
        megagroup: c.megagroup,
        restricted: false,
        signatures: false,
        min: false,
        scam: false,
        has_link: false,
        has_geo: false,
        slowmode_enabled: false,
        call_active: false,
        call_not_empty: false,
        fake: false,
        gigagroup: false,
        noforwards: false,
        join_to_send: false,
        join_request: false,
        forum: false,
        stories_hidden: false,
        stories_hidden_min: false,
        stories_unavailable: false,
        signature_profiles: false,
        autotranslation: false,
        broadcast_messages_allowed: false,
        monoforum: false,
        forum_tabs: false,
        id: c.id,
        access_hash: Some(c.access_hash),
        title: c.title.clone(),
        username: None,
        photo: enums::ChatPhoto::Empty,
        date: c.date,
        restriction_reason: None,
        admin_rights: None,
        banned_rights: None,
        default_banned_rights: None,
        participants_count: Some(c.members.len() as i32),
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        emoji_status: None,
        level: None,
        subscription_until_date: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_monoforum_id: None,
        linked_community_id: None,
    })
}

pub(crate) fn group(g: &GroupRec, viewer: Option<i64>) -> enums::Chat {
    enums::Chat::Chat(types::Chat {
        creator: viewer.is_some() && g.members.first().copied() == viewer,
        left: viewer.is_some_and(|v| !g.members.contains(&v)),
        deactivated: false,
        call_active: false,
        call_not_empty: false,
        noforwards: false,
        id: g.id,
        title: g.title.clone(),
        photo: enums::ChatPhoto::Empty,
        participants_count: g.members.len() as i32,
        date: g.date,
        version: 1,
        migrated_to: None,
        admin_rights: None,
        default_banned_rights: None,
    })
}

pub(crate) fn peer_user(id: i64) -> enums::Peer {
    enums::Peer::User(types::PeerUser { user_id: id })
}

/// The chat of a peer, if it is a group or channel.
pub(crate) fn chat_of(st: &State, peer: Peer, viewer: Option<i64>) -> Option<enums::Chat> {
    match peer {
        Peer::User(_) => None,
        Peer::Chat(id) => st.groups.get(&id).map(|g| group(g, viewer)),
        Peer::Channel(id) => st.channels.get(&id).map(|c| channel(c, viewer)),
    }
}

/// The users a message mentions as peers: its sender, the private counterpart and the viewer.
pub(crate) fn users_of(st: &State, msgs: &[&Msg], viewer: Option<i64>) -> Vec<enums::User> {
    let mut ids: Vec<i64> = viewer.into_iter().collect();
    for m in msgs {
        ids.push(m.from);
        if let Peer::User(to) = m.peer {
            ids.push(to);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids.iter()
        .filter_map(|id| st.users.get(id))
        .map(|u| user(u, viewer))
        .collect()
}

fn is_broadcast(st: &State, peer: Peer) -> bool {
    matches!(peer, Peer::Channel(id) if st.channels.get(&id).is_some_and(|c| !c.megagroup))
}

pub(crate) fn message(st: &State, m: &Msg, viewer: i64) -> enums::Message {
    let broadcast = is_broadcast(st, m.peer);
    let peer_id = match m.peer {
        Peer::User(to) if viewer == m.from => peer_user(to),
        Peer::User(_) => peer_user(m.from),
        Peer::Chat(id) => enums::Peer::Chat(types::PeerChat { chat_id: id }),
        Peer::Channel(id) => enums::Peer::Channel(types::PeerChannel { channel_id: id }),
    };
    enums::Message::Message(types::Message {
        out: m.from == viewer,
        mentioned: false,
        media_unread: false,
        silent: false,
        post: broadcast,
        from_scheduled: false,
        legacy: false,
        edit_hide: false,
        pinned: false,
        noforwards: false,
        invert_media: false,
        offline: false,
        video_processing_pending: false,
        paid_suggested_post_stars: false,
        paid_suggested_post_ton: false,
        id: m.id,
        from_id: (!broadcast).then(|| peer_user(m.from)),
        from_boosts_applied: None,
        from_rank: None,
        peer_id,
        saved_peer_id: None,
        fwd_from: None,
        via_bot_id: None,
        via_business_bot_id: None,
        guestchat_via_from: None,
        reply_to: m.reply_to.map(reply_header),
        date: m.date,
        message: m.text.clone(),
        media: m.media.and_then(|id| st.files.get(&id)).map(media),
        reply_markup: None,
        entities: (!m.entities.is_empty()).then(|| m.entities.iter().map(entity_tl).collect()),
        views: None,
        forwards: None,
        replies: None,
        edit_date: m.edit_date,
        post_author: None,
        grouped_id: m.grouped_id,
        reactions: None,
        restriction_reason: None,
        ttl_period: None,
        quick_reply_shortcut_id: None,
        effect: None,
        factcheck: None,
        report_delivery_until_date: None,
        paid_message_stars: None,
        suggested_post: None,
        schedule_repeat_period: None,
        summary_from_language: None,
        rich_message: None,
    })
}

fn reply_header(id: i32) -> enums::MessageReplyHeader {
    enums::MessageReplyHeader::Header(types::MessageReplyHeader {
        reply_to_scheduled: false,
        forum_topic: false,
        quote: false,
        reply_to_ephemeral: false,
        reply_to_msg_id: Some(id),
        reply_to_peer_id: None,
        reply_from: None,
        reply_media: None,
        reply_to_top_id: None,
        quote_text: None,
        quote_entities: None,
        quote_offset: None,
        todo_item_id: None,
        poll_option: None,
    })
}

/// The file reference the fake hands out; it accepts any.
pub(crate) const FILE_REFERENCE: &[u8] = b"fake-file-ref";

pub(crate) fn media(f: &StoredFile) -> enums::MessageMedia {
    if f.kind == MediaKind::Photo {
        return enums::MessageMedia::Photo(types::MessageMediaPhoto {
            spoiler: false,
            live_photo: false,
            photo: Some(photo(f)),
            ttl_seconds: None,
            video: None,
        });
    }
    enums::MessageMedia::Document(types::MessageMediaDocument {
        nopremium: false,
        spoiler: false,
        video: f.kind == MediaKind::Video,
        round: false,
        voice: f.kind == MediaKind::Voice,
        document: Some(document(f)),
        alt_documents: None,
        video_cover: None,
        video_timestamp: None,
        ttl_seconds: None,
    })
}

pub(crate) fn photo(f: &StoredFile) -> enums::Photo {
    enums::Photo::Photo(types::Photo {
        has_stickers: false,
        id: f.id,
        access_hash: f.access_hash,
        file_reference: FILE_REFERENCE.to_vec(),
        date: f.date,
        sizes: vec![enums::PhotoSize::Size(types::PhotoSize {
            r#type: "y".to_owned(),
            w: 800,
            h: 600,
            size: f.bytes.len() as i32,
        })],
        video_sizes: None,
        dc_id: 2,
    })
}

pub(crate) fn document(f: &StoredFile) -> enums::Document {
    let mut attributes = Vec::new();
    match f.kind {
        MediaKind::Video => attributes.push(enums::DocumentAttribute::Video(
            types::DocumentAttributeVideo {
                round_message: false,
                supports_streaming: true,
                nosound: false,
                duration: 1.0,
                w: 640,
                h: 480,
                preload_prefix_size: None,
                video_start_ts: None,
                video_codec: None,
            },
        )),
        MediaKind::Voice | MediaKind::Audio => attributes.push(enums::DocumentAttribute::Audio(
            types::DocumentAttributeAudio {
                voice: f.kind == MediaKind::Voice,
                duration: 1,
                title: None,
                performer: None,
                waveform: None,
            },
        )),
        MediaKind::Sticker => attributes.push(enums::DocumentAttribute::Sticker(
            types::DocumentAttributeSticker {
                mask: false,
                alt: String::new(),
                stickerset: enums::InputStickerSet::Empty,
                mask_coords: None,
            },
        )),
        MediaKind::Animation => attributes.push(enums::DocumentAttribute::Animated),
        MediaKind::Photo | MediaKind::Document => {}
    }
    if let Some(name) = &f.file_name {
        attributes.push(enums::DocumentAttribute::Filename(
            types::DocumentAttributeFilename {
                file_name: name.clone(),
            },
        ));
    }
    enums::Document::Document(types::Document {
        id: f.id,
        access_hash: f.access_hash,
        file_reference: FILE_REFERENCE.to_vec(),
        date: f.date,
        mime_type: f
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
        size: f.bytes.len() as i64,
        thumbs: None,
        video_thumbs: None,
        dc_id: 2,
        attributes,
    })
}

pub(crate) fn entity_tl(e: &FakeEntity) -> enums::MessageEntity {
    let (offset, length) = (e.offset, e.length);
    let url = e.url.clone().unwrap_or_default();
    match e.kind.as_str() {
        "bold" => types::MessageEntityBold { offset, length }.into(),
        "italic" => types::MessageEntityItalic { offset, length }.into(),
        "underline" => types::MessageEntityUnderline { offset, length }.into(),
        "strike" => types::MessageEntityStrike { offset, length }.into(),
        "code" => types::MessageEntityCode { offset, length }.into(),
        "pre" => types::MessageEntityPre {
            offset,
            length,
            language: url,
        }
        .into(),
        "text_url" => types::MessageEntityTextUrl {
            offset,
            length,
            url,
        }
        .into(),
        "url" => types::MessageEntityUrl { offset, length }.into(),
        "mention" => types::MessageEntityMention { offset, length }.into(),
        "hashtag" => types::MessageEntityHashtag { offset, length }.into(),
        "email" => types::MessageEntityEmail { offset, length }.into(),
        "spoiler" => types::MessageEntitySpoiler { offset, length }.into(),
        "blockquote" => types::MessageEntityBlockquote {
            collapsed: false,
            offset,
            length,
        }
        .into(),
        _ => types::MessageEntityUnknown { offset, length }.into(),
    }
}

pub(crate) fn entity_from_tl(e: &enums::MessageEntity) -> FakeEntity {
    use enums::MessageEntity as E;
    let (kind, url) = match e {
        E::Bold(_) => ("bold", None),
        E::Italic(_) => ("italic", None),
        E::Underline(_) => ("underline", None),
        E::Strike(_) => ("strike", None),
        E::Code(_) => ("code", None),
        E::Pre(p) => ("pre", Some(p.language.clone())),
        E::TextUrl(t) => ("text_url", Some(t.url.clone())),
        E::Url(_) => ("url", None),
        E::Mention(_) => ("mention", None),
        E::Hashtag(_) => ("hashtag", None),
        E::Email(_) => ("email", None),
        E::Spoiler(_) => ("spoiler", None),
        E::Blockquote(_) => ("blockquote", None),
        E::MentionName(_) | E::InputMessageEntityMentionName(_) => ("mention_name", None),
        E::CustomEmoji(_) => ("custom_emoji", None),
        _ => ("unknown", None),
    };
    FakeEntity {
        kind: kind.to_owned(),
        offset: e.offset(),
        length: e.length(),
        url,
    }
}

/// The config of this DC: no DC options, so the client keeps the addresses it was given.
pub(crate) fn config() -> enums::Config {
    let date = now();
    enums::Config::Config(types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: false,
        blocked_mode: false,
        force_try_ipv6: false,
        date,
        expires: date + 3600,
        test_mode: false,
        this_dc: 2,
        dc_options: Vec::new(),
        dc_txt_domain_name: String::new(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".to_owned(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}
