//! Loops between pairs. Each chat is a node and each pair an edge from its source chat to
//! every destination chat; a new or changed pair that lets a message come back to the
//! chat it started from would forward it around forever (or echo it once per lap), so it
//! is refused. Chats are named per platform (`telegram:-100…`, `discord:123…`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

/// A chat on a platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatNode {
    /// `telegram` or `discord`.
    pub platform: &'static str,
    pub chat_id: String,
}

impl ChatNode {
    pub fn new(platform: &'static str, chat_id: impl Into<String>) -> Self {
        Self {
            platform,
            chat_id: chat_id.into(),
        }
    }
}

impl fmt::Display for ChatNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.chat_id)
    }
}

/// The loop a pair from `source` to `destinations` would close over the other pairs'
/// `edges`, as the chats from `source` back to it (first and last the same), shortest
/// first; `None` when there is none.
pub fn loop_through(
    edges: &[(ChatNode, ChatNode)],
    source: &ChatNode,
    destinations: &[ChatNode],
) -> Option<Vec<ChatNode>> {
    let mut next: HashMap<&ChatNode, Vec<&ChatNode>> = HashMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    // Breadth first from the new pair's destinations back towards its source.
    let mut came_from: HashMap<&ChatNode, Option<&ChatNode>> = HashMap::new();
    let mut queue = VecDeque::new();
    let mut seen = HashSet::new();
    for d in destinations {
        if seen.insert(d) {
            came_from.insert(d, None);
            queue.push_back(d);
        }
    }
    while let Some(chat) = queue.pop_front() {
        if chat == source {
            let mut path = vec![chat.clone()];
            let mut at = chat;
            while let Some(Some(prev)) = came_from.get(at) {
                path.push((*prev).clone());
                at = prev;
            }
            path.push(source.clone());
            path.reverse();
            return Some(path);
        }
        for &to in next.get(chat).into_iter().flatten() {
            if seen.insert(to) {
                came_from.insert(to, Some(chat));
                queue.push_back(to);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(id: &str) -> ChatNode {
        ChatNode::new("telegram", id)
    }

    fn dc(id: &str) -> ChatNode {
        ChatNode::new("discord", id)
    }

    fn shown(path: &[ChatNode]) -> Vec<String> {
        path.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_pair_back_to_where_another_pair_reads_closes_a_two_chat_loop() {
        let edges = [(tg("-1001"), dc("42"))];
        let path = loop_through(&edges, &dc("42"), &[tg("-1001")]).expect("a loop");
        assert_eq!(shown(&path), ["discord:42", "telegram:-1001", "discord:42"]);
    }

    #[test]
    fn longer_loops_are_found_and_the_shortest_is_named() {
        let edges = [
            (tg("a"), dc("b")),
            (dc("b"), tg("c")),
            (tg("c"), dc("d")),
            (dc("b"), dc("d")),
        ];
        let path = loop_through(&edges, &dc("d"), &[tg("x"), tg("a")]).expect("a loop");
        assert_eq!(
            shown(&path),
            ["discord:d", "telegram:a", "discord:b", "discord:d"]
        );
    }

    #[test]
    fn chains_fan_outs_and_the_same_id_on_another_platform_are_no_loop() {
        let edges = [(tg("a"), dc("b")), (dc("b"), tg("c")), (tg("a"), tg("c"))];
        assert_eq!(loop_through(&edges, &tg("c"), &[dc("z")]), None);
        // discord:a is not telegram:a.
        assert_eq!(loop_through(&edges, &dc("a"), &[tg("a")]), None);
        assert_eq!(loop_through(&[], &tg("a"), &[]), None);
    }

    #[test]
    fn cycles_elsewhere_in_the_graph_do_not_trap_the_search() {
        let edges = [(tg("p"), tg("q")), (tg("q"), tg("p"))];
        assert_eq!(loop_through(&edges, &dc("s"), &[tg("p")]), None);
    }
}
