//! Reading the endpoint's answer: server-sent events of
//! `chat.completion.chunk` objects (text deltas, tool-call fragments, the
//! finish), or one plain `chat.completion` JSON from servers that do not
//! stream. Bounded: lines and whole answers have a size limit.

use bytes::{Buf, BytesMut};
use http_body_util::BodyExt;
use serde_json::Value;

use super::upstream::Answer;
use super::ChatError;
use crate::config::chat::Secret;

/// Longest line of an event stream.
const MAX_LINE: usize = 1 << 20;
/// Most bytes of one answer.
const MAX_ANSWER: usize = 8 << 20;
/// Longest tool name kept.
const MAX_NAME: usize = 64;

/// Something the model said.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    /// A fragment of a tool call (the id and name come first, the
    /// arguments in fragments). Servers that give no `index` start a new
    /// call with each new id.
    Call {
        index: Option<usize>,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
}

/// A tool call, put together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Call {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// Adds a fragment to the calls gathered so far (at most `max` of them).
pub fn gather(
    calls: &mut Vec<Call>,
    index: Option<usize>,
    id: Option<String>,
    name: Option<String>,
    arguments: &str,
    max: usize,
) {
    let index = match (index, &id) {
        (Some(i), _) => i,
        (None, Some(id)) if calls.last().is_none_or(|c| c.id != *id) => calls.len(),
        (None, _) => calls.len().saturating_sub(1),
    };
    if index >= max {
        return;
    }
    while calls.len() <= index {
        calls.push(Call::default());
    }
    let c = &mut calls[index];
    if let Some(id) = id {
        c.id = id.chars().take(MAX_NAME).collect();
    }
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        c.name = name.chars().take(MAX_NAME).collect();
    }
    if c.arguments.len() + arguments.len() <= 64 * 1024 {
        c.arguments.push_str(arguments);
    }
}

pub struct Pieces {
    /// Read as it streams; its connection ends with it.
    answer: Answer,
    /// The `data:` lines of the event being read.
    data: String,
    /// Blotted out of any error the endpoint sends.
    key: Option<Secret>,
    buf: BytesMut,
    read: usize,
    /// Not an event stream: the whole answer is one JSON document.
    plain: bool,
    queue: std::collections::VecDeque<Piece>,
    done: bool,
}

impl Pieces {
    pub fn new(answer: Answer, plain: bool, key: Option<Secret>) -> Pieces {
        Pieces {
            answer,
            data: String::new(),
            key,
            buf: BytesMut::new(),
            read: 0,
            plain,
            queue: Default::default(),
            done: false,
        }
    }

    /// The next piece; `None` at the end of the answer.
    pub async fn next(&mut self) -> Result<Option<Piece>, ChatError> {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return Ok(Some(p));
            }
            if self.done {
                return Ok(None);
            }
            if !self.plain {
                if let Some(line) = self.line()? {
                    self.on_line(&line)?;
                    continue;
                }
            }
            match self.answer.response.body_mut().frame().await {
                None => {
                    self.done = true;
                    if self.plain {
                        let doc: Value = serde_json::from_slice(&self.buf)
                            .map_err(|_| ChatError::Endpoint("the endpoint's answer is not JSON".into()))?;
                        if let Some(err) = doc.get("error").filter(|e| !e.is_null()) {
                            let why = err["message"].as_str().or(err.as_str()).unwrap_or("an error without a message");
                            return Err(ChatError::Endpoint(format!(
                                "the endpoint failed: {}",
                                super::quote(&self.redact(why))
                            )));
                        }
                        let message = doc["choices"][0]["message"].clone();
                        self.on_message(&message, true);
                    }
                }
                Some(Err(e)) => return Err(ChatError::Endpoint(format!("the answer broke off: {e}"))),
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        self.read += data.len();
                        if self.read > MAX_ANSWER {
                            return Err(ChatError::Endpoint("the endpoint's answer is too long".into()));
                        }
                        self.buf.extend_from_slice(data);
                    }
                }
            }
        }
    }

    /// One complete line from the buffer, without its line end.
    fn line(&mut self) -> Result<Option<String>, ChatError> {
        match memchr::memchr(b'\n', &self.buf) {
            Some(end) => {
                let line = String::from_utf8_lossy(&self.buf[..end]).trim_end_matches('\r').to_string();
                self.buf.advance(end + 1);
                Ok(Some(line))
            }
            None if self.buf.len() > MAX_LINE => Err(ChatError::Endpoint("the endpoint sent an overlong line".into())),
            None => Ok(None),
        }
    }

    /// A line of the event stream: `data:` lines gather until the blank
    /// line that ends the event.
    fn on_line(&mut self, line: &str) -> Result<(), ChatError> {
        if let Some(data) = line.strip_prefix("data:") {
            if self.data.len() + data.len() > MAX_LINE {
                return Err(ChatError::Endpoint("the endpoint sent an overlong event".into()));
            }
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(data.strip_prefix(' ').unwrap_or(data));
            return Ok(());
        }
        if !line.is_empty() || self.data.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.data);
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else { return Ok(()) };
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            let why = err["message"].as_str().or(err.as_str()).unwrap_or("an error without a message");
            return Err(ChatError::Endpoint(format!("the endpoint failed: {}", super::quote(&self.redact(why)))));
        }
        let delta = chunk["choices"][0]["delta"].clone();
        self.on_message(&delta, false);
        Ok(())
    }

    /// A message (`whole`: a plain answer) or a delta: its text and tool
    /// calls.
    fn on_message(&mut self, m: &Value, whole: bool) {
        if let Some(text) = m["content"].as_str().filter(|t| !t.is_empty()) {
            self.queue.push_back(Piece::Text(text.to_string()));
        }
        for (n, call) in m["tool_calls"].as_array().into_iter().flatten().enumerate() {
            let f = &call["function"];
            // Arguments come as text; some servers send an object.
            let arguments = match &f["arguments"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            // A whole message lists its calls in order.
            let index = call["index"].as_u64().map(|i| i as usize).or(whole.then_some(n));
            self.queue.push_back(Piece::Call {
                index,
                id: call["id"].as_str().map(String::from),
                name: f["name"].as_str().map(String::from),
                arguments,
            });
        }
    }

    /// `text` without the key.
    fn redact(&self, text: &str) -> String {
        super::redact(self.key.as_ref(), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_make_whole_calls_and_stay_bounded() {
        let mut calls = Vec::new();
        gather(&mut calls, Some(0), Some("c1".into()), Some("search_videos".into()), "{\"que", 4);
        gather(&mut calls, Some(0), None, None, "ry\":\"cats\"}", 4);
        gather(&mut calls, Some(9), Some("c9".into()), Some("x".into()), "{}", 4);
        assert_eq!(
            calls,
            vec![Call { id: "c1".into(), name: "search_videos".into(), arguments: "{\"query\":\"cats\"}".into() }]
        );
        // Without indexes: a new id is a new call.
        let mut calls = Vec::new();
        gather(&mut calls, None, Some("a".into()), Some("library_stats".into()), "{}", 4);
        gather(&mut calls, None, Some("b".into()), Some("search_videos".into()), "{\"query\":", 4);
        gather(&mut calls, None, None, None, "\"x\"}", 4);
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["library_stats", "search_videos"]);
        assert_eq!(calls[1].arguments, "{\"query\":\"x\"}");
    }
}
