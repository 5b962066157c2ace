//! The JSON NOWPayments signs: objects with their keys sorted (recursively, by UTF-16 code
//! units as JavaScript sorts them), arrays kept, compact, strings escaped as
//! `JSON.stringify` escapes them, and numbers as JavaScript writes the double they stand
//! for. A small reader of its own keeps each number's text, because reading numbers
//! through `serde_json` without its crate-wide `float_roundtrip` feature rounds some of them
//! differently (`0.09853637216235617` became `…615`).

use super::js_number::js_number;

/// A JSON value as read, numbers as their text.
enum Node {
    Null,
    Bool(bool),
    Number(String),
    Text(String),
    List(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// The canonical form of `body`, or why it is not JSON.
pub fn canonical(body: &str) -> Result<String, String> {
    let mut reader = Reader {
        bytes: body.as_bytes(),
        text: body,
        at: 0,
        depth: 0,
    };
    let node = reader.value()?;
    reader.space();
    if reader.at != reader.bytes.len() {
        return Err(format!("unexpected text at byte {}", reader.at));
    }
    let mut out = String::with_capacity(body.len());
    write(&node, &mut out)?;
    Ok(out)
}

fn write(node: &Node, out: &mut String) -> Result<(), String> {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(text) => {
            let value: f64 = text.parse().map_err(|_| format!("bad number {text}"))?;
            out.push_str(&js_number(value));
        }
        Node::Text(s) => out.push_str(&serde_json::to_string(s).map_err(|e| e.to_string())?),
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Node::Object(entries) => {
            let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).map_err(|e| e.to_string())?);
                out.push(':');
                write(value, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Deepest nesting read (an IPN is two levels deep).
const MAX_DEPTH: usize = 64;

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    depth: usize,
}

impl Reader<'_> {
    fn space(&mut self) {
        while self.at < self.bytes.len()
            && matches!(self.bytes[self.at], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, word: &str) -> Result<(), String> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(format!("expected {word} at byte {}", self.at))
        }
    }

    fn value(&mut self) -> Result<Node, String> {
        self.space();
        match self.peek() {
            Some(b'n') => self.expect("null").map(|_| Node::Null),
            Some(b't') => self.expect("true").map(|_| Node::Bool(true)),
            Some(b'f') => self.expect("false").map(|_| Node::Bool(false)),
            Some(b'"') => self.string().map(Node::Text),
            Some(b'[') => self.nested(|r| r.list()),
            Some(b'{') => self.nested(|r| r.object()),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(format!("expected a value at byte {}", self.at)),
        }
    }

    fn nested(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<Node, String>,
    ) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let node = read(self);
        self.depth -= 1;
        node
    }

    fn list(&mut self) -> Result<Node, String> {
        self.at += 1;
        let mut items = Vec::new();
        self.space();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Node::List(items));
        }
        loop {
            items.push(self.value()?);
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Node::List(items));
                }
                _ => return Err(format!("expected , or ] at byte {}", self.at)),
            }
        }
    }

    fn object(&mut self) -> Result<Node, String> {
        self.at += 1;
        let mut entries: Vec<(String, Node)> = Vec::new();
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Node::Object(entries));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(format!("expected a key at byte {}", self.at));
            }
            let key = self.string()?;
            self.space();
            if self.peek() != Some(b':') {
                return Err(format!("expected : at byte {}", self.at));
            }
            self.at += 1;
            let value = self.value()?;
            // As JSON.parse does: a repeated key keeps its last value.
            entries.retain(|(k, _)| *k != key);
            entries.push((key, value));
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Node::Object(entries));
                }
                _ => return Err(format!("expected , or }} at byte {}", self.at)),
            }
        }
    }

    fn number(&mut self) -> Result<Node, String> {
        let start = self.at;
        while self.at < self.bytes.len()
            && matches!(
                self.bytes[self.at],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.at += 1;
        }
        let text = &self.text[start..self.at];
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|_| Node::Number(text.to_owned()))
            .ok_or_else(|| format!("bad number {text:?} at byte {start}"))
    }

    /// A string, its escapes resolved (serde_json reads the quoted text exactly).
    fn string(&mut self) -> Result<String, String> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.peek() {
                None => return Err("unterminated string".into()),
                Some(b'\\') => self.at += 2,
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(_) => self.at += 1,
            }
        }
        let quoted = self
            .text
            .get(start..self.at)
            .ok_or("a string cut in a character")?;
        serde_json::from_str(quoted).map_err(|e| format!("bad string at byte {start}: {e}"))
    }
}
