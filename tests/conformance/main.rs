//! Conformance suite for the connection layer, organised by the Autobahn|Testsuite
//! categories (1 framing, 2 ping/pong, 3 reserved bits, 4 opcodes, 5 fragmentation,
//! 6 UTF-8, 7 close, 9 limits and sizes, 10 misc).
//!
//! Each case encodes what Autobahn expects of the echo endpoint it tests: the frames the
//! fuzzing peer sends (masked to our server, unmasked to our client), the events, the
//! error, and the exact bytes the endpoint sends back, including the close code. Every
//! case runs for both roles where it makes sense and under several chunkings of the same
//! input (whole, byte by byte, random splits), which must all give the same result.

mod harness;

mod c01_framing;
mod c02_ping_pong;
mod c03_reserved_bits;
mod c04_opcodes;
mod c05_fragmentation;
mod c06_utf8;
mod c07_close;
mod c09_limits;
mod c10_misc;
mod client;
