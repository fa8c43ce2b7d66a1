//! Subprotocol lists (§4.3 `1#token`) and extension lists (§9.1).
//!
//! ```text
//! Sec-WebSocket-Protocol-Client = 1#token
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ; When using the quoted-string syntax variant, the value
//!     ; after quoted-string unescaping MUST conform to the 'token' ABNF.
//! ```
//!
//! With the "implied *LWS rule" of RFC 2616, whitespace may surround every separator.
//! Because an unescaped quoted value must be a token, a valid quoted string never holds
//! `,`, `;`, `=` or whitespace, so a list splits correctly on those bytes alone, and any
//! input that would split differently is invalid anyway.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use super::head::{TOKEN, Value, is_token};
use crate::HandshakeError;

/// The values of every header line with one name (e.g. all `Sec-WebSocket-Protocol`
/// lines), in order: bytes as received (`T = &[u8]`), or text once a list grammar has
/// been checked (`T = &str`). Stores the first inline: most requests have at most one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueList<T> {
    first: Option<T>,
    more: Vec<T>,
}

impl<T> Default for ValueList<T> {
    fn default() -> Self {
        ValueList {
            first: None,
            more: Vec::new(),
        }
    }
}

impl<T: Copy> ValueList<T> {
    pub(crate) fn push(&mut self, value: T) {
        if self.first.is_none() {
            self.first = Some(value);
        } else {
            self.more.push(value);
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.first.into_iter().chain(self.more.iter().copied())
    }
}

impl<T> ValueList<T> {
    fn into_values(self) -> impl Iterator<Item = T> {
        self.first.into_iter().chain(self.more)
    }
}

impl<'a> ValueList<Value<'a>> {
    /// The values as text, if every one passes `is_valid` (a list grammar whose
    /// sentences are ASCII); `error` otherwise.
    pub(crate) fn checked(
        &self,
        is_valid: fn(&[u8]) -> bool,
        error: &HandshakeError,
    ) -> Result<ValueList<&'a str>, HandshakeError> {
        let text = |value: Value<'a>| {
            if is_valid(value.bytes) {
                value.text().ok_or_else(|| error.clone())
            } else {
                Err(error.clone())
            }
        };
        Ok(ValueList {
            first: self.first.map(text).transpose()?,
            more: self
                .more
                .iter()
                .map(|&v| text(v))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl<'a> ValueList<&'a str> {
    /// The non-empty elements of all the comma-separated lists, trimmed.
    pub(crate) fn items(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.iter().flat_map(list_items)
    }
}

/// The non-empty elements of a comma-separated list, trimmed (RFC 9110 §5.6.1: a
/// recipient "MUST accept empty list elements").
pub(crate) fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(trim_ows_str)
        .filter(|item| !item.is_empty())
}

/// Removes optional whitespace (SP, HTAB) from both ends (RFC 9110 §5.6.3 `OWS`).
fn trim_ows_str(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Whether `value` is `1#token` (§4.3 `Sec-WebSocket-Protocol-Client`).
pub(crate) fn is_token_list(value: &[u8]) -> bool {
    is_list_of(value, token_end)
}

/// Whether `value` is `1#element`, where `element_end` parses one element from a given
/// index and returns the index after it: one pass, no allocation. RFC 9110 §5.6.1: OWS
/// around the commas, empty elements allowed, at least one element.
#[inline]
fn is_list_of(value: &[u8], element_end: impl Fn(&[u8], usize) -> Option<usize>) -> bool {
    let mut any = false;
    let mut i = 0;
    loop {
        i = ows_end(value, i);
        match value.get(i) {
            None => return any,
            Some(b',') => i += 1,
            Some(_) => {
                let Some(end) = element_end(value, i) else {
                    return false;
                };
                any = true;
                i = ows_end(value, end);
                match value.get(i) {
                    None => return true,
                    Some(b',') => i += 1,
                    Some(_) => return false,
                }
            }
        }
    }
}

/// The index after the token starting at `i`, if there is one.
#[inline]
fn token_end(s: &[u8], mut i: usize) -> Option<usize> {
    let start = i;
    // Eight bytes at a time while all are tchars (branch-free), then byte by byte.
    while let Some(chunk) = s.get(i..i + 8) {
        if !chunk.iter().fold(true, |ok, &b| ok & TOKEN[b as usize]) {
            break;
        }
        i += 8;
    }
    while s.get(i).is_some_and(|&b| TOKEN[b as usize]) {
        i += 1;
    }
    (i > start).then_some(i)
}

/// The index after the optional whitespace starting at `i`.
#[inline]
fn ows_end(s: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t') = s.get(i) {
        i += 1;
    }
    i
}

/// The tokens of checked token lists.
pub(crate) fn tokens<'a: 's, 's>(
    values: &'s ValueList<&'a str>,
) -> impl Iterator<Item = &'a str> + 's {
    values.items()
}

/// The tokens of checked token lists, owning the lists.
pub(crate) fn owned_tokens(values: ValueList<&str>) -> impl Iterator<Item = &str> {
    values.into_values().flat_map(list_items)
}

/// The extensions of checked extension lists, owning the lists.
pub(crate) fn owned_extensions(values: ValueList<&str>) -> impl Iterator<Item = Extension<'_>> {
    owned_tokens(values).filter_map(parse_extension)
}

