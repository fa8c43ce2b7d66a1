//! HTTP/1.1 head syntax shared by both roles (RFC 9112 §2-§5): one resumable, bounded
//! parser ([`HeadParser`]) for request and response heads.

use alloc::vec::Vec;

use crate::{HandshakeError, HandshakeLimits};

/// One header field of a head: the name as sent and the value with leading and trailing
/// whitespace (SP, HTAB) removed (RFC 9112 §5.1).
///
/// The name is an RFC 9110 token, so always ASCII. The value may hold bytes above 0x7F
/// (`obs-text`), hence bytes; see [`Header::value_str`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// A token, checked by the parser.
    name: &'a str,
    value: &'a [u8],
}

impl<'a> Header<'a> {
    /// The field name, as sent (compare with [`str::eq_ignore_ascii_case`]).
    #[must_use]
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// Whether the name is `name`, ASCII case-insensitive.
    #[must_use]
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The field value, trimmed of surrounding whitespace.
    #[must_use]
    pub const fn value(&self) -> &'a [u8] {
        self.value
    }

    /// The value as text, if it is valid UTF-8.
    #[must_use]
    pub fn value_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.value).ok()
    }
}

impl core::fmt::Debug for Header<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Header")
            .field("name", &self.name())
            .field("value", &alloc::string::String::from_utf8_lossy(self.value))
            .finish()
    }
}

/// The first value of the header called `name` (ASCII case-insensitive).
pub(crate) fn find_header<'a>(headers: &[Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers.iter().find(|h| h.is(name)).map(|h| h.value)
}

/// RFC 9110 §5.6.2:
///
/// ```text
/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
///         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
/// ```
const fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// RFC 9110 §5.5: `field-vchar = VCHAR / obs-text`, plus SP and HTAB inside a value.
const fn is_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// `TOKEN[b]`: `b` is a `tchar`. `VALUE[b]`: `b` may appear in a field value.
pub(crate) static TOKEN: [bool; 256] = byte_tables().0;
static VALUE: [bool; 256] = byte_tables().1;

const fn byte_tables() -> ([bool; 256], [bool; 256]) {
    let mut token = [false; 256];
    let mut value = [false; 256];
    let mut i = 0;
    while i < 256 {
        #[allow(clippy::cast_possible_truncation)]
        let b = i as u8;
        token[i] = is_tchar(b);
        value[i] = is_value_byte(b);
        i += 1;
    }
    (token, value)
}

/// Whether `s` is a non-empty RFC 9110 token.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| TOKEN[b as usize])
}

/// Whether `s` may be sent as a header value: no control characters other than HTAB (so
/// no CR or LF), nothing but whitespace around it.
pub(crate) fn is_value(s: &[u8]) -> bool {
    s.iter().all(|&b| VALUE[b as usize]) && trim_ows(s).len() == s.len()
}

