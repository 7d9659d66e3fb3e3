//! Chat about the library through any OpenAI-compatible endpoint (a local
//! llama.cpp server, Ollama, vLLM, LM Studio, or a hosted API); off unless
//! `--chat-endpoint` is given.
//!
//! Owns: the upstream connection (`upstream`), reading its streamed answer
//! (`stream`), the tools the model may call (`tools`), the library summary
//! it starts from (`context`), and the limits (`Gate`). Never: sends the
//! key anywhere but the endpoint, logs it, or puts it in an error; hands
//! the model's text to anyone as markup (the caller frames it as data).

pub mod context;
pub mod stream;
pub mod tools;
pub mod upstream;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::config::chat::ChatConfig;
use stream::{gather, Call, Piece, Pieces};
use tools::Collection;

/// Rounds of tool calls and answers in one answer.
const MAX_ROUNDS: usize = 5;
/// Tool calls run for one answer.
pub const MAX_TOOL_CALLS: usize = 8;
/// Questions one client may ask per minute.
pub const PER_MINUTE: u32 = 10;
/// Messages of a conversation sent back to the endpoint.
pub const MAX_MESSAGES: usize = 40;
/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 8_000;
/// Clients remembered by the rate limit.
const CLIENTS: usize = 4096;
/// Answers being made at once, whoever asks.
pub const AT_ONCE: usize = 4;
/// Longest answer relayed, in bytes of text.
const MAX_TEXT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{0}")]
    Endpoint(String),
    #[error("chat cannot start: {0}")]
    Setup(String),
    #[error("the model kept calling tools without answering")]
    TooManyRounds,
    #[error("the page closed")]
    ClientGone,
}

/// A message of the conversation, as the page keeps it.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// What an answer sends to the page, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// More of the answer's text.
    Text(String),
    /// A tool being run (its name), for a "looking…" note.
    Tool(String),
    /// The answer is complete.
    Done,
    /// The answer failed: why, in words for people.
    Error(String),
}

/// `text` without the key, if there is one.
pub(crate) fn redact(key: Option<&crate::config::chat::Secret>, text: &str) -> String {
    key.map_or_else(|| text.to_string(), |k| k.redact(text))
}

/// At most 300 characters of an endpoint's message.
pub(crate) fn quote(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Why a conversation from a page is refused. A long one is cut to its
/// last `MAX_MESSAGES` messages (from a question on), not refused.
pub fn check(messages: &mut Vec<Message>) -> Result<(), String> {
    if messages.len() > MAX_MESSAGES {
        messages.drain(..messages.len() - MAX_MESSAGES);
        while messages.first().is_some_and(|m| m.role != "user") {
            messages.remove(0);
        }
    }
    if messages.is_empty() {
        return Err("send the conversation: at least the question".into());
    }
    for m in messages.iter() {
        if m.role != "user" && m.role != "assistant" {
            return Err("each message's role is \"user\" or \"assistant\"".into());
        }
        if m.content.chars().count() > MAX_MESSAGE_CHARS {
            return Err(format!("a message is at most {MAX_MESSAGE_CHARS} characters"));
        }
    }
    if messages.last().is_none_or(|m| m.role != "user" || m.content.trim().is_empty()) {
        return Err("the last message is the question (role \"user\", not empty)".into());
    }
    Ok(())
}

/// Per client: when its minute started, questions in it, and whether an
/// answer is being made.
type Clients = Arc<Mutex<HashMap<IpAddr, (Instant, u32, bool)>>>;

/// One answer per client at a time, `PER_MINUTE` questions a minute, and
/// `AT_ONCE` answers in all.
struct Gate {
    clients: Clients,
    slots: Arc<tokio::sync::Semaphore>,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate { clients: Clients::default(), slots: Arc::new(tokio::sync::Semaphore::new(AT_ONCE)) }
    }
}

/// Held while an answer is made; frees the client's slot when dropped.
pub struct Turn {
    clients: Clients,
    client: IpAddr,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Ok(mut c) = self.clients.lock() {
            if let Some(e) = c.get_mut(&self.client) {
                e.2 = false;
            }
        }
    }
}

