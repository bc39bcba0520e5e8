//! The search index's FTS5 tokenizer, registered on every connection the store opens.
//!
//! The index is declared with SQLite's own `porter unicode61 remove_diacritics 2`, so that every
//! SQLite client with FTS5 (the `sqlite3` shell, Datasette) opens the archive, lists its tables and
//! reads the index; on the store's connections `porter` is this tokenizer, which wraps SQLite's
//! (the same case folding, diacritics and English stems) with three changes:
//! - every Han character is a token of its own (`unicode61` keeps a run of them as one token), so
//!   that a Chinese word of any length, two-character words such as 台湾 included, is found as a
//!   phrase of characters;
//! - the most common English function words are left out, in the text and in queries alike, which
//!   keeps a third of English tokens out of the index ("Belt and Road" is the phrase "belt road");
//! - a word written in capitals (`WHO`, the `U` and `S` of `U.S.`) also gets a second token at the
//!   same position, its stem behind [`CAPITALS_MARK`], so that an acronym can be searched where the
//!   text writes it in capitals only: a query phrase that starts with [`CAPITALS_MARK`] is made of
//!   those tokens.
//!
//! Offsets are those of the original text, so `highlight()` and `snippet()` mark the words as
//! written. SQLite's own tokenizers do the folding and stemming: this one puts a separator around
//! each Han character, passes the text to SQLite's `porter`, and maps what comes back. Another
//! client reads the index with SQLite's `porter` alone: English words match there too, a Chinese
//! word when its characters are written apart (`"台 湾"`); only briefwatch writes the index.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use rusqlite::{Connection, ffi};

use crate::text::is_han;

/// Marks, at the start of a query phrase, words that must be written in capitals; and begins the
/// index's second token of every word written in capitals.
pub const CAPITALS_MARK: char = '\u{1}';

/// Put around each Han character before `unicode61` reads the text: a control character, which
/// it takes for a separator.
const HAN_SEPARATOR: char = '\u{1f}';

/// English function words left out of the index and of queries: about a third of English tokens.
const FUNCTION_WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "that", "on", "for", "we", "with", "as", "be",
    "this", "by", "are", "it", "has", "its", "have", "will", "not", "at", "from", "or", "an",
    "was", "which", "our", "been", "their", "they", "i", "you", "he", "all", "also", "more",
    "other", "such",
];

/// True for a word (as written, of ASCII letters only) that the index leaves out.
pub fn is_function_word(word: &str) -> bool {
    // Most words are longer than any function word: skip the scan for them.
    word.len() <= 5
        && word.bytes().all(|b| b.is_ascii_alphabetic())
        && FUNCTION_WORDS
            .iter()
            .any(|stop| stop.eq_ignore_ascii_case(word))
}

/// True for a word with a capital letter and no lower-case one (`WHO`, `G20`): it gets a second
/// token, behind [`CAPITALS_MARK`].
pub fn is_written_in_capitals(word: &str) -> bool {
    word.chars().any(char::is_uppercase) && !word.chars().any(char::is_lowercase)
}

/// Registers this tokenizer on `conn` as `porter`, in place of SQLite's, which it wraps: the
/// index is read and written with it there.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let api = fts5_api(conn)?;
    // SAFETY: `api` is the connection's FTS5 API, alive as long as the connection. The parent
    // tokenizer's functions and data are owned by FTS5 and outlive every tokenizer it creates;
    // the box handed to FTS5 is freed by `destroy` when the connection closes.
    unsafe {
        let find = (*api)
            .xFindTokenizer
            .ok_or_else(|| missing("xFindTokenizer"))?;
        let create_tokenizer = (*api)
            .xCreateTokenizer
            .ok_or_else(|| missing("xCreateTokenizer"))?;
        let mut porter = ffi::fts5_tokenizer {
            xCreate: None,
            xDelete: None,
            xTokenize: None,
        };
        let mut porter_data: *mut c_void = ptr::null_mut();
        check(
            conn,
            find(api, c"porter".as_ptr(), &mut porter_data, &mut porter),
        )?;
        let parent = Box::into_raw(Box::new(Parent {
            tokenizer: porter,
            user_data: porter_data,
        }));
        let mut ours = ffi::fts5_tokenizer {
            xCreate: Some(create),
            xDelete: Some(delete),
            xTokenize: Some(tokenize),
        };
        check(
            conn,
            create_tokenizer(
                api,
                c"porter".as_ptr(),
                parent.cast(),
                &mut ours,
                Some(destroy),
            ),
        )
    }
}