/// Removes optional whitespace (SP, HTAB) from both ends (RFC 9110 §5.6.3 `OWS`).
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Removes trailing optional whitespace (SP, HTAB).
fn trim_end_ows(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Whether the comma-separated list `value` has an element equal to `token`, ASCII
/// case-insensitive (RFC 9110 §5.6.1 lists; empty elements are ignored). `token` is
/// lowercase.
pub(crate) fn list_has_token<const N: usize>(value: &[u8], token: &[u8; N]) -> bool {
    // The usual value is the token alone (`Upgrade: websocket`): no need to split.
    eq_lowercase(value, token)
        || value
            .split(|&b| b == b',')
            .any(|item| eq_lowercase(trim_ows(item), token))
}

/// Whether `s` is `lowercase` but for ASCII case, where `lowercase` has no uppercase
/// letter: [`<[u8]>::eq_ignore_ascii_case`] for a literal of known length, which the
/// compiler turns into a few word or vector compares (`b | 0x20 == l` for each letter
/// `l` of the literal, `b == c` for any other byte `c`).
#[inline]
pub(crate) fn eq_lowercase<const N: usize>(s: &[u8], lowercase: &[u8; N]) -> bool {
    let Ok(s) = <&[u8; N]>::try_from(s) else {
        return false;
    };
    let differ = s.iter().zip(lowercase).fold(0, |differ, (&b, &l)| {
        let case = if l.is_ascii_lowercase() { 0x20 } else { 0 };
        differ | ((b | case) ^ l)
    });
    differ == 0
}

// ----- a word at a time (SWAR), in safe code -----

const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Eight bytes as a little-endian word, so that the lowest set bit of a mask below
/// belongs to the first byte in memory.
#[inline]
fn word(bytes: [u8; 8]) -> u64 {
    u64::from_le_bytes(bytes)
}

/// The high bit of each byte of `x` that is zero. Exact (no carries between bytes):
/// `(b & 0x7f) + 0x7f` has bit 7 set iff `b & 0x7f != 0`.
#[inline]
const fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// Flags (high bit) the bytes of `x` where a field value may stop: every byte below 0x20
/// (HTAB included) or from 0x7f to 0xfe, and possibly bytes after one of those. Only the
/// first flag is exact, which is all a search needs: `x - 0x20` borrows and `x + 0x01`
/// carries only out of a byte that is flagged or (for the carry) 0xff, a value byte that
/// is never flagged and can only turn the flag of the next byte on.
#[inline]
const fn value_stops(x: u64) -> u64 {
    let below_space = x.wrapping_sub(u64::from_ne_bytes([0x20; 8])) & !x;
    let del_or_high = x.wrapping_add(u64::from_ne_bytes([0x01; 8]));
    (below_space | del_or_high) & HIGHS
}

/// The index of the first byte flagged in `mask`.
#[inline]
const fn first_flagged(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Whether `s` is visible ASCII or SP (0x20 to 0x7e), a word at a time: the last word
/// overlaps the one before it rather than leaving a tail.
pub(crate) fn is_printable(s: &[u8]) -> bool {
    // A byte outside 0x20..=0x7e is flagged by `value_stops` (below 0x20, or 0x7f to
    // 0xfe) or has its high bit set (0xff); bytes inside it raise no flag at all.
    let bad = |chunk: &[u8]| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let x = word(bytes);
        (value_stops(x) | x) & HIGHS
    };
    match s.len() {
        0 => false,
        1..8 => s
            .iter()
            .fold(true, |ok, &b| ok & (b' '..=b'~').contains(&b)),
        len => {
            let tail = s.get(len - 8..).map_or(HIGHS, bad);
            s.chunks_exact(8)
                .fold(tail, |found, chunk| found | bad(chunk))
                == 0
        }
    }
}

/// The position of the first `\n` in `hay`.
fn find_lf(hay: &[u8]) -> Option<usize> {
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let found = zero_bytes(word(bytes) ^ LFS);
        if found != 0 {
            return Some(base + first_flagged(found));
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| base + p)
}

/// The index of the first `:` in `s` (found a word at a time), or `s.len()`.
#[inline]
fn find_colon(s: &[u8]) -> usize {
    const COLONS: u64 = u64::from_ne_bytes([b':'; 8]);
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let found = zero_bytes(word(bytes) ^ COLONS);
        if found != 0 {
            return i + first_flagged(found);
        }
        i += 8;
    }
    s.get(i..)
        .unwrap_or_default()
        .iter()
        .position(|&b| b == b':')
        .map_or(s.len(), |p| i + p)
}

/// [`is_token`], branch-free over the bytes: names are short and almost always valid.
#[inline]
fn is_token_branch_free(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().fold(true, |ok, &b| ok & TOKEN[b as usize])
}

/// The index of the first byte from `i` on that may not appear in a field value (a
/// control character other than HTAB, or DEL), or `s.len()`, a word at a time. (Sixteen
/// bytes at a time with compiler-vectorized compares measured no better: most values are
/// short, and the flagged chunk still has to be searched.)
#[inline]
fn skip_value_bytes(s: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = s.get(i..i + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let flagged = value_stops(word(bytes));
        if flagged == 0 {
            i += 8;
            continue;
        }
        i += first_flagged(flagged);
        // The byte may still be allowed: HTAB, or obs-text (0x80 and above).
        if !VALUE[s[i] as usize] {
            return i;
        }
        i += 1;
    }
    while let Some(&b) = s.get(i) {
        if !VALUE[b as usize] {
            break;
        }
        i += 1;
    }
    i
}

/// Parses `HTTP/x.y` (RFC 9112 §2.3) into (major, minor).
pub(crate) fn parse_http_version(v: &[u8]) -> Option<(u8, u8)> {
    match *v {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Some((major - b'0', minor - b'0'))
        }
        _ => None,
    }
}

/// What a role gathers from the header fields it looks for, shown each one by a
/// [`HeadParser`] as it is parsed.
pub(crate) trait FieldVisitor<'b, F> {
    /// Records one header field; `value` is trimmed.
    fn visit(&mut self, field: F, value: Value<'b>);
}

