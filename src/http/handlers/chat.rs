//! `POST /api/v1/chat`: the chat about the library. The page sends the
//! conversation (`{"messages": [...]}`, kept by the page); the answer comes
//! back as server-sent events as the model writes it: `data: {"text"}`
//! pieces, `event: tool` while a tool runs, then `event: done` or
//! `event: error` with a message. The model's text is only ever data.

use super::user::Payload;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::Response;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::user::read_body;
use super::ApiError;
use crate::catalog::Viewer;
use crate::chat::tools::Collection;
use crate::chat::Chat;
use crate::chat::{check, Busy, Message, Out};
use crate::http::body::Body;
use crate::http::listing::Lists;

#[derive(Deserialize)]
struct Ask {
    messages: Vec<Message>,
}

/// One piece of an answer, framed for the page.
fn frame(out: &Out) -> Bytes {
    let text = match out {
        Out::Text(t) => format!("data: {}\n\n", json!({ "text": t })),
        Out::Tool(name) => format!("event: tool\ndata: {}\n\n", json!({ "name": name })),
        Out::Done => "event: done\ndata: {}\n\n".to_string(),
        Out::Error(why) => format!("event: error\ndata: {}\n\n", json!({ "message": why })),
    };
    Bytes::from(text)
}

/// `public_without_accounts`: `--allow-public` with nobody signing in.
#[allow(clippy::too_many_arguments)]
pub async fn chat(
    chat: Option<&Arc<Chat>>,
    lists: &Lists,
    public_without_accounts: bool,
    who: &Viewer,
    sight: &crate::catalog::Sight,
    client: IpAddr,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    if *who == Viewer::Guest {
        return Err(ApiError::Unauthorized("sign in to chat".into()));
    }
    if public_without_accounts {
        return Err(ApiError::Forbidden(
            "with --allow-public, chat needs accounts (anyone could spend the endpoint's time or key)".into(),
        ));
    }
    // The question is read and checked first: a bad one is 400 either way.
    let mut ask: Ask = read_body(headers, body).await?;
    check(&mut ask.messages).map_err(ApiError::BadRequest)?;
    // Not set up: the request is fine, this server is not configured for it.
    let Some(chat) = chat.cloned() else {
        return Err(ApiError::Conflict(
            "chat is not set up: start vidserve with --chat-endpoint URL (an OpenAI-compatible API such as a \
             llama.cpp server or Ollama)"
                .into(),
        ));
    };
    let turn = chat.enter(client).map_err(|busy| match busy {
        Busy::Answering => ApiError::TooManyRequests(
            5,
            "an answer to this device is still coming; wait for it or stop it first".into(),
        ),
        Busy::TooMany(secs) => {
            ApiError::TooManyRequests(secs, format!("too many questions this minute; try again in {secs} s"))
        }
        Busy::Full => ApiError::TooManyRequests(10, "the chat is answering others; try again in a moment".into()),
    })?;
    let shelf = Collection {
        catalog: lists.library.catalog(),
        users: lists.user_data.data.clone(),
        orders: lists.user_data.orders.clone(),
        searches: lists.user_data.searches.clone(),
        who: who.clone(),
        sight: sight.clone(),
    };
    let (tx, mut rx) = mpsc::channel::<Out>(32);
    let (body_tx, body_rx) = mpsc::channel::<Bytes>(32);
    tokio::spawn(async move {
        let _turn = turn; // the device's slot, until the answer ends
        if body_tx.send(Bytes::from_static(b": answering\n\n")).await.is_err() {
            return;
        }
        let left = body_tx.clone();
        let forward = async {
            while let Some(out) = rx.recv().await {
                if body_tx.send(frame(&out)).await.is_err() {
                    return; // the page left: the answer is dropped with it
                }
            }
        };
        let answer = async {
            chat.answer(shelf, ask.messages, tx).await;
            // Then wait for the last pieces to be forwarded.
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = forward => {}
            _ = answer => {}
            // The page left while the endpoint was silent.
            _ = left.closed() => {}
        }
    });
    let mut res = Response::new(Body::Stream(None, body_rx));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}
