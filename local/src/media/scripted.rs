//! A publisher scripted at the RTMP message level, for what ffmpeg never does: the command
//! sequence OBS Studio sends (`releaseStream`, `FCPublish`, `FCUnpublish`), compressed chunk
//! headers of every type, any chunk size, metadata updates, gaps of one kind of media, and a TCP
//! reset in the middle of a chunk. The server's answers are decoded with scuffle-rtmp's chunk
//! reader and scuffle-amf0.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use scuffle_amf0::encoder::Amf0Encoder;
use scuffle_amf0::{Amf0Object, Amf0Value};
use scuffle_rtmp::chunk::reader::ChunkReader;
use scuffle_rtmp::messages::MessageType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One FLV tag of a file: type 8 audio, 9 video, 18 script data.
pub struct FlvTag {
    pub kind: u8,
    pub timestamp: u32,
    pub data: Vec<u8>,
}

/// The tags of an FLV file, in order.
pub fn read_flv(path: &Path) -> Vec<FlvTag> {
    let bytes = std::fs::read(path).expect("read FLV");
    let mut tags = Vec::new();
    let mut at = 9 + 4; // header, PreviousTagSize0
    while at + 11 <= bytes.len() {
        let h = &bytes[at..at + 11];
        let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
        let timestamp = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let end = at + 11 + size;
        if end > bytes.len() {
            break;
        }
        tags.push(FlvTag {
            kind: h[0],
            timestamp,
            data: bytes[at + 11..end].to_vec(),
        });
        at = end + 4;
    }
    tags
}

/// The last header sent on a chunk stream, to compress the next one as librtmp and OBS do.
#[derive(Clone, Copy)]
struct Sent {
    timestamp: u32,
    field: u32,
    len: usize,
    type_id: u8,
    stream_id: u32,
}

pub struct Publisher {
    pub tcp: TcpStream,
    reader: ChunkReader,
    inbox: BytesMut,
    chunk_size: usize,
    sent: HashMap<u32, Sent>,
    transaction: f64,
    pub stream_id: u32,
}

pub fn string(s: &str) -> Amf0Value<'static> {
    Amf0Value::String(s.to_owned().into())
}