/// What kind of head a [`HeadParser`] reads: a request or a response.
pub(crate) trait HeadKind {
    /// The start line, as offsets into it (it starts the head, so into the head).
    type StartLine: Copy + core::fmt::Debug;
    /// A header field the role looks at, e.g. `Host`.
    type Field: Copy + core::fmt::Debug;

    /// Parses the start line, without its CRLF.
    fn start_line(line: &[u8]) -> Result<Self::StartLine, HandshakeError>;

    /// Which of its fields `name` is, if any. `Some` only for a token (a name matched
    /// against a literal), so that the parser can skip its own check of the name.
    fn field(name: &[u8]) -> Option<Self::Field>;
}

/// A header line parsed by a [`HeadParser`], as offsets into the head: kept across calls,
/// whose buffers each extend the last.
#[derive(Debug, Clone, Copy)]
struct RawHeader<F> {
    /// INVARIANT: `name_start + name_len <= value_start <= value_end <=` the head's
    /// length, and the name is a token.
    name_start: usize,
    name_len: usize,
    value_start: usize,
    value_end: usize,
    field: Option<F>,
}

/// What one step of a [`HeadParser`] found at the start of the unparsed bytes.
enum Step {
    /// A line of this many bytes, CRLF included, parsed and recorded.
    Line(usize),
    /// The empty line (two bytes) that ends the head.
    End,
    /// Not a whole line yet.
    Incomplete,
}

/// The one HTTP/1.1 head parser (RFC 9112 §2-§5), for requests and responses: resumable,
/// bounded and linear, each line parsed once.
///
/// The caller passes the bytes received so far, each call extending the last. A head
/// that arrives whole in the first call (the usual case) is parsed in a single pass that
/// builds the header list and shows the role its fields as it goes. Otherwise the lines
/// complete so far are kept as offsets, and later calls parse each line as soon as it is
/// complete. Parsing is linear however the bytes arrive (tungstenite's CVE-2023-43669
/// rescanned from the start on every call): a line found incomplete is searched for its
/// end from where the last search stopped, then parsed once. The parser never looks past
/// [`HandshakeLimits::max_head_size`] and refuses a header line past
/// [`HandshakeLimits::max_headers`] as soon as that line is complete.
///
/// Errors come in the order of the lines: a bare LF, too many headers, then what is wrong
/// inside the line. The same bytes give the same outcome whatever their split.
#[derive(Debug, Clone)]
pub(crate) struct HeadParser<K: HeadKind> {
    /// The start of the first line not yet parsed.
    /// INVARIANT: `pos <= searched <= max_head_size`.
    pos: usize,
    /// Bytes before `searched` hold no LF after `pos`. Zero until a call has kept lines
    /// for the next, so that a parser whose head completed in one call starts afresh.
    searched: usize,
    start: Option<K::StartLine>,
    headers: Vec<RawHeader<K::Field>>,
    /// The length of the head, once complete.
    end: Option<usize>,
}

impl<K: HeadKind> HeadParser<K> {
    pub(crate) const fn new() -> Self {
        HeadParser {
            pos: 0,
            searched: 0,
            start: None,
            headers: Vec::new(),
            end: None,
        }
    }