fn missing(what: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        ffi::Error::new(ffi::SQLITE_ERROR),
        Some(format!("this SQLite's FTS5 has no {what}")),
    )
}

fn check(conn: &Connection, rc: c_int) -> rusqlite::Result<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: the handle is the open connection's.
    let message = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(conn.handle())) };
    Err(rusqlite::Error::SqliteFailure(
        ffi::Error::new(rc),
        Some(message.to_string_lossy().into_owned()),
    ))
}

/// The connection's `fts5_api`, which `SELECT fts5(?)` hands out as a bound pointer.
fn fts5_api(conn: &Connection) -> rusqlite::Result<*mut ffi::fts5_api> {
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    // SAFETY: a statement prepared, stepped and finalized on the open connection; the bound
    // pointer is to `api`, which outlives the statement.
    unsafe {
        let db = conn.handle();
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        check(
            conn,
            ffi::sqlite3_prepare_v2(
                db,
                c"SELECT fts5(?1)".as_ptr(),
                -1,
                &mut stmt,
                ptr::null_mut(),
            ),
        )?;
        let bound = ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        let stepped = if bound == ffi::SQLITE_OK {
            ffi::sqlite3_step(stmt)
        } else {
            bound
        };
        ffi::sqlite3_finalize(stmt);
        if stepped != ffi::SQLITE_ROW && stepped != ffi::SQLITE_DONE {
            check(conn, stepped)?;
        }
    }
    if api.is_null() {
        return Err(missing("API"));
    }
    Ok(api)
}

/// SQLite's `porter`, which every tokenizer created wraps.
struct Parent {
    tokenizer: ffi::fts5_tokenizer,
    user_data: *mut c_void,
}

/// One tokenizer of an index: SQLite's `porter` over the tokenizer the index names after it.
struct Instance {
    porter: ffi::fts5_tokenizer,
    inner: *mut ffi::Fts5Tokenizer,
}

unsafe extern "C" fn destroy(user_data: *mut c_void) {
    // SAFETY: the box `register` gave FTS5, freed once, when FTS5 drops the tokenizer.
    drop(unsafe { Box::from_raw(user_data.cast::<Parent>()) });
}

