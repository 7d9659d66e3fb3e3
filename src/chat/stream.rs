//! Reading the endpoint's answer: server-sent events of
//! `chat.completion.chunk` objects (text deltas, tool-call fragments, the
//! finish), or one plain `chat.completion` JSON from servers that do not
//! stream. Bounded: lines and whole answers have a size limit.

use bytes::{Buf, BytesMut};
use http_body_util::BodyExt;
use serde_json::Value;

use super::upstream::Answer;
use super::ChatError;

/// Longest line of an event stream.
const MAX_LINE: usize = 1 << 20;
/// Most bytes of one answer.
const MAX_ANSWER: usize = 8 << 20;

/// Something the model said.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    /// A fragment of the `index`th tool call (the id and name come first,
    /// the arguments in fragments).
    Call {
        index: usize,
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
    index: usize,
    id: Option<String>,
    name: Option<String>,
    arguments: &str,
    max: usize,
) {
    if index >= max {
        return;
    }
    while calls.len() <= index {
        calls.push(Call::default());
    }
    let c = &mut calls[index];
    if let Some(id) = id {
        c.id = id;
    }
    if let Some(name) = name {
        c.name.push_str(&name);
    }
    if c.arguments.len() + arguments.len() <= 64 * 1024 {
        c.arguments.push_str(arguments);
    }
}

pub struct Pieces {
    /// Read as it streams; its connection ends with it.
    answer: Answer,
    buf: BytesMut,
    read: usize,
    /// Not an event stream: the whole answer is one JSON document.
    plain: bool,
    queue: std::collections::VecDeque<Piece>,
    done: bool,
}

impl Pieces {
    pub fn new(answer: Answer, plain: bool) -> Pieces {
        Pieces { answer, buf: BytesMut::new(), read: 0, plain, queue: Default::default(), done: false }
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
                        self.on_message(&doc["choices"][0]["message"]);
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

    fn on_line(&mut self, line: &str) -> Result<(), ChatError> {
        let Some(data) = line.strip_prefix("data:") else { return Ok(()) };
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else { return Ok(()) };
        if let Some(err) = chunk.get("error") {
            let why = err["message"].as_str().or(err.as_str()).unwrap_or("an error without a message");
            return Err(ChatError::Endpoint(format!("the endpoint failed: {}", super::quote(why))));
        }
        let delta = &chunk["choices"][0]["delta"];
        self.on_message(delta);
        Ok(())
    }

    /// A message or a delta: its text and tool calls.
    fn on_message(&mut self, m: &Value) {
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
            self.queue.push_back(Piece::Call {
                index: call["index"].as_u64().map_or(n, |i| i as usize),
                id: call["id"].as_str().map(String::from),
                name: f["name"].as_str().map(String::from),
                arguments,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_make_whole_calls_and_stay_bounded() {
        let mut calls = Vec::new();
        gather(&mut calls, 0, Some("c1".into()), Some("search_videos".into()), "{\"que", 4);
        gather(&mut calls, 0, None, None, "ry\":\"cats\"}", 4);
        gather(&mut calls, 9, Some("c9".into()), Some("x".into()), "{}", 4);
        assert_eq!(
            calls,
            vec![Call { id: "c1".into(), name: "search_videos".into(), arguments: "{\"query\":\"cats\"}".into() }]
        );
    }
}
