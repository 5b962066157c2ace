//! Files: upload parts (`saveFilePart`/`saveBigFilePart`) assembled when a message or
//! `uploadMedia` names the upload, media by id, and downloads (`upload.getFile`) in chunks.

use super::FakeDc;
use super::auth::me;
use super::model::MediaKind;
use super::reply::{Ctx, Reply, RpcError, err, ok};
use super::state::{State, StoredFile, access_hash_for, now};
use super::tl;
use grammers_tl_types::{enums, functions, types};
use std::sync::Arc;

const PART_MAX: usize = 512 * 1024;
/// 4000 parts of 512 KiB: Telegram's 2000 MiB limit.
const PARTS_MAX: i32 = 4000;

pub(crate) fn save_part(dc: &FakeDc, ctx: &Ctx, req: functions::upload::SaveFilePart) -> Reply {
    store_part(dc, ctx, req.file_id, req.file_part, req.bytes, None)
}

pub(crate) fn save_big_part(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::upload::SaveBigFilePart,
) -> Reply {
    store_part(
        dc,
        ctx,
        req.file_id,
        req.file_part,
        req.bytes,
        Some(req.file_total_parts),
    )
}

fn store_part(
    dc: &FakeDc,
    ctx: &Ctx,
    file_id: i64,
    part: i32,
    bytes: Vec<u8>,
    total: Option<i32>,
) -> Reply {
    let mut st = dc.state();
    me(&st, ctx)?;
    if total.is_some_and(|t| !(1..=PARTS_MAX).contains(&t)) {
        return Err(err(400, "FILE_PARTS_INVALID"));
    }
    if !(0..PARTS_MAX).contains(&part) || total.is_some_and(|t| part >= t) {
        return Err(err(400, "FILE_PART_INVALID"));
    }
    if bytes.len() > PART_MAX {
        return Err(err(400, "FILE_PART_TOO_BIG"));
    }
    if bytes.is_empty() {
        return Err(err(400, "FILE_PART_EMPTY"));
    }
    st.uploads.entry(file_id).or_default().insert(part, bytes);
    ok(true)
}

/// The bytes and name of a finished upload, consuming its parts.
fn take_upload(st: &mut State, file: &enums::InputFile) -> Result<(Vec<u8>, String), RpcError> {
    let (id, parts, name) = match file {
        enums::InputFile::File(f) => (f.id, f.parts, f.name.clone()),
        enums::InputFile::Big(f) => (f.id, f.parts, f.name.clone()),
        enums::InputFile::StoryDocument(_) => return Err(err(400, "MEDIA_INVALID")),
    };
    if !(1..=PARTS_MAX).contains(&parts) {
        return Err(err(400, "FILE_PARTS_INVALID"));
    }
    let stored = st
        .uploads
        .get(&id)
        .ok_or_else(|| err(400, "FILE_PART_0_MISSING"))?;
    if let Some(missing) = (0..parts).find(|p| !stored.contains_key(p)) {
        return Err(err(400, format!("FILE_PART_{missing}_MISSING")));
    }
    let mut bytes = Vec::new();
    for part in 0..parts {
        if let Some(chunk) = stored.get(&part) {
            bytes.extend_from_slice(chunk);
        }
    }
    st.uploads.remove(&id);
    Ok((bytes, name))
}

fn kind_of(attributes: &[enums::DocumentAttribute]) -> MediaKind {
    use enums::DocumentAttribute as A;
    let has = |f: &dyn Fn(&A) -> bool| attributes.iter().any(f);
    if has(&|a| matches!(a, A::Sticker(_))) {
        MediaKind::Sticker
    } else if has(&|a| matches!(a, A::Animated)) {
        MediaKind::Animation
    } else if has(&|a| matches!(a, A::Audio(x) if x.voice)) {
        MediaKind::Voice
    } else if has(&|a| matches!(a, A::Video(_))) {
        MediaKind::Video
    } else if has(&|a| matches!(a, A::Audio(_))) {
        MediaKind::Audio
    } else {
        MediaKind::Document
    }
}