    /// Parses the head in `buf`, all the bytes received so far: `None` until it is
    /// complete, then its start line and header fields, each field the role looks for
    /// shown to `visit`. A `buf` shorter than the bytes already searched starts the parse
    /// over; once complete, later calls return the head again.
    #[inline]
    pub(crate) fn parse<'b>(
        &mut self,
        buf: &'b [u8],
        limits: &HandshakeLimits,
        visit: &mut impl FieldVisitor<'b, K::Field>,
    ) -> Result<Option<ParsedHead<'b, K>>, HandshakeError> {
        if buf.len() < self.searched {
            *self = Self::new();
        }
        if self.searched == 0 {
            return self.parse_fresh(buf, limits, visit);
        }
        if self.advance(buf, limits)?.is_none() {
            return Ok(None);
        }
        self.finish(buf, visit)
    }

    /// The first call (or one after a head that completed in one call): one pass over
    /// the lines that builds the header list directly. If the head is not complete, what
    /// was parsed is kept as offsets and the parse goes on in [`HeadParser::advance`].
    fn parse_fresh<'b>(
        &mut self,
        buf: &'b [u8],
        limits: &HandshakeLimits,
        visit: &mut impl FieldVisitor<'b, K::Field>,
    ) -> Result<Option<ParsedHead<'b, K>>, HandshakeError> {
        let window = &buf[..buf.len().min(limits.max_head_size)];
        let Some((start, pos)) = Self::start_line(window)? else {
            self.searched = window.len();
            return Self::incomplete(buf, limits);
        };
        let first = TextChunk::check(window, 0);
        let mut lines = Direct {
            window,
            text: first,
            headers: Vec::with_capacity(16),
            visit,
        };
        let pos = match direct_lines::<K, _>(&mut lines, pos, limits.max_headers)? {
            Ok(end) => {
                let head = window.get(..end).ok_or(HandshakeError::InvalidHeaderName)?;
                return Ok(Some(ParsedHead {
                    start,
                    headers: lines.headers,
                    text: HeadText::with_prefix(head, first.text),
                    len: end,
                }));
            }
            Err(incomplete_at) => incomplete_at,
        };
        // Keep the lines parsed, as offsets into the buffer, for the calls that extend it.
        let base = window.as_ptr().addr();
        let offset = |part: &[u8]| part.as_ptr().addr().checked_sub(base);
        self.headers = lines
            .headers
            .iter()
            .map(|h| {
                let name = h.name.as_bytes();
                let (Some(name_start), Some(value_start)) = (offset(name), offset(h.value)) else {
                    return Err(HandshakeError::InvalidHeaderName);
                };
                Ok(RawHeader {
                    name_start,
                    name_len: name.len(),
                    value_start,
                    value_end: value_start + h.value.len(),
                    field: K::field(name),
                })
            })
            .collect::<Result<_, _>>()?;
        self.start = Some(start);
        self.pos = pos;
        self.searched = window.len();
        Self::incomplete(buf, limits)
    }

    /// The answer for a head not complete in `buf`.
    fn incomplete<T>(buf: &[u8], limits: &HandshakeLimits) -> Result<Option<T>, HandshakeError> {
        if buf.len() >= limits.max_head_size {
            return Err(HandshakeError::HeadTooLarge {
                max: limits.max_head_size,
            });
        }
        Ok(None)
    }

    /// Parses the lines of `buf` not parsed yet. Returns the length of the head (through
    /// the final CRLF) once complete; later calls return it again.
    fn advance(
        &mut self,
        buf: &[u8],
        limits: &HandshakeLimits,
    ) -> Result<Option<usize>, HandshakeError> {
        if let Some(end) = self.end {
            return Ok(Some(end));
        }
        let window = &buf[..buf.len().min(limits.max_head_size)];
        loop {
            // A line found incomplete before: look for its end in the new bytes only.
            if self.searched > self.pos && find_lf(&window[self.searched..]).is_none() {
                self.searched = window.len();
                break;
            }
            let rest = &window[self.pos..];
            let step = if self.start.is_none() {
                match Self::start_line(rest)? {
                    Some((start, len)) => {
                        self.start = Some(start);
                        Step::Line(len)
                    }
                    None => Step::Incomplete,
                }
            } else {
                header_line::<K, _>(&mut self.headers, rest, self.pos, limits.max_headers)?
            };
            match step {
                Step::Line(len) => {
                    self.pos += len;
                    self.searched = self.pos;
                }
                Step::End => {
                    self.pos += 2;
                    self.searched = self.pos;
                    self.end = Some(self.pos);
                    return Ok(self.end);
                }
                Step::Incomplete => {
                    self.searched = window.len();
                    break;
                }
            }
        }
        Self::incomplete(buf, limits)
    }

    /// The start line at the start of `rest` and its length with the CRLF, or `None` if
    /// not complete.
    fn start_line(rest: &[u8]) -> Result<Option<(K::StartLine, usize)>, HandshakeError> {
        let Some(lf) = find_lf(rest) else {
            return Ok(None);
        };
        // RFC 9112 §2.2: lines end in CRLF. We refuse a bare LF rather than guess.
        let [line @ .., b'\r'] = &rest[..lf] else {
            return Err(HandshakeError::BareLineFeed);
        };
        // An empty first line goes to the start-line parser too, which refuses it.
        Ok(Some((K::start_line(line)?, lf + 1)))
    }

    /// The head completed by [`HeadParser::advance`] in `buf` (the buffer of the call
    /// that completed it, or one extending it), each field the role looks for shown to
    /// `visit`.
    fn finish<'b>(
        &self,
        buf: &'b [u8],
        visit: &mut impl FieldVisitor<'b, K::Field>,
    ) -> Result<Option<ParsedHead<'b, K>>, HandshakeError> {
        let (Some(start), Some(end)) = (self.start, self.end) else {
            return Ok(None);
        };
        let text = HeadText::new(buf.get(..end).ok_or(HandshakeError::InvalidHeaderName)?);
        let mut headers = Vec::with_capacity(self.headers.len());
        for raw in &self.headers {
            // A token is ASCII, so this cannot fail on the buffer parsed; a caller who
            // changed the bytes since gets an error, not a guess.
            let name = text
                .str(raw.name_start, raw.name_start + raw.name_len)
                .ok_or(HandshakeError::InvalidHeaderName)?;
            let value = text
                .bytes
                .get(raw.value_start..raw.value_end)
                .ok_or(HandshakeError::InvalidHeaderValue)?;
            headers.push(Header { name, value });
            if let Some(field) = raw.field {
                visit.visit(
                    field,
                    Value {
                        bytes: value,
                        text: text.text.get(raw.value_start..raw.value_end),
                    },
                );
            }
        }
        Ok(Some(ParsedHead {
            start,
            headers,
            text,
            len: end,
        }))
    }
}

