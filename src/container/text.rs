//! Text as containers store it: names, titles, languages and subtitle
//! text in UTF-8 or, in old files, a legacy encoding.

/// Longest track name or chapter title kept, in characters.
const MAX_NAME_CHARS: usize = 256;

/// Text in whatever encoding subtitle files come in.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        // Most old subtitle files: Windows-1252, a superset of Latin-1.
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Shared by the readers: text as stored (UTF-8, else the legacy guess).
pub fn text_of(bytes: &[u8]) -> String {
    decode(bytes).trim_end_matches('\0').to_string()
}

/// A name or title as stored, at most `MAX_NAME_CHARS` characters.
pub fn name_of(bytes: &[u8]) -> String {
    let text = text_of(&bytes[..bytes.len().min(MAX_NAME_CHARS * 4)]);
    text.chars().take(MAX_NAME_CHARS).collect()
}

/// A language code worth showing: not empty, not "und".
pub fn language(code: &str) -> Option<String> {
    let code = code.trim().trim_end_matches('\0');
    (!code.is_empty() && code != "und" && code.len() <= 35).then(|| code.to_string())
}