pub(crate) fn store_file(
    st: &mut State,
    kind: MediaKind,
    bytes: Vec<u8>,
    file_name: Option<String>,
    mime_type: Option<String>,
) -> i64 {
    let id = st.alloc_id();
    st.files.insert(
        id,
        StoredFile {
            id,
            access_hash: access_hash_for(id),
            kind,
            bytes: Arc::new(bytes),
            file_name,
            mime_type,
            date: now(),
        },
    );
    id
}

/// Resolves an `InputMedia` to a stored file id (storing uploads).
pub(crate) fn input_media(st: &mut State, media: &enums::InputMedia) -> Result<i64, RpcError> {
    let existing = |st: &State, id: i64, photo: bool| {
        st.files
            .get(&id)
            .filter(|f| (f.kind == MediaKind::Photo) == photo)
            .map(|f| f.id)
            .ok_or_else(|| err(400, "MEDIA_INVALID"))
    };
    match media {
        enums::InputMedia::UploadedPhoto(p) => {
            let (bytes, _) = take_upload(st, &p.file)?;
            Ok(store_file(
                st,
                MediaKind::Photo,
                bytes,
                None,
                Some("image/jpeg".to_owned()),
            ))
        }
        enums::InputMedia::UploadedDocument(d) => {
            let (bytes, upload_name) = take_upload(st, &d.file)?;
            let name = d
                .attributes
                .iter()
                .find_map(|a| match a {
                    enums::DocumentAttribute::Filename(f) => Some(f.file_name.clone()),
                    _ => None,
                })
                .or_else(|| (!upload_name.is_empty()).then_some(upload_name));
            let mime = (!d.mime_type.is_empty()).then(|| d.mime_type.clone());
            Ok(store_file(st, kind_of(&d.attributes), bytes, name, mime))
        }
        enums::InputMedia::Photo(p) => match &p.id {
            enums::InputPhoto::Photo(p) => existing(st, p.id, true),
            enums::InputPhoto::Empty => Err(err(400, "MEDIA_INVALID")),
        },
        enums::InputMedia::Document(d) => match &d.id {
            enums::InputDocument::Document(d) => existing(st, d.id, false),
            enums::InputDocument::Empty => Err(err(400, "MEDIA_INVALID")),
        },
        _ => Err(err(400, "MEDIA_INVALID")),
    }
}

pub(crate) fn upload_media(dc: &FakeDc, ctx: &Ctx, req: functions::messages::UploadMedia) -> Reply {
    let mut st = dc.state();
    me(&st, ctx)?;
    let id = input_media(&mut st, &req.media)?;
    let file = st.files.get(&id).ok_or_else(|| err(400, "MEDIA_INVALID"))?;
    ok(tl::media(file))
}

pub(crate) fn get_file(dc: &FakeDc, ctx: &Ctx, req: functions::upload::GetFile) -> Reply {
    let st = dc.state();
    me(&st, ctx)?;
    let id = match &req.location {
        enums::InputFileLocation::InputPhotoFileLocation(l) => l.id,
        enums::InputFileLocation::InputDocumentFileLocation(l) => l.id,
        _ => return Err(err(400, "LOCATION_INVALID")),
    };
    let file = st
        .files
        .get(&id)
        .ok_or_else(|| err(400, "LOCATION_INVALID"))?;
    if req.offset < 0 || req.limit <= 0 || req.limit > 1024 * 1024 {
        return Err(err(400, "LIMIT_INVALID"));
    }
    let start = usize::try_from(req.offset)
        .unwrap_or(usize::MAX)
        .min(file.bytes.len());
    let end = start
        .saturating_add(usize::try_from(req.limit).unwrap_or(0))
        .min(file.bytes.len());
    ok(enums::upload::File::File(types::upload::File {
        r#type: enums::storage::FileType::FileUnknown,
        mtime: 0,
        bytes: file.bytes[start..end].to_vec(),
    }))
}