/// Where a [`HeadParser`] puts the header lines it parses.
trait Lines<F> {
    /// How many lines so far.
    fn count(&self) -> usize;
    /// Records the line parsed at `at` in the head.
    fn push(&mut self, line: HeaderLine<F>, at: usize) -> Result<(), HandshakeError>;
}

/// The header lines of a head parsed in one call, from `pos` in `lines.window`: `Ok`
/// with the length of the head at its final empty line, `Err` with the start of the first
/// line not complete yet. One tight loop over the lines; anything unusual goes to
/// [`settle_line`].
// Kept out of line, with the line parser and the push inlined into it: one loop that
// keeps its registers.
#[inline(never)]
fn direct_lines<'b, K: HeadKind, V: FieldVisitor<'b, K::Field>>(
    lines: &mut Direct<'b, '_, V>,
    mut pos: usize,
    max_headers: usize,
) -> Result<Result<usize, usize>, HandshakeError> {
    let window = lines.window;
    let mut rest = window.get(pos..).ok_or(HandshakeError::InvalidHeaderName)?;
    loop {
        if let [b'\r', b'\n', ..] = rest {
            return Ok(Ok(pos + 2));
        }
        let len = match parse_header_line::<K>(rest) {
            Ok(line) if lines.headers.len() < max_headers => {
                lines.push_line(line, pos)?;
                line.value_start + line.line_rest
            }
            _ => match settle_line::<K, _>(lines, rest, pos, max_headers)? {
                Step::Line(len) => len,
                Step::End => return Ok(Ok(pos + 2)),
                Step::Incomplete => return Ok(Err(pos)),
            },
        };
        pos += len;
        rest = rest.get(len..).ok_or(HandshakeError::InvalidHeaderName)?;
    }
}

/// Lines kept as offsets, across calls.
impl<F> Lines<F> for Vec<RawHeader<F>> {
    fn count(&self) -> usize {
        self.len()
    }

    fn push(&mut self, line: HeaderLine<F>, at: usize) -> Result<(), HandshakeError> {
        if self.capacity() == 0 {
            // Enough for most heads (browsers send 10 to 20 fields): one allocation.
            self.reserve(16);
        }
        Vec::push(
            self,
            RawHeader {
                name_start: at,
                name_len: line.name_len,
                value_start: at + line.value_start,
                value_end: at + line.value_end,
                field: line.field,
            },
        );
        Ok(())
    }
}

/// Lines of a head parsed in one call: built into [`Header`]s at once, with the fields
/// the role looks for shown to `visit` as they come.
struct Direct<'b, 'v, V> {
    window: &'b [u8],
    text: TextChunk<'b>,
    headers: Vec<Header<'b>>,
    visit: &'v mut V,
}

impl<'b, F, V: FieldVisitor<'b, F>> Lines<F> for Direct<'b, '_, V> {
    fn count(&self) -> usize {
        self.headers.len()
    }

    fn push(&mut self, line: HeaderLine<F>, at: usize) -> Result<(), HandshakeError> {
        self.push_line(line, at)
    }
}

