//! ContentDirectory's search language (UPnP ContentDirectory:1, 2.5.5):
//! `*`, or relations (`dc:title contains "cat"`, `upnp:class derivedfrom
//! "object.item.videoItem"`, `@refID exists false`) joined by `and` and
//! `or` (`and` binds tighter), in parentheses as needed.
//!
//! Bounded: at most `MAX_LEN` bytes and `MAX_DEPTH` nested parentheses; a
//! criterion beyond them, or one that does not parse, is refused (708).

/// Longest criteria accepted, in bytes.
pub const MAX_LEN: usize = 2048;
const MAX_DEPTH: usize = 16;

/// A parsed criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criteria {
    /// `*`: everything.
    All,
    And(Box<Criteria>, Box<Criteria>),
    Or(Box<Criteria>, Box<Criteria>),
    Compare {
        property: String,
        op: Op,
        value: String,
    },
    Exists {
        property: String,
        exists: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Contains,
    DoesNotContain,
    DerivedFrom,
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word {
            "=" => Op::Equal,
            "!=" => Op::NotEqual,
            "<" => Op::Less,
            "<=" => Op::LessOrEqual,
            ">" => Op::Greater,
            ">=" => Op::GreaterOrEqual,
            w if w.eq_ignore_ascii_case("contains") => Op::Contains,
            w if w.eq_ignore_ascii_case("doesNotContain") => Op::DoesNotContain,
            w if w.eq_ignore_ascii_case("derivedfrom") => Op::DerivedFrom,
            _ => return None,
        })
    }
}

/// Criteria that do not parse.
#[derive(Debug, PartialEq, Eq)]
pub struct Bad;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Quoted(String),
    Word(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, Bad> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next().ok_or(Bad)? {
                        '"' => break,
                        '\\' => s.push(chars.next().ok_or(Bad)?),
                        c => s.push(c),
                    }
                }
                out.push(Token::Quoted(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                out.push(Token::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn any(&mut self) -> Result<Criteria, Bad> {
        let mut left = self.all()?;
        while self.is_word("or") {
            self.at += 1;
            left = Criteria::Or(Box::new(left), Box::new(self.all()?));
        }
        Ok(left)
    }

    fn all(&mut self) -> Result<Criteria, Bad> {
        let mut left = self.one()?;
        while self.is_word("and") {
            self.at += 1;
            left = Criteria::And(Box::new(left), Box::new(self.one()?));
        }
        Ok(left)
    }

    fn one(&mut self) -> Result<Criteria, Bad> {
        match self.next().ok_or(Bad)? {
            Token::Open => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(Bad);
                }
                let inner = self.any()?;
                self.depth -= 1;
                (self.next() == Some(Token::Close)).then_some(inner).ok_or(Bad)
            }
            Token::Word(property) => {
                let Some(Token::Word(op)) = self.next() else { return Err(Bad) };
                if op.eq_ignore_ascii_case("exists") {
                    let exists = match self.next() {
                        Some(Token::Word(b)) if b.eq_ignore_ascii_case("true") => true,
                        Some(Token::Word(b)) if b.eq_ignore_ascii_case("false") => false,
                        _ => return Err(Bad),
                    };
                    return Ok(Criteria::Exists { property, exists });
                }
                let op = Op::parse(&op).ok_or(Bad)?;
                let Some(Token::Quoted(value)) = self.next() else { return Err(Bad) };
                Ok(Criteria::Compare { property, op, value })
            }
            _ => Err(Bad),
        }
    }
}

impl Criteria {
    pub fn parse(text: &str) -> Result<Criteria, Bad> {
        let text = text.trim();
        if text.len() > MAX_LEN {
            return Err(Bad);
        }
        if text == "*" || text.is_empty() {
            return Ok(Criteria::All);
        }
        let mut p = Parser { tokens: tokens(text)?, at: 0, depth: 0 };
        let c = p.any()?;
        (p.at == p.tokens.len()).then_some(c).ok_or(Bad)
    }

