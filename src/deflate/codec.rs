//! The transform (RFC 7692 §6, §7.2): per-message compression through the extension
//! hook, on `zlib-rs`.

use bytes::BytesMut;
use zlib_rs::{Deflate, DeflateConfig as ZConfig, DeflateFlush, Inflate, InflateFlush, Status};

use crate::extension::{Extension, ExtensionError, Rsv};
use crate::{MessageKind, Role};

use super::DeflateConfig;
use super::negotiate::{DeflateParams, MAX_WINDOW_BITS};

/// The empty uncompressed block a sync flush ends with (RFC 7692 §7.2.1: "Remove 4
/// octets (that are 0x00 0x00 0xff 0xff) from the tail end"; §7.2.2: "Append 4 octets
/// of 0x00 0x00 0xff 0xff to the tail end of the payload of the message").
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest raw-deflate window `zlib-rs` compresses with: like zlib since 1.2.9, it
/// refuses 8 for raw deflate (zlib used to turn 8 into 9 silently, which breaks the
/// rule). With a window of 8 agreed, messages are sent uncompressed.
const MIN_COMPRESS_WINDOW_BITS: u8 = 9;

/// permessage-deflate (RFC 7692) for one connection, in one role: the outcome of
/// [`negotiate`](super::negotiate) (server) or
/// [`DeflateConfig::client_accept`] (client), to install with
/// [`Connection::with_extension`](crate::Connection::with_extension).
///
/// Sent data messages are compressed (RSV1 on their first frame, RFC 7692 §6) unless
/// shorter than [`DeflateConfig::min_compress_size`]; received messages with RSV1 are
/// decompressed, and the message size limit applies to the decompressed size, enforced
/// while inflating. Control frames are never compressed (RFC 7692 §6.1), and RSV1 on a
/// control frame or a continuation frame fails the connection with 1002 (§6: only "the
/// first frame of a message" has it).
///
/// # Memory
///
/// The compressor and the decompressor are allocated on first use and then kept for the
/// connection's life, with or without context takeover (without, they are reset after
/// every message, which costs no allocation):
///
/// - the decompressor: 46 KiB (a 32 KiB window, whatever window was agreed, and the
///   inflate state);
/// - the compressor: 2 × window (data) + 2 × window (match chains) + 128 KiB (hash
///   heads) + 7 × 2^(memory level + 6) bytes (pending symbols and output) + state:
///   371 KiB with the defaults (window 15, memory level 8), 142 KiB with window 10 and
///   memory level 4.
///
/// These are counted by `tests/deflate_memory.rs`. The receive buffer that a compressed
/// message is inflated into is the connection's, bounded by the message size limit.
///
/// An endpoint that only receives compressed messages never allocates the compressor,
/// and one whose own window was agreed as 8 never does either.
pub struct PerMessageDeflate {
    role: Role,
    params: DeflateParams,
    level: u8,
    memory_level: u8,
    min_compress_size: usize,
    /// The window our compressor uses; `None`: we send uncompressed.
    send_window_bits: Option<u8>,
    deflate: Option<Deflate>,
    inflate: Option<Inflate>,
}

impl core::fmt::Debug for PerMessageDeflate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PerMessageDeflate")
            .field("role", &self.role)
            .field("params", &self.params)
            .field("level", &self.level)
            .field("memory_level", &self.memory_level)
            .field("min_compress_size", &self.min_compress_size)
            .field("send_window_bits", &self.send_window_bits)
            .finish_non_exhaustive()
    }
}

impl PerMessageDeflate {
    /// The extension for an endpoint in `role` with what was agreed: for a caller that
    /// negotiates by other means. The compressor uses the smaller of the agreed window
    /// for `role` and `config`'s, and `config`'s level, memory level and threshold.
    ///
    /// # Panics
    /// If a window in `params` is outside 8..=15.
    #[must_use]
    pub fn new(role: Role, params: DeflateParams, config: &DeflateConfig) -> Self {
        assert!(
            (8..=MAX_WINDOW_BITS).contains(&params.server_max_window_bits)
                && (8..=MAX_WINDOW_BITS).contains(&params.client_max_window_bits),
            "window bits must be within 8..=15"
        );
        let configured = match role {
            Role::Server => config.server_max_window_bits,
            Role::Client => config.client_max_window_bits,
        };
        let ours = params.max_window_bits(role).min(configured.max(8));
        PerMessageDeflate {
            role,
            params,
            // The fields are public: out-of-range values are brought within range.
            level: config.level.min(9),
            memory_level: config.memory_level.clamp(1, 9),
            min_compress_size: config.min_compress_size,
            send_window_bits: (ours >= MIN_COMPRESS_WINDOW_BITS).then_some(ours),
            deflate: None,
            inflate: None,
        }
    }