impl<'b, V> Direct<'b, '_, V> {
    #[allow(clippy::inline_always)] // Measured: out of line, the header loop pays a call per line.
    #[inline(always)]
    fn push_line<F>(&mut self, line: HeaderLine<F>, at: usize) -> Result<(), HandshakeError>
    where
        V: FieldVisitor<'b, F>,
    {
        let name_end = at + line.name_len;
        let name = if let Some(name) = self.text.get(at, name_end) {
            name
        } else {
            // Past the checked stretch (a long head, or obs-text before): check on from
            // this line. A token is ASCII, so this cannot fail on the bytes parsed.
            self.text = TextChunk::check(self.window, at);
            self.text
                .get(at, name_end)
                .ok_or(HandshakeError::InvalidHeaderName)?
        };
        let (value_start, value_end) = (at + line.value_start, at + line.value_end);
        let value = self
            .window
            .get(value_start..value_end)
            .ok_or(HandshakeError::InvalidHeaderValue)?;
        if let Some(field) = line.field {
            self.visit.visit(
                field,
                Value {
                    bytes: value,
                    text: self.text.get(value_start, value_end),
                },
            );
        }
        self.headers.push(Header { name, value });
        Ok(())
    }
}

/// How many bytes a [`TextChunk`] checks at most: most heads, so that one check covers
/// the head, while the bytes after a head (a body, frames) cost at most this much.
const TEXT_CHUNK: usize = 2048;

/// The longest UTF-8 prefix of up to [`TEXT_CHUNK`] bytes of a head, from a line start,
/// checked once: names and values inside it become text by slicing it.
#[derive(Clone, Copy)]
struct TextChunk<'b> {
    at: usize,
    text: &'b str,
}

impl<'b> TextChunk<'b> {
    fn check(window: &'b [u8], at: usize) -> Self {
        let end = window.len().min(at.saturating_add(TEXT_CHUNK));
        let text = window.get(at..end).map_or("", utf8_prefix);
        TextChunk { at, text }
    }

    /// The bytes `start..end` of the head as text, if inside the chunk.
    #[inline]
    fn get(&self, start: usize, end: usize) -> Option<&'b str> {
        self.text
            .get(start.checked_sub(self.at)?..end.checked_sub(self.at)?)
    }
}

/// The longest prefix of `bytes` that is UTF-8: all of it, unless `bytes` holds
/// `obs-text` or ends inside a character.
fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        // The bytes before the first invalid one; an empty prefix if even that failed,
        // which only costs the pieces a check of their own.
        Err(e) => match bytes.get(..e.valid_up_to()).map(core::str::from_utf8) {
            Some(Ok(valid)) => valid,
            _ => "",
        },
    }
}

/// Parses the header line (or final empty line) at the start of `rest`, which is at `at`
/// in the head, in one pass when it is whole and valid, into `lines`.
#[inline]
fn header_line<K: HeadKind, L: Lines<K::Field>>(
    lines: &mut L,
    rest: &[u8],
    at: usize,
    max_headers: usize,
) -> Result<Step, HandshakeError> {
    if let [b'\r', b'\n', ..] = rest {
        return Ok(Step::End);
    }
    match parse_header_line::<K>(rest) {
        Ok(header) if lines.count() < max_headers => {
            let len = header.value_start + header.line_rest;
            lines.push(header, at)?;
            Ok(Step::Line(len))
        }
        // Any other outcome (a line not complete yet, too many headers, a malformed
        // line) is settled on the line alone.
        _ => settle_line::<K, L>(lines, rest, at, max_headers),
    }
}

/// The canonical answer for the line at the start of `rest`: incomplete until its LF
/// arrives; then a bare LF, too many headers, or the line's own error, in that order.
#[cold]
#[inline(never)]
fn settle_line<K: HeadKind, L: Lines<K::Field>>(
    lines: &mut L,
    rest: &[u8],
    at: usize,
    max_headers: usize,
) -> Result<Step, HandshakeError> {
    let Some(lf) = find_lf(rest) else {
        return Ok(Step::Incomplete);
    };
    if lf == 0 || rest[lf - 1] != b'\r' {
        return Err(HandshakeError::BareLineFeed);
    }
    if lf == 1 {
        return Ok(Step::End);
    }
    if lines.count() >= max_headers {
        return Err(HandshakeError::TooManyHeaders { max: max_headers });
    }
    let header = parse_header_line::<K>(&rest[..=lf])?;
    lines.push(header, at)?;
    Ok(Step::Line(lf + 1))
}

/// A complete head from [`HeadParser::parse`].
pub(crate) struct ParsedHead<'b, K: HeadKind> {
    pub(crate) start: K::StartLine,
    pub(crate) headers: Vec<Header<'b>>,
    pub(crate) text: HeadText<'b>,
    /// The bytes the head took, final CRLF included.
    pub(crate) len: usize,
}