fn object(pairs: &[(&str, Amf0Value<'static>)]) -> Amf0Value<'static> {
    let map: Amf0Object<'static> = pairs.iter().map(|(k, v)| ((*k).to_owned().into(), v.clone())).collect();
    Amf0Value::Object(map)
}

fn amf0(values: &[Amf0Value<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = Amf0Encoder::new(&mut out);
    for value in values {
        match value {
            Amf0Value::String(s) => encoder.encode_string(s.as_str()),
            Amf0Value::Number(n) => encoder.encode_number(*n),
            Amf0Value::Null => encoder.encode_null(),
            Amf0Value::Boolean(b) => encoder.encode_boolean(*b),
            Amf0Value::Object(o) => encoder.encode_object(o),
            Amf0Value::Array(a) => encoder.encode_array(a),
        }
        .expect("AMF0 encode");
    }
    out
}

/// A command the server sent: its transaction id, message stream and other values.
#[derive(Debug)]
pub struct Reply {
    pub transaction: f64,
    pub stream_id: u32,
    pub values: Vec<Amf0Value<'static>>,
}

impl Reply {
    /// The `code` of the info object (onStatus, onFCPublish, connect's `_result`).
    pub fn code(&self) -> Option<String> {
        self.values.iter().find_map(|v| match v {
            Amf0Value::Object(o) => o.iter().find_map(|(k, v)| match v {
                Amf0Value::String(code) if k.as_str() == "code" => Some(code.as_str().to_owned()),
                _ => None,
            }),
            _ => None,
        })
    }
}

impl Publisher {
    /// TCP connect and the simple handshake (C0 C1, S0 S1 S2, C2).
    pub async fn connect(port: u16) -> std::io::Result<Self> {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        tcp.set_nodelay(true)?;
        let mut c0c1 = vec![3u8];
        c0c1.extend((0..1536).map(|i| (i * 7 % 251) as u8));
        c0c1[1..9].fill(0);
        tcp.write_all(&c0c1).await?;
        let mut s = vec![0u8; 1 + 1536 * 2];
        tcp.read_exact(&mut s).await?;
        tcp.write_all(&s[1..1537]).await?;
        Ok(Self {
            tcp,
            reader: ChunkReader::default(),
            inbox: BytesMut::new(),
            chunk_size: 128,
            sent: HashMap::new(),
            transaction: 0.0,
            stream_id: 0,
        })
    }

    /// One message as chunks: type 0 first on a chunk stream, then 1, 2 or 3 as the header allows.
    fn chunks(&mut self, csid: u32, timestamp: u32, type_id: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
        let previous = self.sent.get(&csid).copied();
        let (fmt, field) = match previous {
            Some(p) if p.stream_id == stream_id && timestamp >= p.timestamp => {
                let delta = timestamp - p.timestamp;
                match (p.len == payload.len() && p.type_id == type_id, delta == p.field) {
                    (true, true) => (3u8, delta),
                    (true, false) => (2, delta),
                    _ => (1, delta),
                }
            }
            _ => (0, timestamp),
        };
        self.sent.insert(
            csid,
            Sent {
                timestamp,
                field,
                len: payload.len(),
                type_id,
                stream_id,
            },
        );
        let mut out = vec![(fmt << 6) | csid as u8];
        if fmt <= 2 {
            out.extend_from_slice(&field.to_be_bytes()[1..]);
        }
        if fmt <= 1 {
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
            out.push(type_id);
        }
        if fmt == 0 {
            out.extend_from_slice(&stream_id.to_le_bytes());
        }
        for (i, piece) in payload.chunks(self.chunk_size.max(1)).enumerate() {
            if i > 0 {
                out.push((3 << 6) | csid as u8);
            }
            out.extend_from_slice(piece);
        }
        out
    }

    pub async fn send(&mut self, csid: u32, timestamp: u32, type_id: u8, payload: &[u8]) -> std::io::Result<()> {
        let stream_id = if matches!(type_id, 8 | 9 | 18) {
            self.stream_id
        } else {
            0
        };
        let bytes = self.chunks(csid, timestamp, type_id, stream_id, payload);
        self.tcp.write_all(&bytes).await
    }

    /// Set Chunk Size for what this publisher sends from now on.
    pub async fn set_chunk_size(&mut self, size: u32) -> std::io::Result<()> {
        self.send(2, 0, 1, &size.to_be_bytes()).await?;
        self.chunk_size = size as usize;
        Ok(())
    }

    /// An AMF0 command with the next transaction id (on the publishing stream when `on_stream`).
    pub async fn call(&mut self, name: &str, args: &[Amf0Value<'static>], on_stream: bool) -> std::io::Result<f64> {
        self.transaction += 1.0;
        let mut values = vec![string(name), Amf0Value::Number(self.transaction)];
        values.extend_from_slice(args);
        let stream_id = if on_stream { self.stream_id } else { 0 };
        let csid = if on_stream { 8 } else { 3 };
        let bytes = self.chunks(csid, 0, 20, stream_id, &amf0(&values));
        self.tcp.write_all(&bytes).await?;
        Ok(self.transaction)
    }

    /// Reads until the server sends the command `name` (answering nothing else), within 5 s.
    pub async fn expect(&mut self, name: &str) -> Reply {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            while let Some(chunk) = self.reader.read_chunk(&mut self.inbox).expect("server chunks decode") {
                let header = chunk.message_header;
                if header.msg_type_id == MessageType::SetChunkSize {
                    let size = u32::from_be_bytes(chunk.payload[..4].try_into().unwrap());
                    assert!(self.reader.update_max_chunk_size(size as usize));
                } else if header.msg_type_id == MessageType::CommandAMF0 {
                    let mut decoder = scuffle_amf0::decoder::Amf0Decoder::from_buf(chunk.payload.clone());
                    let values: Vec<Amf0Value<'static>> = decoder
                        .decode_all()
                        .expect("AMF0 from the server")
                        .into_iter()
                        .map(Amf0Value::into_owned)
                        .collect();
                    let (Some(Amf0Value::String(got)), Some(Amf0Value::Number(transaction))) =
                        (values.first(), values.get(1))
                    else {
                        panic!("a command without name and transaction id: {values:?}");
                    };
                    if got.as_str() == name {
                        return Reply {
                            transaction: *transaction,
                            stream_id: header.msg_stream_id,
                            values: values[2..].to_vec(),
                        };
                    }
                }
            }
            let read = tokio::time::timeout_at(deadline, self.tcp.read_buf(&mut self.inbox)).await;
            match read {
                Ok(Ok(0)) => panic!("the server closed the connection while we waited for {name}"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("reading while waiting for {name}: {e}"),
                Err(_) => panic!("no {name} from the server within 5 s"),
            }
        }
    }

    /// What OBS Studio sends to start publishing `app`/`key`, checking each answer; returns the
    /// publish's onStatus.
    pub async fn obs_publish(&mut self, port: u16, app: &str, key: &str) -> Reply {
        let tc_url = format!("rtmp://127.0.0.1:{port}/{app}");
        let connect = object(&[
            ("app", string(app)),
            ("type", string("nonprivate")),
            ("flashVer", string("FMLE/3.0 (compatible; FMSc/1.0)")),
            ("swfUrl", string(&tc_url)),
            ("tcUrl", string(&tc_url)),
        ]);
        let t = self.call("connect", &[connect], false).await.unwrap();
        let reply = self.expect("_result").await;
        assert_eq!(
            (reply.transaction, reply.code().as_deref()),
            (t, Some("NetConnection.Connect.Success"))
        );
        let release = self
            .call("releaseStream", &[Amf0Value::Null, string(key)], false)
            .await
            .unwrap();
        let fc_publish = self
            .call("FCPublish", &[Amf0Value::Null, string(key)], false)
            .await
            .unwrap();
        let create = self.call("createStream", &[Amf0Value::Null], false).await.unwrap();
        for want in [release, fc_publish, create] {
            let reply = self.expect("_result").await;
            assert_eq!(reply.transaction, want, "answers in order: {reply:?}");
            if want == create {
                let Some(Amf0Value::Number(id)) = reply.values.get(1) else {
                    panic!("createStream's _result has no stream id: {reply:?}");
                };
                self.stream_id = *id as u32;
            }
        }
        self.call("publish", &[Amf0Value::Null, string(key), string("live")], true)
            .await
            .unwrap();
        self.expect("onStatus").await
    }

    /// `@setDataFrame onMetaData` with a few of the fields OBS sends.
    pub async fn metadata(&mut self, timestamp: u32, width: f64) -> std::io::Result<()> {
        let meta = object(&[
            ("width", Amf0Value::Number(width)),
            ("height", Amf0Value::Number(width * 9.0 / 16.0)),
            ("framerate", Amf0Value::Number(30.0)),
            ("encoder", string("obs-output module (libobs version 31.0.0)")),
        ]);
        let body = amf0(&[string("@setDataFrame"), string("onMetaData"), meta]);
        self.send(5, timestamp, 18, &body).await
    }

    /// Sends a tag on OBS's chunk streams (audio 4, video 6), unless it is script data.
    pub async fn tag(&mut self, tag: &FlvTag) -> std::io::Result<()> {
        match tag.kind {
            8 => self.send(4, tag.timestamp, 8, &tag.data).await,
            9 => self.send(6, tag.timestamp, 9, &tag.data).await,
            _ => Ok(()),
        }
    }
}
