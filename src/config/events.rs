//! The YAML event stream of a document, each event with its position, from
//! libyaml (the parser serde_yaml itself is built on, so both read a file
//! alike). Reading events one at a time, rather than a deserialized tree,
//! gives every node its line and column in one pass, tells how each scalar
//! was written, and lets the reader stop at the first problem instead of
//! scanning the rest of the document.
//!
//! This is the only module with `unsafe` code: the calls into libyaml's
//! C-shaped interface, each with what makes it sound.

use std::mem::MaybeUninit;

use unsafe_libyaml as unsafe_yaml;

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Where a byte of the text is, by the text's own lines. libyaml also ends
/// a line at U+2028, U+2029, U+0085 and a lone CR, where no editor and no
/// snippet does: by its count, a problem after such a character would point
/// at a line below the one it is on. Events come in the text's order, so
/// each position is counted on from the last.
struct Locator<'t> {
    text: &'t str,
    at: usize,
    pos: Pos,
}

impl<'t> Locator<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            at: 0,
            pos: Pos { line: 1, column: 1 },
        }
    }

    fn of(&mut self, mark: unsafe_yaml::yaml_mark_t) -> Pos {
        let mut index = usize::try_from(mark.index)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while !self.text.is_char_boundary(index) {
            index -= 1;
        }
        if index < self.at {
            *self = Self::new(self.text);
        }
        for c in self.text[self.at..index].chars() {
            if c == '\n' {
                self.pos = Pos {
                    line: self.pos.line + 1,
                    column: 1,
                };
            } else {
                self.pos.column += 1;
            }
        }
        self.at = index;
        self.pos
    }
}

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    Quoted,
    /// `|` or `>`.
    Block,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias {
        anchor: String,
    },
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        style: ScalarStyle,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    MappingEnd,
}

/// What libyaml reported, as serde_yaml words it, without the position
/// (which is shown apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub pos: Pos,
}

/// The events of one text, read one at a time.
pub struct Reader<'input> {
    /// Boxed so that libyaml's parser, which keeps pointers into its own
    /// buffers, never moves; initialized in `new` and deleted in `drop`.
    parser: Box<MaybeUninit<unsafe_yaml::yaml_parser_t>>,
    locator: Locator<'input>,
}