/// A head's bytes with the longest prefix that is UTF-8 (all of it, unless a field
/// value holds `obs-text`), checked once: the names, the start line and most values
/// become text by slicing it, not by checking each piece again.
#[derive(Clone, Copy)]
pub(crate) struct HeadText<'b> {
    bytes: &'b [u8],
    text: &'b str,
}

impl<'b> HeadText<'b> {
    fn new(bytes: &'b [u8]) -> Self {
        HeadText {
            bytes,
            text: utf8_prefix(bytes),
        }
    }

    /// `bytes` with `text`, a UTF-8 prefix of them (or of bytes extending them) checked
    /// already.
    const fn with_prefix(bytes: &'b [u8], text: &'b str) -> Self {
        HeadText { bytes, text }
    }

    /// The bytes `start..end` as text, if they are UTF-8.
    pub(crate) fn str(&self, start: usize, end: usize) -> Option<&'b str> {
        match self.text.get(start..end) {
            Some(text) => Some(text),
            None => core::str::from_utf8(self.bytes.get(start..end)?).ok(),
        }
    }
}

/// A header field value, with its text when the head's UTF-8 check covered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Value<'b> {
    pub(crate) bytes: &'b [u8],
    text: Option<&'b str>,
}

impl<'b> Value<'b> {
    /// A value from elsewhere (an HTTP stack's header map), not yet checked as text.
    pub(crate) const fn bytes(bytes: &'b [u8]) -> Self {
        Value { bytes, text: None }
    }

    /// The value as text, if it is UTF-8.
    pub(crate) fn text(&self) -> Option<&'b str> {
        match self.text {
            Some(text) => Some(text),
            None => core::str::from_utf8(self.bytes).ok(),
        }
    }
}

/// One header line, as offsets from its start.
#[derive(Clone, Copy)]
struct HeaderLine<F> {
    name_len: usize,
    value_start: usize,
    value_end: usize,
    /// The bytes from `value_start` through the CRLF.
    line_rest: usize,
    field: Option<F>,
}