/// Whether `value` is a §9.1 `extension-list`.
pub(crate) fn is_extension_list(value: &[u8]) -> bool {
    is_list_of(value, extension_end)
}

/// The extensions of checked extension lists.
pub(crate) fn extensions<'a: 's, 's>(
    values: &'s ValueList<&'a str>,
) -> impl Iterator<Item = Extension<'a>> + 's {
    values.items().filter_map(parse_extension)
}

/// Whether `item` (trimmed, non-empty) is one §9.1 `extension`.
fn is_extension(item: &[u8]) -> bool {
    extension_end(item, 0) == Some(item.len())
}

/// The index after the §9.1 `extension` starting at `i` and the whitespace after it, if
/// there is one, in one pass over the bytes with no allocation:
///
/// ```text
/// token *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] ) OWS
/// ```
fn extension_end(s: &[u8], i: usize) -> Option<usize> {
    /// The index after a quoted string starting at `i` (on its DQUOTE) that unescapes to
    /// a token (§9.1); RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR /
    /// obs-text ), of which only a tchar can be part of a token.
    fn quoted_token_end(s: &[u8], mut i: usize) -> Option<usize> {
        i += 1; // the opening DQUOTE
        let start = i;
        loop {
            match s.get(i) {
                Some(b'"') => return (i > start).then_some(i + 1),
                Some(b'\\') if s.get(i + 1).is_some_and(|&b| TOKEN[b as usize]) => i += 2,
                Some(&b) if TOKEN[b as usize] => i += 1,
                _ => return None,
            }
        }
    }

    let mut i = ows_end(s, token_end(s, i)?);
    while s.get(i) == Some(&b';') {
        i = ows_end(s, token_end(s, ows_end(s, i + 1))?);
        if s.get(i) == Some(&b'=') {
            i = ows_end(s, i + 1);
            i = if s.get(i) == Some(&b'"') {
                quoted_token_end(s, i)?
            } else {
                token_end(s, i)?
            };
            i = ows_end(s, i);
        }
    }
    Some(i)
}

/// Parses one `extension` (trimmed, non-empty) of an `extension-list` (§9.1).
pub(crate) fn parse_extension(item: &str) -> Option<Extension<'_>> {
    if !is_extension(item.as_bytes()) {
        return None;
    }
    let name = item.split(';').next()?.trim_end_matches([' ', '\t']);
    Some(Extension { name, text: item })
}

/// Parses one `extension-param` (between `;`s, untrimmed).
fn parse_param(param: &str) -> Option<ExtensionParam<'_>> {
    let (name, value) = match param.split_once('=') {
        Some((name, value)) => (name, Some(trim_ows_str(value))),
        None => (param, None),
    };
    let name = trim_ows_str(name);
    if !is_token(name.as_bytes()) {
        return None;
    }
    let value = match value {
        None => None,
        Some(v) if is_token(v.as_bytes()) => Some(Cow::Borrowed(v)),
        Some(v) => Some(unquote_token(v)?),
    };
    Some(ExtensionParam { name, value })
}

