//! The few protobuf messages of an event file, encoded and decoded by hand:
//!
//! ```text
//! message Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//! message Summary { repeated Value value = 1; }
//! message Value   { string tag = 1; float simple_value = 2; }   // (other fields skipped)
//! ```

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// One decoded Event. `scalars` holds the summary's `simple_value`s, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event {
    pub wall_time: f64,
    pub step: i64,
    pub file_version: Option<String>,
    pub scalars: Vec<(String, f32)>,
}

impl Event {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        e.tag(1, FIXED64);
        e.buf.extend(self.wall_time.to_le_bytes());
        if self.step != 0 {
            e.tag(2, VARINT);
            e.varint(self.step as u64); // int64: negatives take 10 bytes, as protobuf does
        }
        if let Some(v) = &self.file_version {
            e.bytes(3, v.as_bytes());
        }
        if !self.scalars.is_empty() {
            let mut summary = Encoder::default();
            for (tag, value) in &self.scalars {
                let mut v = Encoder::default();
                v.bytes(1, tag.as_bytes());
                v.tag(2, FIXED32);
                v.buf.extend(value.to_le_bytes());
                summary.bytes(1, &v.buf);
            }
            e.bytes(5, &summary.buf);
        }
        e.buf
    }

    /// Decodes an Event, skipping fields it does not know (graphs, images, histograms...).
    pub fn decode(data: &[u8]) -> Result<Event, ProtoError> {
        let mut event = Event::default();
        let mut d = Decoder::new(data, 0);
        while let Some((field, value)) = d.next_field()? {
            match (field, value) {
                (1, Wire::Fixed64(bits)) => event.wall_time = f64::from_bits(bits),
                (2, Wire::Varint(v)) => event.step = v as i64,
                (3, Wire::Len(start, bytes)) => {
                    event.file_version = Some(utf8(bytes, start)?.to_owned())
                }
                (5, Wire::Len(start, bytes)) => decode_summary(bytes, start, &mut event.scalars)?,
                _ => {}
            }
        }
        Ok(event)
    }
}

fn decode_summary(
    data: &[u8],
    base: usize,
    out: &mut Vec<(String, f32)>,
) -> Result<(), ProtoError> {
    let mut d = Decoder::new(data, base);
    while let Some((field, value)) = d.next_field()? {
        if let (1, Wire::Len(start, bytes)) = (field, value) {
            let mut v = Decoder::new(bytes, start);
            let (mut tag, mut simple) = (None, None);
            while let Some((field, value)) = v.next_field()? {
                match (field, value) {
                    (1, Wire::Len(start, bytes)) => tag = Some(utf8(bytes, start)?.to_owned()),
                    (2, Wire::Fixed32(bits)) => simple = Some(f32::from_bits(bits)),
                    _ => {}
                }
            }
            // Values without simple_value (images, histograms, tensors) are not scalars here.
            if let (Some(tag), Some(simple)) = (tag, simple) {
                out.push((tag, simple));
            }
        }
    }
    Ok(())
}

fn utf8(bytes: &[u8], offset: usize) -> Result<&str, ProtoError> {
    std::str::from_utf8(bytes).map_err(|_| ProtoError {
        offset,
        what: "a string is not valid UTF-8".into(),
    })
}

#[derive(Default)]
struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u8) {
        self.varint(((field as u64) << 3) | wire as u64);
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, LEN);
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
}

/// A malformed protobuf, at `offset` bytes into the record's data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad protobuf at byte {offset} of the record's data: {what}")]
pub struct ProtoError {
    pub offset: usize,
    pub what: String,
}

/// A field's value; `Len` carries its offset in the outermost message, for error messages.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(usize, &'a [u8]),
    Fixed32(u32),
}

struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data` in the outermost message.
    base: usize,
}

impl<'a> Decoder<'a> {
    fn new(data: &'a [u8], base: usize) -> Self {
        Decoder { data, pos: 0, base }
    }

    fn error(&self, what: impl Into<String>) -> ProtoError {
        ProtoError {
            offset: self.base + self.pos,
            what: what.into(),
        }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(self.error("truncated varint"));
            };
            self.pos += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.error("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: u64) -> Result<(usize, &'a [u8]), ProtoError> {
        let left = self.data.len() - self.pos;
        if n > left as u64 {
            return Err(self.error(format!("field of {n} bytes but only {left} left")));
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok((self.base + start, &self.data[start..self.pos]))
    }

    /// The next (field number, value), or None at the end of the message.
    fn next_field(&mut self) -> Result<Option<(u64, Wire<'a>)>, ProtoError> {
        if self.pos == self.data.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (field, wire) = (key >> 3, (key & 7) as u8);
        if field == 0 {
            return Err(self.error("field number 0"));
        }
        let value = match wire {
            VARINT => Wire::Varint(self.varint()?),
            FIXED64 => Wire::Fixed64(u64::from_le_bytes(self.take(8)?.1.try_into().unwrap())),
            LEN => {
                let n = self.varint()?;
                let (start, bytes) = self.take(n)?;
                Wire::Len(start, bytes)
            }
            FIXED32 => Wire::Fixed32(u32::from_le_bytes(self.take(4)?.1.try_into().unwrap())),
            w => return Err(self.error(format!("unsupported wire type {w} (field {field})"))),
        };
        Ok(Some((field, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bytes() {
        // Hand-assembled: Event{wall_time: 1.5, step: 300, summary{value{tag:"a", simple_value: 2.0}}}
        let e = Event {
            wall_time: 1.5,
            step: 300,
            file_version: None,
            scalars: vec![("a".into(), 2.0)],
        };
        let mut want = vec![0x09];
        want.extend(1.5f64.to_le_bytes());
        want.extend([0x10, 0xac, 0x02]); // 300 = 0b10_0101100
        want.extend([0x2a, 10, 0x0a, 8, 0x0a, 1, b'a', 0x15]);
        want.extend(2.0f32.to_le_bytes());
        assert_eq!(e.encode(), want);
        assert_eq!(Event::decode(&want).unwrap(), e);
    }

    #[test]
    fn round_trip_edge_values() {
        let e = Event {
            wall_time: 1.7e9 + 0.123,
            step: -5,
            file_version: Some("brain.Event:2".into()),
            scalars: vec![
                ("x/y".into(), f32::MIN_POSITIVE),
                ("z".into(), -0.0),
                ("big".into(), 3.4e38),
            ],
        };
        let bytes = e.encode();
        let back = Event::decode(&bytes).unwrap();
        assert_eq!(back, e);
        assert!(back.scalars[1].1.is_sign_negative());
        let step_max = Event {
            step: i64::MAX,
            ..Event::default()
        };
        assert_eq!(Event::decode(&step_max.encode()).unwrap().step, i64::MAX);
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let mut e = Encoder::default();
        e.tag(4, LEN); // graph_def
        e.varint(3);
        e.buf.extend([1, 2, 3]);
        e.tag(9, VARINT);
        e.varint(u64::MAX);
        e.tag(10, FIXED32);
        e.buf.extend([0; 4]);
        e.tag(2, VARINT);
        e.varint(7);
        let mut v = Encoder::default();
        v.bytes(1, b"t");
        v.bytes(4, b"image bytes"); // a Value with an image and no simple_value
        let mut s = Encoder::default();
        s.bytes(1, &v.buf);
        e.bytes(5, &s.buf);
        let back = Event::decode(&e.buf).unwrap();
        assert_eq!(back.step, 7);
        assert!(back.scalars.is_empty());
    }

    #[test]
    fn malformed_input_is_an_error() {
        let good = Event {
            wall_time: 2.0,
            step: 1,
            file_version: None,
            scalars: vec![("loss".into(), 0.5)],
        }
        .encode();
        // Cuts between fields (after wall_time, after step) leave a valid shorter message.
        for cut in (1..good.len()).filter(|c| ![9, 11].contains(c)) {
            assert!(Event::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let err = Event::decode(&[0x0b]).unwrap_err(); // wire type 3 (group)
        assert!(err.what.contains("wire type 3"), "{err}");
        let err = Event::decode(&[0x10, 0xff]).unwrap_err();
        assert_eq!(err.offset, 2);
    }
}