unsafe extern "C" fn create(
    user_data: *mut c_void,
    args: *mut *const c_char,
    count: c_int,
    out: *mut *mut ffi::Fts5Tokenizer,
) -> c_int {
    // SAFETY: `user_data` is the `Parent` registered with this tokenizer; SQLite's `porter` gets
    // the arguments (the tokenizer it wraps) as they were given.
    unsafe {
        let parent = &*user_data.cast::<Parent>();
        let Some(create_porter) = parent.tokenizer.xCreate else {
            return ffi::SQLITE_ERROR;
        };
        let mut inner: *mut ffi::Fts5Tokenizer = ptr::null_mut();
        let rc = create_porter(parent.user_data, args, count, &mut inner);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let instance = Box::new(Instance {
            porter: parent.tokenizer,
            inner,
        });
        *out = Box::into_raw(instance).cast();
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn delete(tokenizer: *mut ffi::Fts5Tokenizer) {
    // SAFETY: the box `create` made, freed once, with the `porter` it wraps.
    unsafe {
        let instance = Box::from_raw(tokenizer.cast::<Instance>());
        if let Some(delete_porter) = instance.porter.xDelete {
            delete_porter(instance.inner);
        }
    }
}

type TokenCallback =
    unsafe extern "C" fn(*mut c_void, c_int, *const c_char, c_int, c_int, c_int) -> c_int;

/// What the callback from `porter` needs to pass a token on.
struct Pass<'a> {
    /// The text as given (after a query's capitals mark).
    text: &'a str,
    /// Bytes before `text` in what FTS5 gave (the capitals mark), added to every offset.
    base: usize,
    /// For each byte offset of the text `porter` reads, the offset in `text` (`None`: the same).
    offsets: Option<Vec<usize>>,
    query: bool,
    capitals_only: bool,
    context: *mut c_void,
    emit: TokenCallback,
    /// The token with [`CAPITALS_MARK`] before it, reused for every word in capitals.
    marked: Vec<u8>,
}

unsafe extern "C" fn tokenize(
    tokenizer: *mut ffi::Fts5Tokenizer,
    context: *mut c_void,
    flags: c_int,
    text: *const c_char,
    length: c_int,
    emit: Option<TokenCallback>,
) -> c_int {
    // SAFETY: FTS5 passes the tokenizer `create` made and `length` bytes of text.
    unsafe {
        let instance = &*tokenizer.cast::<Instance>();
        let (Some(porter_tokenize), Some(emit)) = (instance.porter.xTokenize, emit) else {
            return ffi::SQLITE_ERROR;
        };
        let bytes: &[u8] = match usize::try_from(length) {
            Ok(length) if length > 0 && !text.is_null() => {
                std::slice::from_raw_parts(text.cast::<u8>(), length)
            }
            _ => &[],
        };
        // Text that is not UTF-8 cannot be split by character: `porter` reads it as it is.
        let Ok(whole) = std::str::from_utf8(bytes) else {
            return porter_tokenize(instance.inner, context, flags, text, length, Some(emit));
        };
        let query = flags & ffi::FTS5_TOKENIZE_QUERY != 0;
        let (given, capitals_only) = match whole.strip_prefix(CAPITALS_MARK) {
            Some(rest) if query => (rest, true),
            _ => (whole, false),
        };
        let (prepared, offsets) = separate_han(given);
        let Ok(prepared_length) = c_int::try_from(prepared.len()) else {
            return ffi::SQLITE_TOOBIG;
        };
        let mut pass = Pass {
            text: given,
            base: whole.len() - given.len(),
            offsets,
            query,
            capitals_only,
            context,
            emit,
            marked: Vec::new(),
        };
        porter_tokenize(
            instance.inner,
            (&mut pass as *mut Pass<'_>).cast(),
            flags,
            prepared.as_ptr().cast(),
            prepared_length,
            Some(on_token),
        )
    }
}

/// `text` with [`HAN_SEPARATOR`] around each Han character, and for each of its byte offsets
/// the offset in `text` (none when there is no Han character: the text is read as it is).
fn separate_han(text: &str) -> (std::borrow::Cow<'_, str>, Option<Vec<usize>>) {
    if !text.chars().any(is_han) {
        return (std::borrow::Cow::Borrowed(text), None);
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut offsets = Vec::with_capacity(text.len() * 2 + 1);
    for (at, c) in text.char_indices() {
        let han = is_han(c);
        if han {
            out.push(HAN_SEPARATOR);
            offsets.push(at);
        }
        out.push(c);
        offsets.extend(at..at + c.len_utf8());
        if han {
            out.push(HAN_SEPARATOR);
            offsets.push(at + c.len_utf8());
        }
    }
    offsets.push(text.len());
    (std::borrow::Cow::Owned(out), Some(offsets))
}

unsafe extern "C" fn on_token(
    context: *mut c_void,
    flags: c_int,
    token: *const c_char,
    length: c_int,
    start: c_int,
    end: c_int,
) -> c_int {
    // SAFETY: `context` is the `Pass` of the `tokenize` call running, and `porter` hands over
    // `length` bytes of token and offsets into the text it was given.
    unsafe {
        let pass = &mut *context.cast::<Pass<'_>>();
        let (Ok(start), Ok(end), Ok(length)) = (
            usize::try_from(start),
            usize::try_from(end),
            usize::try_from(length),
        ) else {
            return ffi::SQLITE_ERROR;
        };
        let (start, end) = match &pass.offsets {
            Some(offsets) => (offsets[start], offsets[end]),
            None => (start, end),
        };
        let Some(word) = pass.text.get(start..end) else {
            return ffi::SQLITE_ERROR;
        };
        if is_function_word(word) {
            return ffi::SQLITE_OK;
        }
        let (start, end) = ((start + pass.base) as c_int, (end + pass.base) as c_int);
        if !pass.capitals_only {
            let rc = (pass.emit)(pass.context, flags, token, length as c_int, start, end);
            if rc != ffi::SQLITE_OK || pass.query || !is_written_in_capitals(word) {
                return rc;
            }
        }
        pass.marked.clear();
        pass.marked
            .extend_from_slice(CAPITALS_MARK.encode_utf8(&mut [0; 4]).as_bytes());
        pass.marked
            .extend_from_slice(std::slice::from_raw_parts(token.cast::<u8>(), length));
        let flags = if pass.capitals_only {
            flags
        } else {
            flags | ffi::FTS5_TOKEN_COLOCATED
        };
        (pass.emit)(
            pass.context,
            flags,
            pass.marked.as_ptr().cast(),
            pass.marked.len() as c_int,
            start,
            end,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token as the tokenizer hands it to FTS5.
    #[derive(Debug, PartialEq)]
    struct Token {
        text: String,
        start: usize,
        end: usize,
        colocated: bool,
    }

    unsafe extern "C" fn collect(
        context: *mut c_void,
        flags: c_int,
        token: *const c_char,
        length: c_int,
        start: c_int,
        end: c_int,
    ) -> c_int {
        unsafe {
            let tokens = &mut *context.cast::<Vec<Token>>();
            let bytes = std::slice::from_raw_parts(token.cast::<u8>(), length as usize);
            tokens.push(Token {
                text: String::from_utf8_lossy(bytes).into_owned(),
                start: start as usize,
                end: end as usize,
                colocated: flags & ffi::FTS5_TOKEN_COLOCATED != 0,
            });
        }
        ffi::SQLITE_OK
    }

    /// The tokens of `text`, by the tokenizer FTS5 finds by the name the index gives.
    fn tokens_of(text: &str, flags: c_int) -> Vec<Token> {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let api = fts5_api(&conn).unwrap();
        let mut tokens: Vec<Token> = Vec::new();
        unsafe {
            let mut found = ffi::fts5_tokenizer {
                xCreate: None,
                xDelete: None,
                xTokenize: None,
            };
            let mut data: *mut c_void = ptr::null_mut();
            let rc =
                ((*api).xFindTokenizer.unwrap())(api, c"porter".as_ptr(), &mut data, &mut found);
            assert_eq!(rc, ffi::SQLITE_OK);
            let mut args = [
                c"unicode61".as_ptr(),
                c"remove_diacritics".as_ptr(),
                c"2".as_ptr(),
            ];
            let mut instance: *mut ffi::Fts5Tokenizer = ptr::null_mut();
            assert_eq!(
                (found.xCreate.unwrap())(data, args.as_mut_ptr(), 3, &mut instance),
                ffi::SQLITE_OK
            );
            let rc = (found.xTokenize.unwrap())(
                instance,
                (&mut tokens as *mut Vec<Token>).cast(),
                flags,
                text.as_ptr().cast(),
                text.len() as c_int,
                Some(collect),
            );
            assert_eq!(rc, ffi::SQLITE_OK);
            (found.xDelete.unwrap())(instance);
        }
        tokens
    }

    /// Tokens as `text@start..end`, a colocated one with a `+` before it.
    fn shown(text: &str, flags: c_int) -> Vec<String> {
        tokens_of(text, flags)
            .iter()
            .map(|t| {
                let plus = if t.colocated { "+" } else { "" };
                let text = t.text.replace(CAPITALS_MARK, "^");
                format!("{plus}{text}@{}..{}", t.start, t.end)
            })
            .collect()
    }

    const DOCUMENT: c_int = ffi::FTS5_TOKENIZE_DOCUMENT;
    const QUERY: c_int = ffi::FTS5_TOKENIZE_QUERY;

    #[test]
    fn han_characters_are_single_tokens_with_their_own_offsets() {
        // 台 and 湾 are three bytes each: offsets are those of the text as written.
        assert_eq!(
            shown("台湾问题", DOCUMENT),
            ["台@0..3", "湾@3..6", "问@6..9", "题@9..12"]
        );
        assert_eq!(
            shown("G20峰会 in 北京.", DOCUMENT),
            [
                "g20@0..3",
                "+^g20@0..3",
                "峰@3..6",
                "会@6..9",
                "北@13..16",
                "京@16..19"
            ],
            "a word and the Han characters after it are apart; `in` is a function word"
        );
        assert_eq!(shown("中国的立场", QUERY).len(), 5);
    }

    #[test]
    fn mixed_scripts_keep_unicode61_words_for_the_rest() {
        assert_eq!(
            shown("東京とソウル、한국어", DOCUMENT),
            ["東@0..3", "京@3..6", "とソウル@6..18", "한국어@21..30"],
            "kana and hangul stay runs, as unicode61 keeps them"
        );
        assert_eq!(
            shown("Россия и Китай", DOCUMENT),
            ["россия@0..12", "и@13..15", "китай@16..26"]
        );
    }

    #[test]
    fn case_diacritics_and_stems_fold_as_porter_unicode61_does() {
        assert_eq!(
            shown("Sanctions, SANCTIONED; café Zürich", DOCUMENT),
            [
                "sanction@0..9",
                "sanction@11..21",
                "+^sanction@11..21",
                "cafe@23..28",
                "zurich@29..36"
            ]
        );
        assert_eq!(shown("sanction", QUERY), ["sanction@0..8"]);
    }

    #[test]
    fn function_words_are_left_out_of_text_and_queries() {
        assert_eq!(
            shown("The Belt and Road of theirs, thé", DOCUMENT),
            ["belt@4..8", "road@13..17", "their@21..27", "the@29..33"],
            "`theirs` and `thé` are no function words"
        );
        assert_eq!(shown("Belt and Road", QUERY), ["belt@0..4", "road@9..13"]);
        assert!(shown("the", QUERY).is_empty());
    }

    #[test]
    fn words_in_capitals_get_a_marked_token_that_queries_can_ask_for() {
        assert_eq!(
            shown("the WHO and U.S., Who", DOCUMENT),
            [
                "who@4..7",
                "+^who@4..7",
                "u@12..13",
                "+^u@12..13",
                "s@14..15",
                "+^s@14..15",
                "who@18..21"
            ]
        );
        // A query asks for them with the mark first; offsets count the mark.
        assert_eq!(shown("\u{1}WHO", QUERY), ["^who@1..4"]);
        assert_eq!(shown("\u{1}U S", QUERY), ["^u@1..2", "^s@3..4"]);
        // A document's text is never read as a query, mark or not.
        assert_eq!(shown("\u{1}WHO", DOCUMENT), ["who@1..4", "+^who@1..4"]);
        assert_eq!(
            shown("WHO", QUERY),
            ["who@0..3"],
            "a plain query term matches any case"
        );
    }
}
