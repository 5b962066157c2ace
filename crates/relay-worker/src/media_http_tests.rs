//! Downloads against a small local HTTP server: redirects are not followed, other hosts
//! are refused, and a body over the cap is abandoned (declared or not).

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves each request by its path; counts the requests.
async fn server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let head = |status: &str, extra: &str| {
                    format!("HTTP/1.1 {status}\r\nconnection: close\r\n{extra}\r\n")
                };
                let _ = match path.as_str() {
                    "/small" => conn
                        .write_all(head("200 OK", "content-length: 5\r\n").as_bytes())
                        .await
                        .and(conn.write_all(b"hello").await),
                    "/redirect" => {
                        conn.write_all(
                            head(
                                "302 Found",
                                "location: http://10.0.0.1/secret\r\ncontent-length: 0\r\n",
                            )
                            .as_bytes(),
                        )
                        .await
                    }
                    "/declared-big" => conn
                        .write_all(head("200 OK", "content-length: 100000\r\n").as_bytes())
                        .await
                        .and(conn.write_all(&[7u8; 100]).await),
                    "/undeclared-big" => {
                        // No length: the body runs until the connection closes.
                        let _ = conn.write_all(head("200 OK", "").as_bytes()).await;
                        let mut sent = Ok(());
                        for _ in 0..100 {
                            sent = conn.write_all(&[7u8; 1000]).await;
                            if sent.is_err() {
                                break;
                            }
                        }
                        sent
                    }
                    _ => {
                        conn.write_all(head("404 Not Found", "content-length: 0\r\n").as_bytes())
                            .await
                    }
                };
                let _ = conn.shutdown().await;
            });
        }
    });
    (base, count)
}

#[tokio::test]
async fn only_the_platforms_hosts_are_fetched_from_and_redirects_are_not_followed() {
    let (base, count) = server().await;
    let http = client();
    let hosts = AllowedHosts::new(&base);
    assert_eq!(
        download(&http, &hosts, &format!("{base}/small"), 10)
            .await
            .expect("small"),
        Downloaded::Bytes(b"hello".to_vec())
    );
    assert!(matches!(
        download(&http, &hosts, &format!("{base}/redirect"), 10).await.expect("redirect"),
        Downloaded::Unavailable(why) if why.contains("redirect")
    ));
    assert!(matches!(
        download(&http, &hosts, &format!("{base}/nothing"), 10)
            .await
            .expect("404"),
        Downloaded::Unavailable(_)
    ));
    assert_eq!(
        count.load(Ordering::SeqCst),
        3,
        "one request each, none to the redirect's target"
    );

    // The same server under another name, another port, or with credentials: refused
    // without a request.
    let other_name = base.replace("127.0.0.1", "localhost");
    let other_port = format!(
        "{}1/small",
        base.trim_end_matches(|c: char| c.is_ascii_digit())
    );
    let with_user = base.replace("http://", "http://user:pw@");
    for url in [
        format!("{other_name}/small"),
        other_port,
        format!("{with_user}/small"),
        "https://example.com/a.png".into(),
        "file:///etc/passwd".into(),
        "not a url".into(),
    ] {
        assert!(
            matches!(
                download(&http, &hosts, &url, 10).await.expect("refused"),
                Downloaded::Unavailable(_)
            ),
            "{url}"
        );
    }
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_body_over_the_cap_is_abandoned() {
    let (base, _) = server().await;
    let (http, hosts) = (client(), AllowedHosts::new(&base));
    assert_eq!(
        download(&http, &hosts, &format!("{base}/declared-big"), 1000)
            .await
            .expect("declared"),
        Downloaded::TooLarge { size: 100_000 }
    );
    match download(&http, &hosts, &format!("{base}/undeclared-big"), 5000)
        .await
        .expect("undeclared")
    {
        Downloaded::TooLarge { size } => {
            assert!(size > 5000 && size < 100_000, "stopped early: {size}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn discords_cdn_is_allowed_over_https_only() {
    let hosts = AllowedHosts::new("https://discord.com");
    let allows = |u: &str| hosts.allows(&Url::parse(u).expect("url"));
    assert!(allows(
        "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1"
    ));
    assert!(allows("https://media.discordapp.net/attachments/1/2/a.png"));
    assert!(!allows("http://cdn.discordapp.com/attachments/1/2/a.png"));
    assert!(!allows("https://cdn.discordapp.com.evil.example/a.png"));
    assert!(!allows("https://cdn.discordapp.com:8443/a.png"));
}
