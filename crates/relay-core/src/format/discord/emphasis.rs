//! Matching emphasis markers (`*`, `_`, `~~`, `||`) into spans, the way CommonMark matches
//! delimiter runs: each run that may close looks back for the nearest run of the same
//! character that may open; `**`/`__` pairs are taken before single `*`/`_` when both runs
//! have two left, and a run can close some spans and open others (`**a***b*`). As in
//! CommonMark's "rule of 3", runs with one and two markers left do not pair when either could
//! also be the other kind (`c*u**p**v*` is italic around a bold `p`). Unmatched markers stay
//! literal text.
//!
//! Who may open or close (the lexer decides, from the characters around a run):
//! `*` opens before a non-space and closes after one; `_` likewise, and a single `_` also
//! needs no letter or digit on its outer side (`snake_case` is not italic); `~~` and `||`
//! open and close anywhere.

use crate::format::model::Style;

/// A run of one marker character.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    pub ch: char,
    pub len: usize,
    pub can_open: bool,
    pub can_close: bool,
}

/// A matched pair: the runs (by index) that open and close `style`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Matched {
    pub opener: usize,
    pub closer: usize,
    pub style: Style,
}

/// `~~` and `||` only come in pairs.
fn doubled_only(ch: char) -> bool {
    matches!(ch, '~' | '|')
}

fn usable(ch: char, left: usize) -> bool {
    left >= if doubled_only(ch) { 2 } else { 1 }
}

/// What an opener search depends on besides the openers: the character, how many markers
/// the closer has left (one, two, more) and whether it may open.
fn slot(run: &Run, left: usize) -> usize {
    let ch = match run.ch {
        '*' => 0,
        '_' => 1,
        '~' => 2,
        _ => 3,
    };
    (ch * 3 + left.clamp(1, 3) - 1) * 2 + usize::from(run.can_open)
}

/// One and two do not pair across a run that could be either (CommonMark's rule of 3, on
/// what is left of each run).
fn may_pair(opener: (&Run, usize), closer: (&Run, usize)) -> bool {
    doubled_only(opener.0.ch)
        || !(opener.0.can_close || closer.0.can_open)
        || opener.1 + closer.1 != 3
}

fn style(ch: char, taken: usize) -> Style {
    match (ch, taken) {
        ('*', 2) => Style::Bold,
        ('_', 2) => Style::Underline,
        ('~', _) => Style::Strikethrough,
        ('|', _) => Style::Spoiler,
        _ => Style::Italic,
    }
}

/// The pairs the runs form, and how many characters of each run are left as literal text.
pub(super) fn resolve(runs: &[Run]) -> (Vec<Matched>, Vec<usize>) {
    let mut left: Vec<usize> = runs.iter().map(|r| r.len).collect();
    let mut openers: Vec<usize> = Vec::new();
    // Below this height no opener of that character is usable (saves rescanning).
    let mut bottom = [0usize; 24];
    let mut matched = Vec::new();
    for (j, run) in runs.iter().enumerate() {
        let ch = run.ch;
        while run.can_close && usable(ch, left[j]) {
            let key = slot(run, left[j]);
            let floor = bottom[key].min(openers.len());
            let found = (floor..openers.len()).rev().find(|&k| {
                let o = openers[k];
                runs[o].ch == ch
                    && usable(ch, left[o])
                    && may_pair((&runs[o], left[o]), (run, left[j]))
            });
            let Some(k) = found else {
                bottom[key] = openers.len();
                break;
            };
            let o = openers[k];
            let taken = if doubled_only(ch) || (left[o] >= 2 && left[j] >= 2) {
                2
            } else {
                1
            };
            matched.push(Matched {
                opener: o,
                closer: j,
                style: style(ch, taken),
            });
            left[o] -= taken;
            left[j] -= taken;
            // Openers between the pair can no longer match anything; the opener itself, with
            // fewer left, may now pair where it could not.
            openers.truncate(k + 1);
            if !usable(ch, left[o]) {
                openers.pop();
            }
            for b in &mut bottom {
                *b = (*b).min(k);
            }
        }
        if run.can_open && usable(ch, left[j]) {
            openers.push(j);
        }
    }
    (matched, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ch: char, len: usize, can_open: bool, can_close: bool) -> Run {
        Run {
            ch,
            len,
            can_open,
            can_close,
        }
    }

    #[test]
    fn a_triple_run_opens_bold_and_italic() {
        // ***x***
        let runs = [run('*', 3, true, false), run('*', 3, false, true)];
        let (matched, left) = resolve(&runs);
        let styles: Vec<Style> = matched.into_iter().map(|m| m.style).collect();
        assert_eq!(styles, vec![Style::Bold, Style::Italic]);
        assert_eq!(left, vec![0, 0]);
    }

    #[test]
    fn a_middle_run_closes_one_span_and_opens_another() {
        // **a***b*
        let runs = [
            run('*', 2, true, false),
            run('*', 3, true, true),
            run('*', 1, false, true),
        ];
        let (matched, left) = resolve(&runs);
        assert_eq!(
            matched,
            vec![
                Matched {
                    opener: 0,
                    closer: 1,
                    style: Style::Bold
                },
                Matched {
                    opener: 1,
                    closer: 2,
                    style: Style::Italic
                },
            ]
        );
        assert_eq!(left, vec![0, 0, 0]);
    }

    #[test]
    fn unmatched_and_single_tildes_stay_literal() {
        // ~~~a~~ : one tilde left over; *a : nothing closes.
        let (matched, left) = resolve(&[run('~', 3, true, false), run('~', 2, false, true)]);
        assert_eq!(matched.len(), 1);
        assert_eq!(left, vec![1, 0]);
        let (matched, left) = resolve(&[run('*', 1, true, false)]);
        assert!(matched.is_empty());
        assert_eq!(left, vec![1]);
    }
}