#[cfg(test)]
thread_local! {
    /// Readers made on this thread: how tests count the passes over a text.
    pub static READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl<'input> Reader<'input> {
    pub fn new(input: &'input str) -> Self {
        #[cfg(test)]
        READS.with(|reads| reads.set(reads.get() + 1));
        let mut parser = Box::new(MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
        // SAFETY: yaml_parser_initialize fills the parser in place before
        // anything reads it (it fails only when out of memory); the input
        // outlives the reader, which the lifetime ties it to.
        unsafe {
            let raw = parser.as_mut_ptr();
            if unsafe_yaml::yaml_parser_initialize(raw).fail {
                std::alloc::handle_alloc_error(
                    std::alloc::Layout::new::<unsafe_yaml::yaml_parser_t>(),
                );
            }
            unsafe_yaml::yaml_parser_set_encoding(raw, unsafe_yaml::YAML_UTF8_ENCODING);
            unsafe_yaml::yaml_parser_set_input_string(raw, input.as_ptr(), input.len() as u64);
        }
        Self {
            parser,
            locator: Locator::new(input),
        }
    }

    /// The next event and where it starts.
    pub fn next_event(&mut self) -> Result<(Event, Pos), SyntaxError> {
        let parser = self.parser.as_mut_ptr();
        let mut event = MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
        // SAFETY: the parser was initialized in `new`. A successful
        // yaml_parser_parse initializes the event, which is read only then
        // and deleted right after its data is copied out.
        unsafe {
            let failed_before = (&*parser).error != unsafe_yaml::YAML_NO_ERROR;
            if failed_before || unsafe_yaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                return Err(syntax_error(&*parser, &mut self.locator));
            }
            let event = event.as_mut_ptr();
            let converted = convert(&*event);
            let pos = self.locator.of((*event).start_mark);
            unsafe_yaml::yaml_event_delete(event);
            Ok((converted, pos))
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        // SAFETY: initialized in `new`, deleted once, here.
        unsafe { unsafe_yaml::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

/// A NUL-terminated string of libyaml's, copied; `None` for a null pointer.
///
/// # Safety
/// `text` is null or points to a NUL-terminated string.
unsafe fn text(text: *const u8) -> Option<String> {
    if text.is_null() {
        return None;
    }
    // SAFETY: as the caller promises.
    let bytes = unsafe { std::ffi::CStr::from_ptr(text.cast()) }.to_bytes();
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// # Safety
/// `event` was filled by a successful yaml_parser_parse.
unsafe fn convert(event: &unsafe_yaml::yaml_event_t) -> Event {
    // SAFETY: each arm reads the union member its event type sets.
    unsafe {
        match event.type_ {
            unsafe_yaml::YAML_STREAM_START_EVENT => Event::StreamStart,
            unsafe_yaml::YAML_STREAM_END_EVENT => Event::StreamEnd,
            unsafe_yaml::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
            unsafe_yaml::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            unsafe_yaml::YAML_ALIAS_EVENT => Event::Alias {
                anchor: text(event.data.alias.anchor).unwrap_or_default(),
            },
            unsafe_yaml::YAML_SCALAR_EVENT => {
                let scalar = event.data.scalar;
                let bytes = std::slice::from_raw_parts(scalar.value, scalar.length as usize);
                Event::Scalar {
                    anchor: text(scalar.anchor),
                    tag: text(scalar.tag),
                    value: String::from_utf8_lossy(bytes).into_owned(),
                    style: match scalar.style {
                        unsafe_yaml::YAML_PLAIN_SCALAR_STYLE => ScalarStyle::Plain,
                        unsafe_yaml::YAML_LITERAL_SCALAR_STYLE
                        | unsafe_yaml::YAML_FOLDED_SCALAR_STYLE => ScalarStyle::Block,
                        _ => ScalarStyle::Quoted,
                    },
                }
            }
            unsafe_yaml::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                anchor: text(event.data.sequence_start.anchor),
                tag: text(event.data.sequence_start.tag),
            },
            unsafe_yaml::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            unsafe_yaml::YAML_MAPPING_START_EVENT => Event::MappingStart {
                anchor: text(event.data.mapping_start.anchor),
                tag: text(event.data.mapping_start.tag),
            },
            _ => Event::MappingEnd,
        }
    }
}

/// # Safety
/// `parser` is an initialized parser whose last call failed.
unsafe fn syntax_error(
    parser: &unsafe_yaml::yaml_parser_t,
    locator: &mut Locator<'_>,
) -> SyntaxError {
    // SAFETY: libyaml's problem and context are null or static C strings.
    let (problem, context) = unsafe { (text(parser.problem.cast()), text(parser.context.cast())) };
    let mut message = problem.unwrap_or_else(|| "the YAML parser failed".to_owned());
    if let Some(context) = context {
        message = format!("{message}, {context}");
    }
    SyntaxError {
        message,
        pos: locator.of(parser.problem_mark),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_position_and_style() {
        let mut reader = Reader::new("a: 'x'\nb: [1, \"2\"]\n");
        let mut events = Vec::new();
        loop {
            let (event, pos) = reader.next_event().unwrap();
            let end = event == Event::StreamEnd;
            events.push((event, pos));
            if end {
                break;
            }
        }
        let scalars: Vec<(String, ScalarStyle, Pos)> = events
            .into_iter()
            .filter_map(|(event, pos)| match event {
                Event::Scalar { value, style, .. } => Some((value, style, pos)),
                _ => None,
            })
            .collect();
        let at = |line, column| Pos { line, column };
        assert_eq!(
            scalars,
            vec![
                ("a".into(), ScalarStyle::Plain, at(1, 1)),
                ("x".into(), ScalarStyle::Quoted, at(1, 4)),
                ("b".into(), ScalarStyle::Plain, at(2, 1)),
                ("1".into(), ScalarStyle::Plain, at(2, 5)),
                ("2".into(), ScalarStyle::Quoted, at(2, 8)),
            ]
        );
    }

    #[test]
    fn a_line_is_ended_by_a_newline_only_as_the_snippet_and_an_editor_count() {
        let mut reader = Reader::new("a: \"x\u{2028}y\u{85}\"\nb: \"\u{202e}z\"\n");
        let mut scalars = Vec::new();
        loop {
            match reader.next_event().unwrap() {
                (Event::StreamEnd, _) => break,
                (Event::Scalar { value, .. }, pos) => scalars.push((value, pos)),
                _ => {}
            }
        }
        let at = |line, column| Pos { line, column };
        assert_eq!(scalars[2], ("b".to_owned(), at(2, 1)));
        assert_eq!(scalars[3], ("\u{202e}z".to_owned(), at(2, 4)));
    }

    #[test]
    fn a_syntax_error_is_located_and_worded_as_libyaml_does() {
        let mut reader = Reader::new("a: [1, 2\nb: 3\n");
        let error = loop {
            match reader.next_event() {
                Ok((Event::StreamEnd, _)) => panic!("no error"),
                Ok(_) => {}
                Err(error) => break error,
            }
        };
        assert!(error.message.contains("flow sequence"), "{}", error.message);
        assert!(error.pos.line >= 2, "{error:?}");
    }
}
