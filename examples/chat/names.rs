//! Nicknames: what a name may contain, how it is shown, and when two names are the same.
//!
//! A name is trimmed, its runs of spaces become one ASCII space, and it is put in Unicode
//! Normalization Form C (so `é` typed as one code point or as `e` + U+0301 is the same
//! name, and counts as one character). It is refused if it holds a character that
//! cannot be seen or that changes how text around it is laid out: control characters,
//! format characters (zero-width space, joiners outside emoji, the bidirectional
//! embeddings, overrides and isolates such as RIGHT-TO-LEFT OVERRIDE), other default
//! ignorable code points (variation selectors outside emoji, the Hangul fillers),
//! private-use and unassigned-looking code points (noncharacters), line and paragraph
//! separators, and blank-looking symbols (U+2800). A name needs at least one letter,
//! digit or symbol, may not start with a combining mark, and allows at most two
//! combining marks in a row. The limit, [`MAX_NICK_CHARS`], counts characters after
//! normalisation, not bytes.
//!
//! Two names are the same when their [`skeleton`]s are equal: compatibility forms
//! folded (full-width `Ｂｏｂ`, ligatures, mathematical letters), accents removed, case
//! folded, and the common look-alikes from Cyrillic and Greek, `i`/`I`/`1`/`|` for `l`,
//! `0` for `o`, `rn` for `m` and `vv` for `w` mapped to one letter. This is a small
//! cousin of the confusable skeleton of Unicode Technical Standard #39, enough that a
//! name cannot pass for another one already online.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The most characters (Unicode scalar values, after NFC) in a nickname.
pub const MAX_NICK_CHARS: usize = 32;

/// A nickname that passed [`check`]: `display` is what everyone sees, `key` its
/// [`skeleton`], the identity used for duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nick {
    /// NFC, trimmed, spaces collapsed.
    pub display: String,
    /// The look-alike-insensitive key.
    pub key: String,
}

/// Checks and normalises a nickname; the error is a sentence for the user.
pub fn check(raw: &str) -> Result<Nick, String> {
    let mut display = String::with_capacity(raw.len());
    let mut space = false;
    for c in raw.nfc() {
        if is_space(c) {
            space = true;
            continue;
        }
        if space && !display.is_empty() {
            display.push(' ');
        }
        space = false;
        display.push(c);
    }
    if display.is_empty() {
        return Err("the nickname is empty".into());
    }
    let chars = display.chars().count();
    if chars > MAX_NICK_CHARS {
        return Err(format!(
            "the nickname is {chars} characters long; the limit is {MAX_NICK_CHARS}"
        ));
    }
    let all: Vec<char> = display.chars().collect();
    let mut marks = 0;
    for (i, &c) in all.iter().enumerate() {
        if let Some(what) = forbidden(c) {
            return Err(format!(
                "the nickname contains {what} (U+{:04X}); use visible characters only",
                u32::from(c)
            ));
        }
        let emoji_before = i > 0 && is_symbol(all[i - 1]);
        let emoji_after = all.get(i + 1).is_some_and(|&n| is_symbol(n));
        match c {
            // Variation selectors only right after a symbol (an emoji's presentation).
            '\u{FE0E}' | '\u{FE0F}' if emoji_before => {}
            // The zero-width joiner only inside an emoji sequence.
            '\u{200D}' if emoji_before && emoji_after => {}
            c if is_invisible(c) => {
                return Err(format!(
                    "the nickname contains an invisible character (U+{:04X}); use visible \
                     characters only",
                    u32::from(c)
                ));
            }
            _ => {}
        }
        if is_combining_mark(c) {
            marks += 1;
            if i == 0 {
                return Err("the nickname starts with a combining mark".into());
            }
            if marks > 2 {
                return Err("the nickname has more than two combining marks in a row".into());
            }
        } else {
            marks = 0;
        }
    }
    if !all.iter().any(|&c| c.is_alphanumeric() || is_symbol(c)) {
        return Err("the nickname needs at least one letter, digit or symbol".into());
    }
    let key = skeleton(&display);
    Ok(Nick { display, key })
}

/// The identity of a name for duplicates: NFKD, accents dropped, look-alikes mapped,
/// lowercase, spaces removed.
pub fn skeleton(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.nfkd() {
        if is_combining_mark(c) || is_invisible(c) || is_space(c) {
            continue;
        }
        for lower in c.to_lowercase() {
            out.push(fold(lower));
        }
    }
    out.replace("rn", "m").replace("vv", "w")
}

/// One lowercase character to the Latin letter it looks like (Cyrillic and Greek
/// homoglyphs, after lowercasing, so that both cases are covered).
fn fold(c: char) -> char {
    match c {
        // The letters that look like a lowercase l in most fonts (capital I included,
        // lowered to i first), and the digit zero.
        'i' | 'l' | '1' | '|' | 'ǀ' | 'ı' | 'ӏ' | 'і' | 'ї' | 'ι' | 'ℓ' => 'l',
        '0' => 'o',
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' => 'e',
        'һ' | 'н' => 'h',
        'ј' => 'j',
        'к' => 'k',
        'м' => 'm',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' => 't',
        'у' => 'y',
        'ԝ' => 'w',
        'х' => 'x',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'κ' => 'k',
        'μ' => 'u',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ζ' => 'z',
        c => c,
    }
}

/// Spaces of every width, folded into one ASCII space between words.
fn is_space(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{2028}' | '\u{2029}') && !c.is_control()
}

/// A symbol an emoji sequence may be built from (Extended_Pictographic, roughly).
fn is_symbol(c: char) -> bool {
    matches!(u32::from(c),
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21FF
        | 0x2300..=0x23FF | 0x2460..=0x27BF | 0x2900..=0x297F | 0x2B00..=0x2BFF
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

/// Characters refused outright, with what they are.
fn forbidden(c: char) -> Option<&'static str> {
    let n = u32::from(c);
    Some(match n {
        _ if c.is_control() => "a control character",
        0x2028 | 0x2029 => "a line or paragraph separator",
        0x202A..=0x202E | 0x2066..=0x2069 | 0x200E | 0x200F | 0x061C => "a text-direction control",
        0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD => "a private-use character",
        0xFDD0..=0xFDEF => "a noncharacter",
        _ if n & 0xFFFE == 0xFFFE => "a noncharacter",
        0xFFF9..=0xFFFC => "an interlinear annotation or object replacement character",
        0xFFFD => "a replacement character (U+FFFD: the name was mis-encoded)",
        _ => return None,
    })
}

/// Format characters (general category Cf), other default-ignorable code points and
/// blank-looking letters: nothing, or nothing visible, is drawn for them.
fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x034F | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890 | 0x0891
        | 0x08E2 | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x206F | 0x2800 | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF
        | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D159 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}