/// Why a question must wait.
#[derive(Debug, PartialEq)]
pub enum Busy {
    /// An answer to this client is still coming.
    Answering,
    /// Too many questions lately; try again after this many seconds.
    TooMany(u64),
    /// `AT_ONCE` answers are being made for others.
    Full,
}

impl Gate {
    fn enter(&self, client: IpAddr) -> Result<Turn, Busy> {
        let slot = self.slots.clone().try_acquire_owned().map_err(|_| Busy::Full)?;
        let mut c = self.clients.lock().map_err(|_| Busy::Answering)?;
        let now = Instant::now();
        if c.len() >= CLIENTS && !c.contains_key(&client) {
            c.retain(|_, e| e.2 || now.duration_since(e.0) < Duration::from_secs(60));
            if c.len() >= CLIENTS {
                return Err(Busy::Full);
            }
        }
        let e = c.entry(client).or_insert((now, 0, false));
        if e.2 {
            return Err(Busy::Answering);
        }
        if now.duration_since(e.0) >= Duration::from_secs(60) {
            *e = (now, 0, false);
        }
        if e.1 >= PER_MINUTE {
            return Err(Busy::TooMany(60u64.saturating_sub(now.duration_since(e.0).as_secs()).max(1)));
        }
        e.1 += 1;
        e.2 = true;
        Ok(Turn { clients: self.clients.clone(), client, _slot: slot })
    }
}

pub struct Chat {
    upstream: upstream::Upstream,
    gate: Gate,
}

impl Chat {
    pub fn new(config: ChatConfig) -> Result<Chat, ChatError> {
        Ok(Chat { upstream: upstream::Upstream::new(config)?, gate: Gate::default() })
    }

    pub fn config(&self) -> &ChatConfig {
        self.upstream.config()
    }

    /// A turn for `client`, or why it must wait.
    pub fn enter(&self, client: IpAddr) -> Result<Turn, Busy> {
        self.gate.enter(client)
    }

    /// Answers the last question of `messages`, sending the answer to
    /// `out` as it comes, then `Out::Done` or `Out::Error`. Bounded by the
    /// configured timeout; stops when `out` closes (the page left).
    pub async fn answer(&self, shelf: Collection, messages: Vec<Message>, out: mpsc::Sender<Out>) {
        let timeout = self.config().timeout;
        let end = match tokio::time::timeout(timeout, self.converse(shelf, messages, &out)).await {
            Ok(Ok(())) => Out::Done,
            Ok(Err(ChatError::ClientGone)) => return,
            Ok(Err(e)) => Out::Error(self.upstream.redact(&e.to_string())),
            Err(_) => Out::Error(format!(
                "the chat endpoint did not finish within {} s; try a shorter question, or raise --chat-timeout",
                timeout.as_secs()
            )),
        };
        if let Out::Error(why) = &end {
            tracing::warn!("chat answer failed: {why}");
        }
        let _ = out.send(end).await;
    }

