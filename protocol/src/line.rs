//! Incremental framing of CRLF / LF terminated lines.

/// Longest allowed line, counting its line ending (docs/PROTOCOL.md §3).
pub const MAX_LINE_LEN: usize = 8192;

/// What [`LineDecoder::decode`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// A complete line, without its LF or CRLF ending.
    Line(Vec<u8>),
    /// A line longer than the limit ended; its bytes were discarded.
    TooLong,
}

/// Splits a byte stream into lines, holding at most one partial line.
///
/// A line ends at LF; one CR right before the LF is dropped as well, so both
/// CRLF and bare LF endings work. A line longer than the limit is skipped up
/// to its LF and reported as [`LineEvent::TooLong`], without ever holding
/// more than `max` bytes.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    partial: Vec<u8>,
    max: usize,
    discarding: bool,
}

impl Default for LineDecoder {
    fn default() -> Self {
        LineDecoder::new(MAX_LINE_LEN)
    }
}

impl LineDecoder {
    /// A decoder for lines of at most `max` bytes, line ending included.
    pub fn new(max: usize) -> LineDecoder {
        LineDecoder {
            partial: Vec::new(),
            max,
            discarding: false,
        }
    }

    /// Consumes bytes from `input` up to and including the first line end.
    ///
    /// Returns how many bytes were consumed and the event, if a line ended.
    /// Bytes after the first line end are left alone, so a caller can switch
    /// to reading raw data (after `150`) without the decoder having eaten it.
    pub fn decode(&mut self, input: &[u8]) -> (usize, Option<LineEvent>) {
        match input.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                let consumed = lf + 1;
                let too_long = self.discarding || self.partial.len() + consumed > self.max;
                if too_long {
                    self.discarding = false;
                    self.partial.clear();
                    return (consumed, Some(LineEvent::TooLong));
                }
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&input[..lf]);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                (consumed, Some(LineEvent::Line(line)))
            }
            None => {
                if self.discarding || self.partial.len() + input.len() >= self.max {
                    // Even an LF in the next byte would make this line too long.
                    self.discarding = true;
                    self.partial.clear();
                } else {
                    self.partial.extend_from_slice(input);
                }
                (input.len(), None)
            }
        }
    }

    /// Whether a partial line (or an over-long line being skipped) is pending.
    pub fn has_partial(&self) -> bool {
        self.discarding || !self.partial.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(decoder: &mut LineDecoder, mut input: &[u8], out: &mut Vec<LineEvent>) {
        while !input.is_empty() {
            let (n, event) = decoder.decode(input);
            assert!(n > 0 && n <= input.len());
            input = &input[n..];
            out.extend(event);
        }
    }

    #[test]
    fn crlf_and_bare_lf() {
        let mut d = LineDecoder::default();
        let mut out = Vec::new();
        decode_all(&mut d, b"LIST\r\nNOOP\nQU", &mut out);
        assert_eq!(
            out,
            vec![
                LineEvent::Line(b"LIST".to_vec()),
                LineEvent::Line(b"NOOP".to_vec())
            ]
        );
        assert!(d.has_partial());
        decode_all(&mut d, b"IT\r\n", &mut out);
        assert_eq!(out[2], LineEvent::Line(b"QUIT".to_vec()));
        assert!(!d.has_partial());
    }

    #[test]
    fn limit_counts_the_line_ending() {
        let mut d = LineDecoder::default();
        let mut exact = vec![b'a'; MAX_LINE_LEN - 2];
        exact.extend_from_slice(b"\r\n");
        let mut out = Vec::new();
        decode_all(&mut d, &exact, &mut out);
        assert_eq!(out, vec![LineEvent::Line(vec![b'a'; MAX_LINE_LEN - 2])]);

        let mut over = vec![b'a'; MAX_LINE_LEN - 1];
        over.extend_from_slice(b"\r\nNOOP\r\n");
        out.clear();
        decode_all(&mut d, &over, &mut out);
        assert_eq!(
            out,
            vec![LineEvent::TooLong, LineEvent::Line(b"NOOP".to_vec())]
        );
    }

    #[test]
    fn huge_line_is_skipped_without_buffering_it() {
        let mut d = LineDecoder::default();
        let mut out = Vec::new();
        for _ in 0..1000 {
            decode_all(&mut d, &[b'x'; 4096], &mut out);
            assert!(d.partial.capacity() <= MAX_LINE_LEN * 2);
        }
        decode_all(&mut d, b"\nHELP\n", &mut out);
        assert_eq!(
            out,
            vec![LineEvent::TooLong, LineEvent::Line(b"HELP".to_vec())]
        );
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_lines(
            lines in proptest::collection::vec("[ -~]{0,40}", 0..8),
            split in any::<prop::sample::Index>(),
        ) {
            let mut stream = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                stream.extend_from_slice(l.as_bytes());
                stream.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
            }
            let at = split.index(stream.len() + 1);
            let mut whole = Vec::new();
            decode_all(&mut LineDecoder::default(), &stream, &mut whole);
            let mut parts = Vec::new();
            let mut d = LineDecoder::default();
            decode_all(&mut d, &stream[..at], &mut parts);
            decode_all(&mut d, &stream[at..], &mut parts);
            prop_assert_eq!(&whole, &parts);
            let expected: Vec<_> = lines
                .iter()
                .map(|l| LineEvent::Line(l.trim_end_matches('\r').as_bytes().to_vec()))
                .collect();
            prop_assert_eq!(whole, expected);
        }
    }
}
