//! How a file is sent to Telegram, by its extension, as Telegram shows it: the same for
//! bots and user sessions.

/// How a file is sent, by its extension, as Telegram shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Photo,
    Video,
    Voice,
    Sticker,
    Document,
}

pub fn kind_of(filename: &str) -> FileKind {
    let ext = filename
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" | "png" => FileKind::Photo,
        "mp4" | "mov" | "m4v" => FileKind::Video,
        "ogg" | "oga" | "opus" => FileKind::Voice,
        "webp" | "tgs" => FileKind::Sticker,
        _ => FileKind::Document,
    }
}

pub fn mime_type(filename: &str, kind: FileKind) -> &'static str {
    let ext = filename
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match (kind, ext.as_str()) {
        (FileKind::Video, "mov") => "video/quicktime",
        (FileKind::Video, _) => "video/mp4",
        (FileKind::Voice, _) => "audio/ogg",
        (FileKind::Sticker, "tgs") => "application/x-tgsticker",
        (FileKind::Sticker, _) => "image/webp",
        (FileKind::Photo, "png") => "image/png",
        (FileKind::Photo, _) => "image/jpeg",
        (FileKind::Document, "pdf") => "application/pdf",
        (FileKind::Document, "txt") => "text/plain",
        (FileKind::Document, _) => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_sent_as_telegram_shows_them() {
        assert_eq!(kind_of("a.JPG"), FileKind::Photo);
        assert_eq!(kind_of("clip.mp4"), FileKind::Video);
        assert_eq!(kind_of("note.ogg"), FileKind::Voice);
        assert_eq!(kind_of("cat.webp"), FileKind::Sticker);
        assert_eq!(kind_of("report.pdf"), FileKind::Document);
        assert_eq!(kind_of("noextension"), FileKind::Document);
        assert_eq!(mime_type("clip.mov", FileKind::Video), "video/quicktime");
    }
}