    /// What was agreed.
    #[must_use]
    pub const fn params(&self) -> &DeflateParams {
        &self.params
    }

    /// The role this extension runs in.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The window bits this endpoint compresses with, or `None` when it sends every
    /// message uncompressed because the agreed window is 8 (256 bytes), smaller than the
    /// compressor can make (RFC 7692 §7.1.2: an endpoint may always use a smaller window,
    /// and sending uncompressed uses none).
    #[must_use]
    pub const fn send_window_bits(&self) -> Option<u8> {
        self.send_window_bits
    }

    /// RFC 7692 §7.2.1, for one part of a message: compresses `input` with a sync flush
    /// (so that each frame carries all the data given so far); at the message's end,
    /// removes the 4-octet tail, and resets the compressor without context takeover.
    fn compress(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        let Some(bits) = self.send_window_bits else {
            // `begin_outgoing` marks no message for compression then.
            return Err(ExtensionError::Invalid("no compression with this window"));
        };
        let (level, memory_level) = (self.level, self.memory_level);
        let deflate = self.deflate.get_or_insert_with(|| {
            Deflate::new_with_config(ZConfig {
                level: i32::from(level),
                // Negative: raw DEFLATE, no zlib header (RFC 7692 §7.2.1).
                window_bits: -i32::from(bits),
                mem_level: i32::from(memory_level),
                ..ZConfig::default()
            })
        });
        let start = output.len();
        let mut rest = input;
        loop {
            // Room for the data and then some: the loop continues while the compressor
            // fills it.
            let room = rest.len() + rest.len() / 16 + 64;
            let at = output.len();
            output.resize(at + room, 0);
            let (read, written, status) = {
                let (before_in, before_out) = (deflate.total_in(), deflate.total_out());
                let status = deflate.compress(rest, &mut output[at..], DeflateFlush::SyncFlush);
                (
                    count(deflate.total_in() - before_in),
                    count(deflate.total_out() - before_out),
                    status,
                )
            };
            output.truncate(at + written);
            status.map_err(|_| ExtensionError::Invalid("the compressor failed"))?;
            rest = &rest[read..];
            // zlib's rule: the flush is complete once all input is taken and the output
            // was not filled.
            if rest.is_empty() && written < room {
                break;
            }
        }
        if end {
            // RFC 7692 §7.2.1: the sync flush ended the data with an empty stored block;
            // its 4 last octets are removed. What remains of it (at least the 3 header
            // bits, in one octet) stays, so a message is never empty (§7.2.3.6).
            if output[start..].ends_with(&TAIL) {
                output.truncate(output.len() - TAIL.len());
            } else if output.len() == start {
                // RFC 7692 §7.2.3.6: nothing new since the last part's flush, so the
                // flush made nothing; the message still ends with an empty stored block,
                // of which the header octet (BFINAL 0, BTYPE 00, padding) remains.
                output.extend_from_slice(&[0x00]);
            }
            if self.params.no_context_takeover(self.role) {
                // RFC 7692 §7.1.1: "the compressor ... MUST start compressing each new
                // message with an empty LZ77 sliding window".
                deflate.reset();
            }
        }
        Ok(())
    }
}

/// A count of bytes that fits in memory, from `zlib-rs`'s 64-bit totals.
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Makes room for `room` more bytes in `output`, which may hold at most `max + 1`:
/// doubling, but jumping straight to `max + 1` once half of it would be passed, so that
/// growing never holds more than 1.5 × (`max` + 1) bytes at once (the old buffer and the
/// new). `BytesMut::reserve` could double past the limit.
fn grow(output: &mut BytesMut, room: usize, max: usize) {
    let needed = output.len() + room;
    if output.capacity() >= needed {
        return;
    }
    let limit = max.saturating_add(1);
    let mut capacity = needed.max(output.capacity().saturating_mul(2));
    if capacity.saturating_mul(2) > limit {
        capacity = limit.max(needed);
    }
    let mut bigger = BytesMut::with_capacity(capacity);
    bigger.extend_from_slice(output);
    *output = bigger;
}

