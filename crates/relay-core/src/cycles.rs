//! Loops between pairs. Each chat is a node and each pair an edge from its source chat to
//! every destination chat; a new or changed pair that lets a message come back to the
//! chat it started from would forward it around forever (or echo it once per lap), so it
//! is refused. Chats are named per platform (`telegram:-100…`, `discord:123…`).
//!
//! A loop made only of pairs marked as a two-way bridge is allowed ([`unbridged_loop`]):
//! the router drops every message Relay itself sent, so each message crosses once.

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

/// An edge of the chat graph: from a pair's source to one of its destinations, and whether
/// that pair is marked as a bridge.
pub type Edge = (ChatNode, ChatNode, bool);

/// Like [`loop_through`], for a pair that is a bridge or not (`bridge`): the loop it would
/// close that runs through at least one pair that is not a bridge (the new pair counts),
/// shortest first. A loop made only of bridges is no loop here.
pub fn unbridged_loop(
    edges: &[Edge],
    source: &ChatNode,
    destinations: &[ChatNode],
    bridge: bool,
) -> Option<Vec<ChatNode>> {
    // Breadth first over (chat, whether a non-bridge pair was crossed yet).
    type State<'a> = (&'a ChatNode, bool);
    let mut next: HashMap<&ChatNode, Vec<(&ChatNode, bool)>> = HashMap::new();
    for (from, to, is_bridge) in edges {
        next.entry(from).or_default().push((to, *is_bridge));
    }
    let mut came_from: HashMap<State, Option<State>> = HashMap::new();
    let mut queue = VecDeque::new();
    for d in destinations {
        let state = (d, !bridge);
        if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(state) {
            e.insert(None);
            queue.push_back(state);
        }
    }
    while let Some(state) = queue.pop_front() {
        let (chat, unbridged) = state;
        if chat == source {
            if unbridged {
                let mut path = vec![chat.clone()];
                let mut at = state;
                while let Some(Some(prev)) = came_from.get(&at) {
                    path.push(prev.0.clone());
                    at = *prev;
                }
                path.push(source.clone());
                path.reverse();
                return Some(path);
            }
            // Back at the source through bridges only: the message stops here.
            continue;
        }
        for &(to, is_bridge) in next.get(chat).into_iter().flatten() {
            let to_state = (to, unbridged || !is_bridge);
            if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(to_state) {
                e.insert(Some(state));
                queue.push_back(to_state);
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

    fn marked(edges: &[(ChatNode, ChatNode)], bridge: bool) -> Vec<Edge> {
        edges
            .iter()
            .map(|(a, b)| (a.clone(), b.clone(), bridge))
            .collect()
    }

    #[test]
    fn a_loop_of_bridges_only_is_allowed() {
        let edges = marked(&[(tg("-1001"), dc("42"))], true);
        assert_eq!(
            unbridged_loop(&edges, &dc("42"), &[tg("-1001")], true),
            None
        );
        let long = marked(&[(tg("a"), dc("b")), (dc("b"), tg("c"))], true);
        assert_eq!(unbridged_loop(&long, &tg("c"), &[tg("a")], true), None);
    }

    #[test]
    fn a_loop_with_one_pair_that_is_no_bridge_is_named() {
        // The new pair is no bridge.
        let edges = marked(&[(tg("-1001"), dc("42"))], true);
        let path = unbridged_loop(&edges, &dc("42"), &[tg("-1001")], false).expect("a loop");
        assert_eq!(shown(&path), ["discord:42", "telegram:-1001", "discord:42"]);
        // Another pair on the way is no bridge.
        let mut long = marked(&[(tg("a"), dc("b"))], true);
        long.push((dc("b"), tg("c"), false));
        let path = unbridged_loop(&long, &tg("c"), &[tg("a")], true).expect("a loop");
        assert_eq!(
            shown(&path),
            ["telegram:c", "telegram:a", "discord:b", "telegram:c"]
        );
    }

    #[test]
    fn an_unbridged_detour_is_found_beside_a_bridged_shortcut() {
        // New a→b (bridge); back b→a (bridge) and b→x→a (x→a no bridge): the longer
        // loop is refused.
        let mut edges = marked(&[(tg("b"), tg("a")), (tg("b"), tg("x"))], true);
        edges.push((tg("x"), tg("a"), false));
        let path = unbridged_loop(&edges, &tg("a"), &[tg("b")], true).expect("a loop");
        assert_eq!(
            shown(&path),
            ["telegram:a", "telegram:b", "telegram:x", "telegram:a"]
        );
        // Without it, nothing.
        edges.pop();
        assert_eq!(unbridged_loop(&edges, &tg("a"), &[tg("b")], true), None);
    }

    #[test]
    fn without_bridges_it_agrees_with_loop_through() {
        let plain = [
            (tg("a"), dc("b")),
            (dc("b"), tg("c")),
            (tg("c"), dc("d")),
            (dc("b"), dc("d")),
        ];
        let edges = marked(&plain, false);
        for (source, dests) in [
            (dc("d"), vec![tg("x"), tg("a")]),
            (tg("c"), vec![dc("z")]),
            (tg("a"), vec![dc("b")]),
        ] {
            assert_eq!(
                unbridged_loop(&edges, &source, &dests, false),
                loop_through(&plain, &source, &dests)
            );
        }
    }

    #[test]
    fn cycles_elsewhere_in_the_graph_do_not_trap_the_search() {
        let edges = [(tg("p"), tg("q")), (tg("q"), tg("p"))];
        assert_eq!(loop_through(&edges, &dc("s"), &[tg("p")]), None);
    }
}
