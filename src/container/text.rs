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

/// Languages by their ISO 639 codes (two letters, and the three-letter
/// bibliographic and terminological forms), named as their speakers name
/// them: what a track menu shows instead of a code.
const LANGUAGES: &[(&[&str], &str)] = &[
    (&["en", "eng"], "English"),
    (&["fr", "fre", "fra"], "Français"),
    (&["de", "ger", "deu"], "Deutsch"),
    (&["es", "spa"], "Español"),
    (&["it", "ita"], "Italiano"),
    (&["pt", "por"], "Português"),
    (&["nl", "dut", "nld"], "Nederlands"),
    (&["sv", "swe"], "Svenska"),
    (&["no", "nor", "nb", "nob", "nn", "nno"], "Norsk"),
    (&["da", "dan"], "Dansk"),
    (&["fi", "fin"], "Suomi"),
    (&["is", "ice", "isl"], "Íslenska"),
    (&["pl", "pol"], "Polski"),
    (&["cs", "cze", "ces"], "Čeština"),
    (&["sk", "slo", "slk"], "Slovenčina"),
    (&["sl", "slv"], "Slovenščina"),
    (&["hu", "hun"], "Magyar"),
    (&["ro", "rum", "ron"], "Română"),
    (&["hr", "hrv"], "Hrvatski"),
    (&["sr", "srp"], "Српски"),
    (&["bg", "bul"], "Български"),
    (&["el", "gre", "ell"], "Ελληνικά"),
    (&["ru", "rus"], "Русский"),
    (&["uk", "ukr"], "Українська"),
    (&["et", "est"], "Eesti"),
    (&["lv", "lav"], "Latviešu"),
    (&["lt", "lit"], "Lietuvių"),
    (&["tr", "tur"], "Türkçe"),
    (&["ar", "ara"], "العربية"),
    (&["he", "heb"], "עברית"),
    (&["fa", "per", "fas"], "فارسی"),
    (&["hi", "hin"], "हिन्दी"),
    (&["th", "tha"], "ไทย"),
    (&["vi", "vie"], "Tiếng Việt"),
    (&["id", "ind"], "Bahasa Indonesia"),
    (&["ms", "may", "msa"], "Bahasa Melayu"),
    (&["tl", "tgl", "fil"], "Filipino"),
    (&["ja", "jpn"], "日本語"),
    (&["ko", "kor"], "한국어"),
    (&["zh", "chi", "zho"], "中文"),
    (&["ca", "cat"], "Català"),
    (&["eu", "baq", "eus"], "Euskara"),
    (&["gl", "glg"], "Galego"),
    (&["ga", "gle"], "Gaeilge"),
    (&["cy", "wel", "cym"], "Cymraeg"),
];

/// The name of the language a code (`fr`, `fre`, `fra`, `pt-BR`, any
/// case) stands for, as its speakers write it; `None` for codes not
/// known here.
pub fn language_name(code: &str) -> Option<&'static str> {
    let base = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    LANGUAGES.iter().find(|(codes, _)| codes.contains(&base.as_str())).map(|(_, name)| *name)
}

/// A language code worth showing: not empty, not "und".
pub fn language(code: &str) -> Option<String> {
    let code = code.trim().trim_end_matches('\0');
    (!code.is_empty() && code != "und" && code.len() <= 35).then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_become_names_people_read() {
        assert_eq!(language_name("eng"), Some("English"));
        assert_eq!(language_name("fr"), Some("Français"));
        assert_eq!(language_name("FRA"), Some("Français"));
        assert_eq!(language_name("ger"), Some("Deutsch"));
        assert_eq!(language_name("pt-BR"), Some("Português"));
        assert_eq!(language_name("zh_Hant"), Some("中文"));
        assert_eq!(language_name("und"), None);
        assert_eq!(language_name("xx"), None);
        assert_eq!(language_name(""), None);
    }
}