/// Inflates `input` onto `output`, stopping as soon as `output` would exceed `max`.
///
/// `output` grows in steps that double while the inflater fills them (from four times the
/// input, at least 256 bytes), never to more than `max + 1` bytes: the one byte past the
/// limit says the limit is crossed. A bomb therefore costs at most `max` bytes of output
/// (1.5 × `max` of memory while the buffer grows, see [`grow`]), and never more work
/// than producing them.
fn inflate_into(
    inflate: &mut Inflate,
    mut input: &[u8],
    output: &mut BytesMut,
    max: usize,
) -> Result<(), ExtensionError> {
    let mut step = input.len().saturating_mul(4).clamp(256, 1 << 20);
    loop {
        let at = output.len();
        if at > max {
            return Err(ExtensionError::TooLarge);
        }
        let room = step.min((max - at).saturating_add(1));
        grow(output, room, max);
        output.resize(at + room, 0);
        let (before_in, before_out) = (inflate.total_in(), inflate.total_out());
        let status = inflate.decompress(input, &mut output[at..], InflateFlush::NoFlush);
        let read = count(inflate.total_in() - before_in);
        let written = count(inflate.total_out() - before_out);
        output.truncate(at + written);
        input = &input[read..];
        if output.len() > max {
            output.truncate(max);
            return Err(ExtensionError::TooLarge);
        }
        match status {
            Err(_) => return Err(ExtensionError::Invalid("invalid compressed data")),
            Ok(Status::StreamEnd) => {
                // RFC 7692 §7.2.3.4: a block with BFINAL set ends the DEFLATE stream, and
                // what follows (at least the tail appended on receipt) begins a new one.
                // The new stream may refer back to the data decoded so far.
                inflate.reset(false);
                let recent = output.len().saturating_sub(1 << MAX_WINDOW_BITS);
                let _ = inflate.set_dictionary(&output[recent..]);
                if input.is_empty() {
                    return Ok(());
                }
            }
            Ok(_) => {
                if input.is_empty() && written < room {
                    // All input taken, and the room was not filled: nothing is pending.
                    return Ok(());
                }
                if read == 0 && written == 0 {
                    return Err(ExtensionError::Invalid("invalid compressed data"));
                }
                if written == room {
                    step = step.saturating_mul(2);
                }
            }
        }
    }
}

impl Extension for PerMessageDeflate {
    /// RSV1, "Per-Message Compressed" (RFC 7692 §6).
    fn reserved_bits(&self) -> Rsv {
        Rsv::RSV1
    }

    /// RFC 7692 §7.2.2, frame by frame: inflates each frame's payload as it comes; after
    /// the last, inflates the 4-octet tail the sender removed, and resets the
    /// decompressor when the peer does not take over context. The size limit is checked
    /// while inflating.
    fn decode(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut BytesMut,
        max: usize,
    ) -> Result<(), ExtensionError> {
        // Always a 32 KiB window: it decodes whatever smaller window the peer agreed to
        // use, and costs `zlib-rs` the same memory.
        let inflate = self
            .inflate
            .get_or_insert_with(|| Inflate::new(false, MAX_WINDOW_BITS));
        inflate_into(inflate, input, output, max)?;
        if end {
            inflate_into(inflate, &TAIL, output, max)?;
            if self.params.no_context_takeover(self.role.peer()) {
                inflate.reset(false);
            }
        }
        Ok(())
    }

    fn begin_outgoing(&mut self, _kind: MessageKind, len: Option<usize>) -> Rsv {
        let small = len.is_some_and(|len| len < self.min_compress_size);
        if self.send_window_bits.is_none() || small {
            Rsv::NONE
        } else {
            Rsv::RSV1
        }
    }

    fn encode(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        self.compress(input, end, output)
    }

    /// The configured limit plus 1/16 and 1 KiB: what a peer's compressor adds to data
    /// that does not compress. DEFLATE sends such data in stored blocks of 5 octets of
    /// header each (RFC 1951 §3.2.4), and a sync flush adds one more per frame (RFC 7692
    /// §7.2.1); zlib (browsers, Python `websockets`, Node `ws`) ends a block at least
    /// every 127 octets even at its smallest memory level, under 4%. Without this, a
    /// random 16 MiB message sent compressed in one frame, 16 MiB and a few KiB on the
    /// wire, would fail the default 16 MiB frame limit with 1009, though the message is
    /// within it. The decompressed size is still held to the message size limit.
    fn max_frame_size(&self, configured: u64) -> u64 {
        configured
            .saturating_add(configured / 16)
            .saturating_add(1024)
    }
}
