//! A client: connect, send three texts and 1 MiB of binary, close with 1000.
//! `cargo run --example send_client [URL]` (default `ws://127.0.0.1:9001/`)
use rfc6455::CloseCode;
use rfc6455::tokio::{Error, connect};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or("ws://127.0.0.1:9001/".into());
    let (mut ws, _response) = connect(&url).await?;
    for text in ["one", "two", "three"] {
        ws.send(text).await?;
    }
    ws.send(vec![0x55; 1 << 20]).await?;
    ws.close(CloseCode::NORMAL, "done").await
}