/// Unescapes a quoted string whose content must be a token after unescaping (§9.1).
fn unquote_token(v: &str) -> Option<Cow<'_, str>> {
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    if is_token(inner.as_bytes()) {
        return Some(Cow::Borrowed(inner));
    }
    // RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ); only a tchar
    // may be escaped here, since the result must be a token.
    let mut out = String::with_capacity(inner.len());
    let mut bytes = inner.bytes();
    while let Some(b) = bytes.next() {
        let c = if b == b'\\' { bytes.next()? } else { b };
        if !TOKEN[c as usize] {
            return None;
        }
        out.push(char::from(c));
    }
    (!out.is_empty()).then_some(Cow::Owned(out))
}

/// One extension of a `Sec-WebSocket-Extensions` list (§9.1): a name and parameters,
/// e.g. `permessage-deflate; client_max_window_bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    name: &'a str,
    /// The whole element, parameters included, trimmed.
    text: &'a str,
}

impl<'a> Extension<'a> {
    /// The extension token, e.g. `permessage-deflate`.
    #[must_use]
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// The element as sent, e.g. `permessage-deflate; client_max_window_bits`: what a
    /// server passes to [`Accept::extension`](super::Accept::extension) to accept it
    /// unchanged.
    #[must_use]
    pub const fn as_str(&self) -> &'a str {
        self.text
    }

    /// The parameters, in order.
    pub fn params(&self) -> impl Iterator<Item = ExtensionParam<'a>> + 'a {
        self.text.split(';').skip(1).filter_map(parse_param)
    }

    /// The first parameter called `name` (ASCII case-insensitive): `None` if absent,
    /// `Some(None)` if present without a value.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<Option<Cow<'a, str>>> {
        self.params()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value)
    }
}

impl core::fmt::Display for Extension<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.text)
    }
}

/// One parameter of an [`Extension`]: `name` or `name=value`, where a quoted-string value
/// is returned unescaped (§9.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionParam<'a> {
    /// The parameter name, e.g. `client_max_window_bits`.
    pub name: &'a str,
    /// The value, if any, unescaped: `Some("10")` for both `x=10` and `x="10"`.
    pub value: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Vec<(String, Option<String>)> {
        parse_extension(s)
            .unwrap()
            .params()
            .map(|p| (p.name.into(), p.value.map(Cow::into_owned)))
            .collect()
    }

    #[test]
    fn extension_grammar_section_9_1() {
        assert!(is_extension_list(
            b"permessage-deflate; client_max_window_bits"
        ));
        assert!(is_extension_list(
            b"mux; max-channels=4; flow-control, deflate-stream"
        ));
        assert!(is_extension_list(b"foo;a=\"1\" ; b = 2,bar"));
        assert!(is_extension_list(b"foo; a=\"x\\yz\""));
        assert!(!is_extension_list(b""));
        assert!(!is_extension_list(b" , "));
        assert!(!is_extension_list(b"foo;"));
        assert!(!is_extension_list(b"foo; =1"));
        assert!(!is_extension_list(b"foo; a="));
        assert!(!is_extension_list(b"foo; a=\"\""));
        assert!(!is_extension_list(b"foo; a=\"1 2\""));
        assert!(!is_extension_list(b"foo; a=\"1,2\""));
        assert!(!is_extension_list(b"foo; a=\"unterminated"));
        assert!(!is_extension_list(b"foo bar"));
        assert!(!is_extension_list(b"foo; a=1=2"));
        assert_eq!(
            params("foo; a ; b=2; c=\"3\"; d=\"x\\yz\""),
            [
                ("a".into(), None),
                ("b".into(), Some("2".into())),
                ("c".into(), Some("3".into())),
                ("d".into(), Some("xyz".into())),
            ]
        );
    }

    #[test]
    fn token_lists() {
        assert!(is_token_list(b"chat, superchat"));
        assert!(is_token_list(b"chat,,  v2.json"));
        assert!(!is_token_list(b""));
        assert!(!is_token_list(b"a b"));
        assert!(!is_token_list(b"chat, \"x\""));
    }
}
