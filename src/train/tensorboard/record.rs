//! TFRecord framing: u64 LE length, u32 masked CRC-32C of those 8 bytes, the data, u32 masked
//! CRC-32C of the data.

use std::io::{self, Write};

/// TensorFlow's masked CRC-32C (masking keeps a CRC of data that itself holds CRCs from being
/// trivially predictable).
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Writes one framed record.
pub fn write_record(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    out.write_all(&len)?;
    out.write_all(&masked_crc(&len).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc(data).to_le_bytes())
}

/// What is wrong with a record, and at which byte of the file it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record {index} at byte {offset}: truncated header ({available} of 12 bytes)")]
    TruncatedHeader {
        index: usize,
        offset: usize,
        available: usize,
    },
    #[error(
        "record {index} at byte {offset}: the CRC of its length does not match (corrupt file)"
    )]
    LengthCrc { index: usize, offset: usize },
    #[error("record {index} at byte {offset}: truncated ({length} data bytes announced, {available} left in the file)")]
    Truncated {
        index: usize,
        offset: usize,
        length: u64,
        available: usize,
    },
    #[error("record {index} at byte {offset}: the CRC of its data does not match (corrupt file)")]
    DataCrc { index: usize, offset: usize },
}

/// One record's data and the byte offset of its header in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub offset: usize,
    pub data: &'a [u8],
}

/// Splits a whole file into records, checking both CRCs of each.
pub fn parse_records(bytes: &[u8]) -> Result<Vec<Record<'_>>, RecordError> {
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let index = records.len();
        let rest = &bytes[offset..];
        if rest.len() < 12 {
            return Err(RecordError::TruncatedHeader {
                index,
                offset,
                available: rest.len(),
            });
        }
        let len_bytes = &rest[..8];
        let length = u64::from_le_bytes(len_bytes.try_into().unwrap());
        if read_u32(&rest[8..12]) != masked_crc(len_bytes) {
            return Err(RecordError::LengthCrc { index, offset });
        }
        // Compare in u64 so that a huge announced length cannot overflow.
        let available = rest.len() - 12;
        if length.saturating_add(4) > available as u64 {
            return Err(RecordError::Truncated {
                index,
                offset,
                length,
                available,
            });
        }
        let n = length as usize;
        let data = &rest[12..12 + n];
        if read_u32(&rest[12 + n..16 + n]) != masked_crc(data) {
            return Err(RecordError::DataCrc { index, offset });
        }
        records.push(Record { offset, data });
        offset += 16 + n;
    }
    Ok(records)
}

fn read_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_standard_check_value() {
        // The CRC-32C catalogue's check value, then the mask computed by hand (in Python:
        // (((c >> 15) | (c << 17)) + 0xa282ead8) & 0xffffffff).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn round_trip_and_layout() {
        let mut buf = Vec::new();
        write_record(&mut buf, b"hello").unwrap();
        write_record(&mut buf, b"").unwrap();
        assert_eq!(buf.len(), 16 + 5 + 16);
        assert_eq!(&buf[..8], &5u64.to_le_bytes());
        assert_eq!(&buf[12..17], b"hello");
        let recs = parse_records(&buf).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].offset, recs[0].data), (0, &b"hello"[..]));
        assert_eq!((recs[1].offset, recs[1].data), (21, &b""[..]));
    }

    #[test]
    fn every_corruption_is_caught() {
        let mut good = Vec::new();
        write_record(&mut good, b"abc").unwrap();
        write_record(&mut good, b"defgh").unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            assert!(parse_records(&bad).is_err(), "flip at byte {i} not caught");
        }
        for cut in 1..good.len() {
            if cut == 19 {
                continue; // a whole first record: valid
            }
            let err = parse_records(&good[..cut]);
            assert!(err.is_err(), "truncation at {cut} not caught");
        }
        assert_eq!(parse_records(&[]), Ok(vec![]));
        assert_eq!(
            parse_records(&good[..19 + 5]),
            Err(RecordError::TruncatedHeader {
                index: 1,
                offset: 19,
                available: 5
            })
        );
    }

    #[test]
    fn huge_length_does_not_panic() {
        let len = u64::MAX.to_le_bytes();
        let mut buf = len.to_vec();
        buf.extend(masked_crc(&len).to_le_bytes());
        assert!(matches!(
            parse_records(&buf),
            Err(RecordError::Truncated {
                length: u64::MAX,
                ..
            })
        ));
    }
}
