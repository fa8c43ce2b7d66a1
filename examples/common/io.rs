//! The two I/O moves of the sans-IO loop on tokio, shared by both roles.

use std::io;
use std::time::Duration;

use rfc6455::Connection;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Room to make in the receive buffer before each read, so that a read is never tiny.
const READ_RESERVE: usize = 64 * 1024;

/// Reads once from `stream` straight into the connection's receive buffer (no copy).
/// At end of stream, tells the connection (`receive_eof`) and returns `Ok(0)`.
///
/// # Errors
/// The read's error.
pub async fn read_some<S>(stream: &mut S, ws: &mut Connection) -> io::Result<usize>
where
    S: AsyncRead + Unpin,
{
    let buf = ws.receive_buffer();
    if buf.capacity() - buf.len() < READ_RESERVE / 4 {
        buf.reserve(READ_RESERVE);
    }
    let n = stream.read_buf(buf).await?;
    if n == 0 {
        ws.receive_eof();
    }
    Ok(n)
}

/// Writes out everything the connection has queued. `scratch` is a buffer kept between
/// calls so that its allocation is reused.
///
/// # Errors
/// The write's error.
pub async fn write_out<S>(
    stream: &mut S,
    ws: &mut Connection,
    scratch: &mut Vec<u8>,
) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    scratch.clear();
    ws.take_outgoing_into(scratch);
    if !scratch.is_empty() {
        stream.write_all(scratch).await?;
    }
    Ok(())
}

/// Closes our side of the TCP connection (FIN), then reads and discards what the peer
/// still sends until it closes too, for at most `linger`.
///
/// Closing a socket with unread input makes the kernel send a reset, which can destroy
/// the close frame just written before the peer reads it; draining first avoids that.
pub async fn close_gracefully<S>(stream: &mut S, linger: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 4096];
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(linger, drain).await;
}

/// Sleeps until `deadline`, or for ever without one: a timer branch for `select!` that
/// is not always armed.
pub async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
