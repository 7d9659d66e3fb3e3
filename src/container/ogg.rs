//! Ogg pages (RFC 3533): the page header, its segment table and data, and
//! the last page of a stream in a file's tail. The checksum is not checked:
//! a damaged page only gives a wrong duration, never a wrong read.

/// One page, borrowed from the bytes it was read from.
pub struct Page<'a> {
    /// Beginning of a stream.
    pub bos: bool,
    pub granule: i64,
    pub serial: u32,
    /// The page's data; its first packet starts at offset 0.
    pub data: &'a [u8],
    /// The page's length with its header.
    pub len: usize,
}

/// The page at the start of `b`; `None` when there is none, or it is cut.
pub fn page(b: &[u8]) -> Option<Page<'_>> {
    if !b.starts_with(b"OggS") || *b.get(4)? != 0 {
        return None;
    }
    let flags = *b.get(5)?;
    let granule = i64::from_le_bytes(b.get(6..14)?.try_into().ok()?);
    let serial = u32::from_le_bytes(b.get(14..18)?.try_into().ok()?);
    let nseg = *b.get(26)? as usize;
    let table = b.get(27..27 + nseg)?;
    let body: usize = table.iter().map(|&x| x as usize).sum();
    let start = 27 + nseg;
    let data = b.get(start..start + body)?;
    Some(Page { bos: flags & 2 != 0, granule, serial, data, len: start + body })
}

/// The granule position of the last whole page of stream `serial` in
/// `tail` (the end of a file), when it has one.
pub fn last_granule(tail: &[u8], serial: u32) -> Option<u64> {
    let last = (0..tail.len().saturating_sub(27))
        .rev()
        .filter(|&i| tail[i..].starts_with(b"OggS"))
        .filter_map(|i| page(&tail[i..]))
        .find(|p| p.serial == serial && p.granule >= 0)?;
    Some(last.granule as u64)
}
