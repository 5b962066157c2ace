use super::*;
use proptest::prelude::*;
use relay_core::messages::MediaRef;

fn member(id: i32, chat: &str, caption: &str) -> IncomingMessage {
    IncomingMessage {
        chat_id: chat.into(),
        message_id: id.to_string(),
        text: caption.into(),
        media: vec![MediaRef {
            filename: format!("{id}.jpg"),
            source: relay_core::messages::MediaSource::Url {
                url: format!("https://x/{id}"),
            },
            size: 1,
            content_type: None,
        }],
        ..IncomingMessage::default()
    }
}

fn created(m: IncomingMessage) -> SourceEvent {
    SourceEvent::Created(m)
}

fn album_of(event: &SourceEvent) -> (String, Vec<String>, String, usize) {
    let SourceEvent::Created(m) = event else {
        panic!("not a new message: {event:?}")
    };
    (
        m.message_id.clone(),
        m.grouped_ids.clone(),
        m.text.text.clone(),
        m.media.len(),
    )
}

#[test]
fn members_become_one_message_when_quiet_passes() {
    let t0 = Instant::now();
    let mut g = AlbumGrouper::new(Duration::from_millis(400));
    assert!(
        g.push(created(member(5, "c", "")), Some("g".into()), t0)
            .is_empty()
    );
    let later = t0 + Duration::from_millis(300);
    assert!(
        g.push(
            created(member(6, "c", "the caption")),
            Some("g".into()),
            later
        )
        .is_empty()
    );
    assert!(
        g.push(created(member(7, "c", "")), Some("g".into()), later)
            .is_empty()
    );
    assert!(g.is_holding());
    // Quiet counts from the last member.
    assert!(g.due(t0 + Duration::from_millis(500)).is_empty());
    assert_eq!(g.deadline(), Some(later + Duration::from_millis(400)));
    let ready = g.due(later + Duration::from_millis(400));
    assert_eq!(ready.len(), 1);
    assert_eq!(
        album_of(&ready[0]),
        (
            "5".into(),
            vec!["6".into(), "7".into()],
            "the caption".into(),
            3
        )
    );
    assert!(!g.is_holding());
}

#[test]
fn anything_else_in_the_chat_ends_the_album_first_and_other_chats_wait() {
    let t = Instant::now();
    let mut g = AlbumGrouper::default();
    g.push(created(member(1, "a", "x")), Some("g".into()), t);
    g.push(created(member(2, "a", "")), Some("g".into()), t);
    g.push(created(member(9, "b", "")), Some("h".into()), t);
    // A message in another chat passes; the albums wait.
    let other = g.push(created(member(3, "z", "plain")), None, t);
    assert_eq!(other.len(), 1);
    assert_eq!(album_of(&other[0]).0, "3");
    // A plain message in chat a: album a first, then the message; b still waits.
    let ready = g.push(created(member(4, "a", "next")), None, t);
    assert_eq!(ready.len(), 2);
    assert_eq!(album_of(&ready[0]).1, vec!["2".to_owned()]);
    assert_eq!(album_of(&ready[1]).0, "4");
    assert!(g.is_holding());
    // A delete that names no chat (private chats, small groups) ends every album.
    let ready = g.push(
        SourceEvent::Deleted {
            chat_id: String::new(),
            message_id: "1".into(),
        },
        None,
        t,
    );
    assert_eq!(ready.len(), 2);
    assert_eq!(album_of(&ready[0]).0, "9");
    assert!(!g.is_holding());
}

#[test]
fn a_new_album_in_the_same_chat_ends_the_previous_one_and_ten_members_end_it_at_once() {
    let t = Instant::now();
    let mut g = AlbumGrouper::default();
    g.push(created(member(1, "a", "")), Some("g".into()), t);
    let ready = g.push(created(member(2, "a", "")), Some("h".into()), t);
    assert_eq!(ready.len(), 1);
    assert_eq!(album_of(&ready[0]), ("1".into(), vec![], String::new(), 1));
    let mut out = Vec::new();
    for id in 3..=11 {
        out.extend(g.push(created(member(id, "a", "")), Some("h".into()), t));
    }
    assert_eq!(out.len(), 1, "ten members end the album");
    let (lead, others, _, files) = album_of(&out[0]);
    assert_eq!((lead.as_str(), others.len(), files), ("2", 9, 10));
    assert!(!g.is_holding());
}

#[test]
fn members_are_joined_in_id_order_and_the_first_caption_wins() {
    let album = join(vec![
        member(8, "c", ""),
        member(7, "c", "first"),
        member(9, "c", "second"),
    ])
    .expect("album");
    assert_eq!(album.message_id, "7");
    assert_eq!(album.grouped_ids, vec!["8".to_owned(), "9".to_owned()]);
    assert_eq!(album.text.text, "first");
    assert_eq!(join(Vec::new()), None);
}

#[test]
fn files_are_grouped_as_telegram_takes_them() {
    let names = ["a.jpg", "b.pdf", "c.mp4", "d.ogg", "e.png", "f.txt"];
    assert_eq!(send_groups(names), vec![vec![0, 2, 4], vec![1, 5], vec![3]]);
    let many: Vec<String> = (0..23).map(|i| format!("{i}.jpg")).collect();
    let groups = send_groups(many.iter().map(String::as_str));
    assert_eq!(
        groups.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![10, 10, 3]
    );
}

fn filename() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["p.jpg", "v.mp4", "d.pdf", "n.ogg", "s.webp", "x"])
        .prop_map(str::to_owned)
}

proptest! {
    /// Every file goes out once; a group holds 1 to 10 files of one class, in order.
    #[test]
    fn groups_hold_every_file_once_within_telegram_rules(names in prop::collection::vec(filename(), 0..40)) {
        let groups = send_groups(names.iter().map(String::as_str));
        let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..names.len()).collect::<Vec<_>>());
        for group in &groups {
            prop_assert!(!group.is_empty() && group.len() <= MAX_MEMBERS);
            prop_assert!(group.windows(2).all(|w| w[0] < w[1]));
            let first = class(&names[group[0]]);
            prop_assert!(group.iter().all(|&i| class(&names[i]) == first));
            if first == Class::Alone {
                prop_assert_eq!(group.len(), 1);
            }
        }
    }
}
