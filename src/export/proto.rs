//! A protobuf writer for the few ONNX messages the exporter needs (see `onnx_graph`), checked
//! against the `onnx` package's checker by tests/export_onnx.rs. Fields are written in the
//! order given; repeated scalars are written unpacked (valid for proto2 and proto3 readers).

const VARINT: u64 = 0;
const LEN: u64 = 2;

/// One message being written.
#[derive(Default)]
pub struct Msg {
    buf: Vec<u8>,
}

impl Msg {
    pub fn new() -> Self {
        Msg::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u64) {
        self.varint(((field as u64) << 3) | wire);
    }

    /// An int32/int64/enum field (negative values take ten bytes, as protobuf writes them).
    pub fn int(&mut self, field: u32, v: i64) -> &mut Self {
        self.tag(field, VARINT);
        self.varint(v as u64);
        self
    }

    pub fn bytes(&mut self, field: u32, v: &[u8]) -> &mut Self {
        self.tag(field, LEN);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
        self
    }

    pub fn str(&mut self, field: u32, v: &str) -> &mut Self {
        self.bytes(field, v.as_bytes())
    }

    /// An embedded message.
    pub fn msg(&mut self, field: u32, m: Msg) -> &mut Self {
        self.bytes(field, &m.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_protobuf() {
        // From the protobuf encoding guide: field 1 = 150 is 08 96 01; field 2 = "testing".
        let mut m = Msg::new();
        m.int(1, 150).str(2, "testing");
        let b = m.into_bytes();
        assert_eq!(&b[..3], &[0x08, 0x96, 0x01]);
        assert_eq!(&b[3..5], &[0x12, 0x07]);
        assert_eq!(&b[5..], b"testing");
        let mut n = Msg::new();
        n.int(3, -1);
        assert_eq!(n.into_bytes().len(), 1 + 10);
        // A field number above 15 takes two bytes of tag.
        let mut t = Msg::new();
        t.int(20, 7);
        assert_eq!(t.into_bytes(), vec![0xa0, 0x01, 7]);
    }
}