/// Parses the header line at the start of `rest` (RFC 9112 §5): `field-name ":" OWS
/// field-value OWS CRLF`, in one pass. `rest` may hold more lines after it; an error
/// may also mean that the line is not complete, which the caller settles.
#[allow(clippy::inline_always)] // Measured: out of line, the header loop pays a call per line.
#[inline(always)]
fn parse_header_line<K: HeadKind>(rest: &[u8]) -> Result<HeaderLine<K::Field>, HandshakeError> {
    // RFC 9112 §5.2: obs-fold; "a server that receives an obs-fold in a request message
    // ... MUST either reject the message by sending a 400 (Bad Request) ... or replace
    // each received obs-fold with one or more SP". We reject.
    if let [b' ' | b'\t', ..] = rest {
        return Err(HandshakeError::ObsoleteLineFolding);
    }
    // The name runs to the first colon and must be a token; RFC 9112 §5.1: "No
    // whitespace is allowed between the field name and colon." A name the role knows is
    // a token already.
    let name_len = find_colon(rest);
    let name = &rest[..name_len];
    let field = K::field(name);
    if name_len == rest.len() || (field.is_none() && !is_token_branch_free(name)) {
        return Err(HandshakeError::InvalidHeaderName);
    }
    let mut i = name_len + 1;
    // Usually a single SP.
    if rest.get(i) == Some(&b' ') {
        i += 1;
    }
    while let Some(b' ' | b'\t') = rest.get(i) {
        i += 1;
    }
    let value_start = i;
    i = skip_value_bytes(rest, i);
    if rest.get(i..i + 2) != Some(b"\r\n") {
        // A control character, or a CR not followed by LF.
        return Err(HandshakeError::InvalidHeaderValue);
    }
    let value = trim_end_ows(&rest[value_start..i]);
    Ok(HeaderLine {
        name_len,
        value_start,
        value_end: value_start + value.len(),
        line_rest: i + 2 - value_start,
        field,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_lf_matches_naive_search() {
        let mut buf = [b'a'; 40];
        assert_eq!(find_lf(&buf), None);
        for at in 0..40 {
            buf = [b'a'; 40];
            buf[at] = b'\n';
            for start in 0..=at {
                assert_eq!(
                    find_lf(&buf[start..]),
                    Some(at - start),
                    "at {at} start {start}"
                );
            }
            // A second LF later never hides the first; bytes just above 0x0a too.
            if at + 1 < 40 {
                buf[at + 1] = 0x0b;
            }
            assert_eq!(find_lf(&buf), Some(at));
        }
        // Bytes with the high bit set and zero bytes are not matches.
        let tricky = [0x8a, 0x00, 0x0b, 0x09, 0xff, 0x8a, 0x0a, 0x0a, 0x00];
        assert_eq!(find_lf(&tricky), Some(6));
    }

    #[test]
    fn word_masks_match_naive_checks() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[at] = b;
                let w = word(bytes);
                let zero = zero_bytes(w);
                assert_eq!(zero != 0, b == 0, "{b:#x}");
                if b == 0 {
                    assert_eq!(first_flagged(zero), at);
                }
                let stops = value_stops(w);
                assert_eq!(stops != 0, b < 0x20 || (0x7f..0xff).contains(&b), "{b:#x}");
                if stops != 0 {
                    assert_eq!(first_flagged(stops), at);
                }
            }
        }
        // All bytes flagged exactly, with no carry into neighbours.
        let bytes = [0, 1, 0x1f, 0x20, 0x7f, 0x80, 0x9f, 0];
        assert_eq!(zero_bytes(word(bytes)), 0x8000_0000_0000_0080);
        assert_eq!(first_flagged(value_stops(word(bytes))), 0);
        let bytes = [b'a', 0xff, 0x7e, 0x20, 0x7f, 0x80, 0x9f, 0];
        // 0xff carries into 0x7e, which is flagged too; the search checks each flag.
        assert_eq!(first_flagged(value_stops(word(bytes))), 2);
    }

    #[test]
    fn skip_value_bytes_matches_the_table() {
        for len in 0..24 {
            for at in 0..len {
                for b in [0u8, b'\t', b'\r', b'\n', 0x1f, 0x7f, 0x80, 0xff, b' '] {
                    let mut s = alloc::vec![b'v'; len];
                    s[at] = b;
                    let naive = s.iter().position(|&c| !VALUE[c as usize]).unwrap_or(len);
                    for start in 0..=len {
                        let expected = if naive >= start {
                            naive
                        } else {
                            s[start..]
                                .iter()
                                .position(|&c| !VALUE[c as usize])
                                .map_or(len, |p| start + p)
                        };
                        assert_eq!(skip_value_bytes(&s, start), expected, "{s:?} from {start}");
                    }
                }
            }
        }
    }

    #[test]
    fn is_printable_matches_naive_check() {
        let naive = |s: &[u8]| !s.is_empty() && s.iter().all(|b| (b' '..=b'~').contains(b));
        for len in 0..24 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = alloc::vec![b'a'; len];
                    s[at] = b;
                    assert_eq!(is_printable(&s), naive(&s), "{s:?}");
                }
            }
            assert_eq!(is_printable(&alloc::vec![b'~'; len]), len > 0);
        }
    }

    #[test]
    fn find_colon_matches_naive_search() {
        for len in 0..20 {
            let s = alloc::vec![b'x'; len];
            assert_eq!(find_colon(&s), len);
            for at in 0..len {
                for b in [b':', b' ', b'\r', b'(', 0x80, 0xba, b'a'] {
                    let mut s = alloc::vec![b'x'; len];
                    s[at] = b;
                    let naive = |s: &[u8]| s.iter().position(|&c| c == b':').unwrap_or(s.len());
                    assert_eq!(find_colon(&s), naive(&s), "{s:?}");
                    if at + 1 < len {
                        s[at + 1] = b':';
                        assert_eq!(find_colon(&s), naive(&s), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn trim_and_tokens() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert!(is_token(b"permessage-deflate"));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b""));
        assert!(list_has_token(b"keep-alive, Upgrade", b"upgrade"));
        assert!(list_has_token(b",,UPGRADE,", b"upgrade"));
        assert!(list_has_token(b"UpGrade", b"upgrade"));
        assert!(!list_has_token(b"upgraded", b"upgrade"));
        assert!(!list_has_token(b"", b"upgrade"));
    }

    #[test]
    fn eq_lowercase_matches_eq_ignore_ascii_case() {
        let literal = b"sec-websocket-key9_";
        for at in 0..literal.len() {
            for b in 0..=255u8 {
                let mut s = *literal;
                s[at] = b;
                assert_eq!(
                    eq_lowercase(&s, literal),
                    s.eq_ignore_ascii_case(literal),
                    "{s:?}"
                );
            }
        }
        assert!(!eq_lowercase(b"sec-websocket-ke", literal));
    }
}
