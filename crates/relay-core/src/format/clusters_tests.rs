//! Cut points around emoji sequences, marks and flags.

use super::*;

fn cuts(text: &str) -> Vec<usize> {
    (0..=text.len()).filter(|&i| can_cut(text, i)).collect()
}

#[test]
fn a_skin_toned_zwj_family_is_one_cluster() {
    let family = "👩🏽\u{200D}👩🏽\u{200D}👧🏽";
    let text = format!("a{family}b");
    assert_eq!(cuts(&text), vec![0, 1, 1 + family.len(), text.len()]);
}

#[test]
fn flags_pair_up_and_keycaps_stay_whole() {
    let text = "🇩🇪🇫🇷";
    assert_eq!(cuts(text), vec![0, 8, 16]);
    assert_eq!(cuts("1\u{FE0F}\u{20E3}x"), vec![0, 7, 8]);
}

#[test]
fn marks_stay_on_their_letter() {
    // e + combining acute, Hebrew shin with a dot, Arabic letter with a fatha.
    for text in ["e\u{301}", "ש\u{5C1}", "ب\u{64E}"] {
        assert_eq!(cuts(text), vec![0, text.len()], "{text:?}");
    }
    assert_eq!(cuts("a\r\nb"), vec![0, 1, 3, 4]);
}

#[test]
fn floor_cut_steps_back_to_a_cluster_edge() {
    let text = "ab👍🏽";
    assert_eq!(floor_cut(text, 0, text.len() - 1), Some(2));
    assert_eq!(floor_cut(text, 2, text.len() - 1), None);
    assert_eq!(floor_cut(text, 0, 99), Some(text.len()));
}
