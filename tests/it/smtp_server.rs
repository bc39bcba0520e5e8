//! A real SMTP server on 127.0.0.1 for the alert tests, with scriptable faults.
//!
//! Speaks EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA (with dot-unstuffing), RSET, NOOP and QUIT.
//! Faults are queued and each is consumed by the first transaction that reaches its stage.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A message as the server stored it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message after dot-unstuffing, CRLF line ends, without the terminating dot line.
    pub data: Vec<u8>,
    /// `user:password` if the client authenticated.
    pub auth: Option<String>,
}

/// One scripted misbehaviour.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer MAIL FROM with this reply line (e.g. `451 4.3.2 try again later`).
    RejectMail(String),
    /// Answer the end of DATA with this reply line; the message is not stored.
    RejectData(String),
    /// Store the message, then close the connection without answering.
    DropAfterData,
    /// Store the message, signal `reached`, and answer 250 only once `release` is notified.
    HoldAfterData {
        reached: Arc<Notify>,
        release: Arc<Notify>,
    },
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    faults: VecDeque<Fault>,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        SmtpServer::start_on("127.0.0.1:0".parse().unwrap())
            .await
            .expect("bind loopback")
    }

    /// Binds a given address, so a test can bring "the same" server back after stopping it.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<SmtpServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        Ok(SmtpServer {
            addr,
            state,
            accept,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn push_fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Stops listening: new connections are refused, as when the mail server is down.
    pub fn stop(self) -> SocketAddr {
        self.accept.abort();
        self.addr
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn take_fault(state: &Mutex<State>, wanted: impl Fn(&Fault) -> bool) -> Option<Fault> {
    let mut state = state.lock().unwrap();
    if state.faults.front().is_some_and(wanted) {
        state.faults.pop_front()
    } else {
        None
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 localhost briefwatch test SMTP\r\n")
        .await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut auth: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let argument = command.get(verb.len()..).unwrap_or("").trim();
        let reply: String = match verb.as_str() {
            "EHLO" => "250-localhost\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SMTPUTF8".into(),
            "HELO" => "250 localhost".into(),
            "AUTH" => {
                let mut parts = argument.split_whitespace();
                match (parts.next(), parts.next().and_then(decode_base64)) {
                    (Some(mechanism), Some(decoded)) if mechanism.eq_ignore_ascii_case("PLAIN") => {
                        let fields: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                        if let [_, user, password] = fields.as_slice() {
                            auth = Some(format!(
                                "{}:{}",
                                String::from_utf8_lossy(user),
                                String::from_utf8_lossy(password)
                            ));
                            "235 2.7.0 authenticated".into()
                        } else {
                            "501 5.5.2 malformed PLAIN".into()
                        }
                    }
                    _ => "504 5.5.4 only AUTH PLAIN with an initial response".into(),
                }
            }
            "MAIL" => {
                if let Some(Fault::RejectMail(reply)) =
                    take_fault(&state, |f| matches!(f, Fault::RejectMail(_)))
                {
                    reply
                } else {
                    mail_from = Some(path_of(argument));
                    rcpt_to.clear();
                    "250 2.1.0 ok".into()
                }
            }
            "RCPT" => {
                if mail_from.is_none() {
                    "503 5.5.1 MAIL first".into()
                } else {
                    rcpt_to.push(path_of(argument));
                    "250 2.1.5 ok".into()
                }
            }
            "DATA" => {
                if mail_from.is_none() || rcpt_to.is_empty() {
                    "503 5.5.1 MAIL and RCPT first".into()
                } else {
                    write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    let data = read_data(&mut lines).await?;
                    let received = Received {
                        mail_from: mail_from.take().unwrap_or_default(),
                        rcpt_to: std::mem::take(&mut rcpt_to),
                        data,
                        auth: auth.clone(),
                    };
                    let fault = take_fault(&state, |f| {
                        matches!(
                            f,
                            Fault::RejectData(_)
                                | Fault::DropAfterData
                                | Fault::HoldAfterData { .. }
                        )
                    });
                    match fault {
                        Some(Fault::RejectData(reply)) => reply,
                        Some(Fault::DropAfterData) => {
                            state.lock().unwrap().received.push(received);
                            return Ok(());
                        }
                        Some(Fault::HoldAfterData { reached, release }) => {
                            state.lock().unwrap().received.push(received);
                            reached.notify_one();
                            release.notified().await;
                            "250 2.0.0 queued".into()
                        }
                        _ => {
                            state.lock().unwrap().received.push(received);
                            "250 2.0.0 queued".into()
                        }
                    }
                }
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 reset".into()
            }
            "NOOP" => "250 2.0.0 ok".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 command not recognized".into(),
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\r\n").await?;
    }
}

/// `FROM:<a@b> BODY=8BITMIME` → `a@b`.
fn path_of(argument: &str) -> String {
    let start = argument.find('<').map_or(0, |i| i + 1);
    let end = argument.find('>').unwrap_or(argument.len());
    argument.get(start..end).unwrap_or("").to_string()
}

/// Reads DATA lines up to the lone dot, removing the leading dot a client adds to lines that start with one.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let content = if line.starts_with(b".") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(content);
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|c| *c == byte)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}
