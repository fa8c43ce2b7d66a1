//! A broadcast room: every message goes to everyone else in the room, encoded once.
//! `cargo run --example broadcast_room [ADDR]`
use rfc6455::{PreparedMessage, tokio::Error, tokio::Message, tokio::accept};
use tokio::sync::broadcast;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on ws://{}", listener.local_addr()?);
    let (room, _) = broadcast::channel::<(u64, PreparedMessage)>(1024);
    for id in 0.. {
        let (stream, _) = listener.accept().await?;
        let (room, mut inbox) = (room.clone(), room.subscribe());
        tokio::spawn(async move {
            let mut ws = accept(stream).await?;
            loop {
                tokio::select! {
                    message = ws.recv() => {
                        let prepared = match message? {
                            Some(Message::Text(text)) => PreparedMessage::text(text),
                            Some(Message::Binary(data)) => PreparedMessage::binary(data),
                            Some(_) => continue,
                            None => return Ok::<_, Error>(()),
                        };
                        let _ = room.send((id, prepared));
                    }
                    Ok((from, message)) = inbox.recv() => if from != id {
                        ws.send_prepared(&message).await?;
                    },
                }
            }
        });
    }
    Ok(())
}
