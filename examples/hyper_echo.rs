//! A WebSocket route inside a hyper 1 server: `/ws` echoes, every other path is plain
//! HTTP. `cargo run --example hyper_echo --features http,tokio [ADDR]`
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use rfc6455::tokio::{Options, WebSocket};
use rfc6455::{Config, Connection};

type Reply = Result<Response<Full<Bytes>>, rfc6455::UsageError>;

async fn handle(mut request: Request<Incoming>) -> Reply {
    if request.uri().path() != "/ws" {
        return Ok(Response::new(Full::from("hello from hyper\n")));
    }
    let response = match rfc6455::http::validate_request(&request) {
        Ok(upgrade) => rfc6455::http::response(&upgrade.accept())?,
        Err(error) => return Ok(rfc6455::http::rejection(&error).map(|()| Full::default())),
    };
    let upgrading = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let stream = TokioIo::new(upgrading.await?);
        let connection = Connection::server(Config::default());
        let mut ws = WebSocket::from_connection(stream, connection, &Options::default());
        while let Some(message) = ws.recv().await? {
            if message.is_data() {
                ws.send(message).await?;
            }
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });
    Ok(response.map(|()| Full::default()))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let service = service_fn(handle);
        tokio::spawn(async move {
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            connection.with_upgrades().await
        });
    }
}