    /// Whether an object with these properties matches; `value` gives a
    /// property's value (`None`: the object has none).
    pub fn admits<'a>(&self, value: &impl Fn(&str) -> Option<std::borrow::Cow<'a, str>>) -> bool {
        match self {
            Criteria::All => true,
            Criteria::And(a, b) => a.admits(value) && b.admits(value),
            Criteria::Or(a, b) => a.admits(value) || b.admits(value),
            Criteria::Exists { property, exists } => value(property).is_some() == *exists,
            Criteria::Compare { property, op, value: wanted } => {
                let Some(have) = value(property) else { return *op == Op::NotEqual || *op == Op::DoesNotContain };
                let (have, wanted) = (have.to_lowercase(), wanted.to_lowercase());
                match op {
                    Op::Equal => have == wanted,
                    Op::NotEqual => have != wanted,
                    Op::Less => have < wanted,
                    Op::LessOrEqual => have <= wanted,
                    Op::Greater => have > wanted,
                    Op::GreaterOrEqual => have >= wanted,
                    Op::Contains => have.contains(&wanted),
                    Op::DoesNotContain => !have.contains(&wanted),
                    // `object.item` derives from `object`, not from `object.it`.
                    Op::DerivedFrom => {
                        have == wanted || have.strip_prefix(&wanted).is_some_and(|rest| rest.starts_with('.'))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn video(p: &str) -> Option<Cow<'static, str>> {
        match p {
            "upnp:class" => Some(Cow::Borrowed("object.item.videoItem")),
            "dc:title" => Some(Cow::Borrowed("The Cat Returns")),
            "dc:date" => Some(Cow::Borrowed("2024-05-01")),
            _ => None,
        }
    }

    fn yes(text: &str) -> bool {
        Criteria::parse(text).unwrap_or_else(|_| panic!("{text}")).admits(&video)
    }

    #[test]
    fn matches_what_players_send() {
        assert!(yes("*"));
        assert!(yes("upnp:class derivedfrom \"object.item.videoItem\""));
        assert!(yes("upnp:class derivedfrom \"object.item\""));
        assert!(!yes("upnp:class derivedfrom \"object.item.audioItem\""));
        assert!(!yes("upnp:class derivedfrom \"object.it\""));
        assert!(yes("(upnp:class derivedfrom \"object.item.videoItem\" and dc:title contains \"cat\")"));
        assert!(!yes("upnp:class derivedfrom \"object.item.videoItem\" and dc:title contains \"dog\""));
        assert!(yes("dc:title contains \"dog\" or dc:title contains \"RETURNS\""));
        assert!(yes("(upnp:class = \"object.item.videoItem\") and @refID exists false"));
        assert!(!yes("@refID exists true"));
        assert!(yes("dc:title doesNotContain \"dog\""));
        assert!(yes("dc:date >= \"2024-01-01\" and dc:date < \"2025-01-01\""));
        assert!(yes("upnp:artist != \"x\""));
        // `and` binds tighter than `or`.
        assert!(yes("dc:title contains \"cat\" or dc:title contains \"x\" and dc:title contains \"y\""));
        // Quotes inside a value are escaped.
        let quoted = Criteria::parse("dc:title = \"the \\\"cat\\\"\"").unwrap();
        assert_eq!(
            quoted,
            Criteria::Compare { property: "dc:title".into(), op: Op::Equal, value: "the \"cat\"".into() }
        );
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "dc:title",
            "dc:title contains",
            "dc:title contains cat",
            "dc:title resembles \"cat\"",
            "(dc:title contains \"cat\"",
            "dc:title contains \"cat\")",
            "dc:title contains \"cat",
            "@refID exists maybe",
            "and",
            "dc:title contains \"a\" and",
        ] {
            assert_eq!(Criteria::parse(bad), Err(Bad), "{bad}");
        }
        let deep = format!("{}dc:title contains \"a\"{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(Criteria::parse(&deep), Err(Bad));
        assert_eq!(Criteria::parse(&"x".repeat(MAX_LEN + 1)), Err(Bad));
    }
}
