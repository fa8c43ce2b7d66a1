//! One port, two routes: a page at `/` and an echo WebSocket at `/ws`.
//! `cargo run --example page_and_echo [ADDR]`, then open the printed address.
use rfc6455::tokio::{Error, Reject, Upgrade, route};

const PAGE: &str = r#"<!doctype html><title>echo</title><pre id=log></pre><script>
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onopen = () => ws.send("hello");
ws.onmessage = (event) => (log.textContent += `echo: ${event.data}\n`);
</script>"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let routed = route(stream, |request| match request.path() {
                "/" => Err(Reject::new(200)
                    .header("Content-Type", "text/html")
                    .body(PAGE)),
                "/ws" => Ok(Upgrade::new()),
                _ => Err(Reject::new(404)),
            });
            if let Some(mut ws) = routed.await? {
                while let Some(message) = ws.recv().await? {
                    if message.is_data() {
                        ws.send(message).await?;
                    }
                }
            }
            Ok::<_, Error>(())
        });
    }
}