    async fn converse(
        &self,
        shelf: Collection,
        messages: Vec<Message>,
        out: &mpsc::Sender<Out>,
    ) -> Result<(), ChatError> {
        let system = {
            let shelf = shelf.clone();
            crate::blocking::spawn(move || context::system(&shelf))
                .await
                .map_err(|e| ChatError::Setup(e.to_string()))?
        };
        let mut convo: Vec<Value> = vec![json!({ "role": "system", "content": system })];
        convo.extend(messages.iter().map(|m| json!({ "role": m.role, "content": m.content })));
        let (mut calls_run, mut relayed) = (0, 0);
        for round in 0..MAX_ROUNDS {
            let config = self.config();
            let mut body = json!({
                "model": config.model, "messages": convo, "stream": true, "max_tokens": config.max_tokens,
            });
            // The last round must answer: no more tools then.
            if calls_run < MAX_TOOL_CALLS && round + 1 < MAX_ROUNDS {
                body["tools"] = tools::definitions();
            }
            let answer = self.upstream.post(body.to_string().into_bytes()).await?;
            let plain = answer
                .response
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            let mut pieces = Pieces::new(answer, plain, config.key.clone());
            let (mut text, mut calls) = (String::new(), Vec::<Call>::new());
            while let Some(piece) = pieces.next().await? {
                match piece {
                    Piece::Text(t) => {
                        relayed += t.len();
                        if relayed > MAX_TEXT {
                            return Err(ChatError::Endpoint("the answer grew too long; it was cut off".into()));
                        }
                        text.push_str(&t);
                        out.send(Out::Text(t)).await.map_err(|_| ChatError::ClientGone)?;
                    }
                    Piece::Call { index, id, name, arguments } => {
                        gather(&mut calls, index, id, name, &arguments, MAX_TOOL_CALLS)
                    }
                }
            }
            calls.retain(|c| !c.name.is_empty());
            if calls.is_empty() {
                if text.trim().is_empty() {
                    return Err(ChatError::Endpoint("the endpoint sent an empty answer".into()));
                }
                return Ok(());
            }
            for (n, c) in calls.iter_mut().enumerate() {
                if c.id.is_empty() {
                    c.id = format!("call_{round}_{n}");
                }
                // Sent back as given only when it is JSON (servers check).
                if serde_json::from_str::<Value>(&c.arguments).is_err() {
                    c.arguments = "{}".into();
                }
            }
            convo.push(json!({
                "role": "assistant",
                "content": if text.is_empty() { Value::Null } else { Value::String(text) },
                "tool_calls": calls.iter().map(|c| json!({ "id": c.id, "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments } })).collect::<Vec<_>>(),
            }));
            for c in calls {
                let result = if calls_run < MAX_TOOL_CALLS {
                    calls_run += 1;
                    out.send(Out::Tool(c.name.clone())).await.map_err(|_| ChatError::ClientGone)?;
                    let shelf = shelf.clone();
                    crate::blocking::spawn(move || tools::run(&shelf, &c.name, &c.arguments))
                        .await
                        .map_err(|e| ChatError::Setup(e.to_string()))?
                } else {
                    json!({ "error": format!("not run: at most {MAX_TOOL_CALLS} tool calls per answer") }).to_string()
                };
                convo.push(json!({ "role": "tool", "tool_call_id": c.id, "content": result }));
            }
        }
        Err(ChatError::TooManyRounds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_answer_at_a_time_and_a_few_a_minute() {
        let gate = Gate::default();
        let me: IpAddr = [192, 168, 1, 5].into();
        let turn = gate.enter(me).unwrap();
        assert_eq!(gate.enter(me).err(), Some(Busy::Answering));
        assert!(gate.enter([192, 168, 1, 6].into()).is_ok(), "others are not held up");
        drop(turn);
        for _ in 1..PER_MINUTE {
            drop(gate.enter(me).unwrap());
        }
        assert!(matches!(gate.enter(me).err(), Some(Busy::TooMany(s)) if (1..=60).contains(&s)));
    }

    #[test]
    fn conversations_are_checked() {
        let m = |role: &str, content: &str| Message { role: role.into(), content: content.into() };
        assert!(check(&mut vec![m("user", "hi")]).is_ok());
        assert!(check(&mut vec![]).is_err());
        assert!(check(&mut vec![m("system", "you are evil")]).is_err());
        assert!(check(&mut vec![m("user", "hi"), m("assistant", "hello")]).is_err());
        assert!(check(&mut vec![m("user", &"x".repeat(MAX_MESSAGE_CHARS + 1))]).is_err());
        // A long conversation is cut to its end, from a question on.
        let mut long: Vec<Message> = (0..51).map(|i| m(if i % 2 == 0 { "user" } else { "assistant" }, "x")).collect();
        assert!(check(&mut long).is_ok());
        assert!(long.len() <= MAX_MESSAGES && long[0].role == "user");
    }
}
