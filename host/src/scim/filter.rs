//! SCIM filters (RFC 7644 §3.4.2.2): the syntax tree, its parser, a canonical printer and an
//! evaluator over one resource's JSON.
//!
//! The grammar is the RFC's Figure 1:
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"        ; no nested "[" inside valFilter
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER  ; "not" > "and" > "or", left-associative
//! compValue = false / null / true / number / string   ; JSON (RFC 7159)
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! ATTRNAME  = ALPHA *(nameChar) / "$ref"          ; nameChar = "-" / "_" / DIGIT / ALPHA
//! ```
//!
//! Choices where the RFC leaves room:
//! - Keywords (operators, `and`, `or`, `not`, `pr`, `true`, `false`, `null`) are
//!   case-insensitive; attribute names keep the case they were written in.
//! - Whitespace (space, tab, CR, LF) may be repeated, and may be left out where no word
//!   follows a word (`not(`, `eq"x"`); none is allowed between an attribute and its `[`.
//! - A schema prefix must be a URN (`urn:` NID `:` ...); it is everything up to the last
//!   `:` of the path, so `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` has the
//!   URN `urn:ietf:params:scim:schemas:core:2.0:User`.
//! - Inside `[...]` attributes are sub-attributes of the bracketed attribute, so they take
//!   neither a URN nor a `.sub` of their own; and the bracketed attribute is not itself a
//!   sub-attribute (`emails.value[...]` is rejected).
//! - `gt`/`ge`/`lt`/`le` take a string or a number (RFC: booleans are `invalidFilter`; so is
//!   null here), and `co`/`sw`/`ew` take a string.
//! - `not` followed by an operator or `[` is an attribute called "not", otherwise it needs `(`.
//!
//! A hostile client cannot make parsing slow or deep: input is limited to
//! [`MAX_INPUT_BYTES`], nesting to [`MAX_DEPTH`] and comparisons to [`MAX_COMPARISONS`]; the
//! parser makes one pass without backtracking, and recurses only through a depth check.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};

/// Longest filter or path accepted, in bytes of UTF-8.
pub const MAX_INPUT_BYTES: usize = 4096;
/// Deepest nesting accepted: each `(`, `not (` and `[` opens one level.
pub const MAX_DEPTH: usize = 32;
/// Most attribute expressions (comparisons and `pr`) accepted in one filter.
pub const MAX_COMPARISONS: usize = 64;

/// A parsed SCIM filter.
///
/// [`Display`](fmt::Display) prints a canonical form that [`parse`] turns back into an equal
/// tree, for every tree [`parse`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `path op value`. The value is a JSON string, number, boolean or null.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The operand: a string, a number (i64, u64 or finite f64), a boolean or null.
        value: Value,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `left and right`.
    And(Box<Filter>, Box<Filter>),
    /// `left or right`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `emails[type eq "work" and value co "@cern.ch"]`: the inner filter applies to each
    /// element of `path` (its attributes are sub-attributes of `path`, written without it).
    /// `path` never has a `sub`.
    ValuePath {
        /// The multi-valued (or complex) attribute whose elements are filtered.
        path: AttrPath,
        /// The filter each element is tested with.
        filter: Box<Filter>,
    },
}

/// An attribute reference: `[urn:]name[.sub]`.
///
/// `urn:indigo-dc:scim:schemas:IndigoUser:oidcIds.subject` is `urn` =
/// `urn:indigo-dc:scim:schemas:IndigoUser`, `name` = `oidcIds`, `sub` = `subject`. Names
/// keep their written case; compare them with [`AttrPath::matches_name`] and
/// [`AttrPath::eq_ignore_case`] (RFC 7643 §2.1: attribute names are case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// Schema URN prefix, without the `:` that separates it from `name`.
    pub urn: Option<String>,
    /// The attribute.
    pub name: String,
    /// The sub-attribute of a complex attribute.
    pub sub: Option<String>,
}

/// A comparison operator (RFC 7644 Table 3), `pr` aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains (substring).
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

/// Why a filter or path was rejected: HTTP answers it with a 400 (`invalidFilter` or
/// `invalidPath`) whose detail is `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Character (not byte) offset in the input where it went wrong; at most the input's
    /// length in characters (equal when the input ended too early).
    pub position: usize,
    /// A sentence for a human, naming the position, e.g.
    /// `expected an operator after 'userName' at position 9, found the end of the filter`.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

/// Parses a SCIM filter (the `filter` query parameter or a search body's `filter`).
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    Parser::new(input, Subject::Filter).run(|p| {
        p.skip_ws();
        if p.at_end() {
            return Err(p.error(p.pos, "the filter is empty".to_string()));
        }
        let filter = p.parse_or(None)?;
        p.skip_ws();
        let at = p.pos;
        match p.peek() {
            None => Ok(filter),
            Some(')') => Err(p.error(at, format!("unmatched ')' at position {at}"))),
            Some(']') => Err(p.error(at, format!("unmatched ']' at position {at}"))),
            Some('.') if at > 0 && p.chars[at - 1] == ']' => Err(p.error(
                at,
                format!(
                    "a sub-attribute after ']' is allowed in PATCH paths, not in filters \
                     (position {at})"
                ),
            )),
            Some(_) => Err(p.expected_logical(at, "or the end of the filter")),
        }
    })
}

impl AttrPath {
    /// `name` with neither URN nor sub-attribute.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: None,
        }
    }

    /// This path with the sub-attribute `sub`.
    pub fn with_sub(mut self, sub: impl Into<String>) -> Self {
        self.sub = Some(sub.into());
        self
    }

    /// This path with the schema URN `urn`.
    pub fn with_urn(mut self, urn: impl Into<String>) -> Self {
        self.urn = Some(urn.into());
        self
    }

    /// Parses an attribute path on its own (`sortBy`, `attributes`, `excludedAttributes`).
    pub fn parse(input: &str) -> Result<AttrPath, FilterError> {
        Parser::new(input, Subject::AttrPath).run(|p| {
            p.skip_ws();
            if p.at_end() {
                return Err(p.error(p.pos, "the attribute path is empty".to_string()));
            }
            let path = p.parse_attr_path()?;
            p.skip_ws();
            p.expect_end()?;
            Ok(path)
        })
    }

    /// Whether `name` (ignoring ASCII case) is this path's attribute name.
    pub fn matches_name(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Whether `sub` (ignoring ASCII case) is this path's sub-attribute.
    pub fn matches_sub(&self, sub: &str) -> bool {
        self.sub
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(sub))
    }

    /// Whether `urn` (ignoring ASCII case) is this path's schema URN.
    pub fn matches_urn(&self, urn: &str) -> bool {
        self.urn
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(urn))
    }

    /// Equality ignoring ASCII case in every part: how SCIM compares attribute references.
    pub fn eq_ignore_case(&self, other: &AttrPath) -> bool {
        fn same(a: &Option<String>, b: &Option<String>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
        }
        same(&self.urn, &other.urn)
            && self.name.eq_ignore_ascii_case(&other.name)
            && same(&self.sub, &other.sub)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl CompareOp {
    /// Every operator, in RFC order.
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator's keyword, lower-case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator a keyword names, ignoring ASCII case.
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// `gt`, `ge`, `lt` or `le`: an ordering, which takes a string or a number.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// `co`, `sw` or `ew`: a substring test, which takes a string.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Printing: `or` binds loosest, then `and`; operands that bind looser than their place
// allows get parentheses, and so does the right operand of its own kind, since both are
// left-associative (`a or (b or c)` is a different tree from `a or b or c`).
const PREC_OR: u8 = 0;
const PREC_AND: u8 = 1;
const PREC_ATOM: u8 = 2;

impl Filter {
    fn write(&self, f: &mut fmt::Formatter<'_>, prec: u8) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Or(left, right) => {
                let wrap = prec > PREC_OR;
                if wrap {
                    f.write_str("(")?;
                }
                left.write(f, PREC_OR)?;
                f.write_str(" or ")?;
                right.write(f, PREC_AND)?;
                if wrap {
                    f.write_str(")")?;
                }
                Ok(())
            }
            Filter::And(left, right) => {
                let wrap = prec > PREC_AND;
                if wrap {
                    f.write_str("(")?;
                }
                left.write(f, PREC_AND)?;
                f.write_str(" and ")?;
                right.write(f, PREC_ATOM)?;
                if wrap {
                    f.write_str(")")?;
                }
                Ok(())
            }
            Filter::Not(inner) => {
                f.write_str("not (")?;
                inner.write(f, PREC_OR)?;
                f.write_str(")")
            }
            Filter::ValuePath { path, filter } => {
                write!(f, "{path}[")?;
                filter.write(f, PREC_OR)?;
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Filter {
    /// The canonical form: lower-case keywords, single spaces, parentheses only where the
    /// tree needs them, values as compact JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, PREC_OR)
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation

impl Filter {
    /// The attributes the filter names at its top level (a value path's own attribute, not
    /// the sub-attributes inside its brackets), in order.
    pub fn attributes(&self) -> Vec<&AttrPath> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(f) = stack.pop() {
            match f {
                Filter::Compare { path, .. }
                | Filter::Present(path)
                | Filter::ValuePath { path, .. } => out.push(path),
                Filter::And(a, b) | Filter::Or(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Filter::Not(inner) => stack.push(inner),
            }
        }
        out
    }

    /// Whether `item` (one resource, or one element of a multi-valued attribute when the
    /// filter is a PATCH path's value filter) satisfies the filter, per RFC 7644 §3.4.2.2.
    ///
    /// `case_exact` tells, for a path as written in the filter, whether the attribute is
    /// `caseExact` (RFC 7643 §2.2); inside a [`Filter::ValuePath`] it is asked about the
    /// qualified path (`emails.type` for `emails[type eq "x"]`).
    ///
    /// Semantics, where the RFC leaves room:
    /// - Attribute (and URN) names match JSON member names ignoring ASCII case. With a URN,
    ///   the attribute is looked up in the member named by the URN when it is an object (an
    ///   extension), and at the top level otherwise (the core schema's attributes).
    ///   Without a URN only the top level is looked at.
    /// - Null, `""`, `[]` and `{}` are unassigned (RFC 7643 §2.5). A multi-valued attribute
    ///   yields each of its elements and, with a sub-attribute, each element's sub-attribute.
    /// - A comparison on a multi-valued attribute is true if it holds for any value (the
    ///   RFC's rule). On a complex value without a sub-attribute (`emails co "x"`) the
    ///   value's `value` sub-attribute is compared (RFC 7643 §2.4).
    /// - `pr`: some value is assigned (non-empty string, non-empty array, an object with an
    ///   assigned member, or any number or boolean).
    /// - `eq null` is "not `pr`" and `ne null` is `pr`.
    /// - `ne v` is true when the attribute is unassigned (no value is identical to `v`), or
    ///   when some value is not identical to `v`: per the any-value rule, a multi-valued
    ///   attribute with values `a` and `b` is both `eq "a"` and `ne "a"`. Values of another
    ///   JSON type than `v` are not identical to it.
    /// - Strings compare ignoring case (Unicode lower-casing) unless `case_exact`;
    ///   `co`/`sw`/`ew` need a string value; `gt`/`ge`/`lt`/`le` compare strings
    ///   lexicographically by character (DateTimes are ISO 8601 strings, so in the same
    ///   format and zone that is chronological) and numbers numerically; other pairs (a
    ///   number against a string, a boolean) never match.
    /// - `not` negates, so `not (title eq "x")` holds for a resource without a title.
    pub fn matches(&self, item: &Value, case_exact: &dyn Fn(&AttrPath) -> bool) -> bool {
        match self {
            Filter::And(left, right) => {
                left.matches(item, case_exact) && right.matches(item, case_exact)
            }
            Filter::Or(left, right) => {
                left.matches(item, case_exact) || right.matches(item, case_exact)
            }
            Filter::Not(inner) => !inner.matches(item, case_exact),
            Filter::Present(path) => resolve(item, path).into_iter().any(is_assigned),
            Filter::Compare { path, op, value } => {
                let values = resolve(item, path);
                compare(&values, *op, value, case_exact(path))
            }
            Filter::ValuePath { path, filter } => {
                let qualified = |inner: &AttrPath| {
                    case_exact(&AttrPath {
                        urn: path.urn.clone(),
                        name: path.name.clone(),
                        sub: Some(inner.name.clone()),
                    })
                };
                resolve(item, path)
                    .into_iter()
                    .any(|element| filter.matches(element, &qualified))
            }
        }
    }
}

/// The member of `object` named `name`, ignoring ASCII case (the first one, should two
/// differ only in case).
fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// An array's elements, or the value itself.
fn elements(value: &Value) -> impl Iterator<Item = &Value> {
    let (list, single) = match value {
        Value::Array(list) => (list.as_slice(), None),
        other => (&[][..], Some(other)),
    };
    list.iter().chain(single)
}

/// The values `path` names in `item` (see [`Filter::matches`]).
fn resolve<'a>(item: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let base = match &path.urn {
        Some(urn) => match member(item, urn) {
            Some(extension @ Value::Object(_)) => extension,
            _ => item,
        },
        None => item,
    };
    let Some(attribute) = member(base, &path.name) else {
        return Vec::new();
    };
    match &path.sub {
        None => elements(attribute).collect(),
        Some(sub) => elements(attribute)
            .filter_map(|element| member(element, sub))
            .flat_map(elements)
            .collect(),
    }
}

/// Assigned in the sense of RFC 7643 §2.5 (looking one level into arrays and objects).
fn is_assigned(value: &Value) -> bool {
    fn shallow(value: &Value) -> bool {
        match value {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(list) => !list.is_empty(),
            Value::Object(map) => !map.is_empty(),
            Value::Bool(_) | Value::Number(_) => true,
        }
    }
    match value {
        Value::Array(list) => list.iter().any(shallow),
        Value::Object(map) => map.values().any(shallow),
        other => shallow(other),
    }
}

fn compare(values: &[&Value], op: CompareOp, operand: &Value, exact: bool) -> bool {
    if operand.is_null() {
        let present = values.iter().any(|v| is_assigned(v));
        return match op {
            CompareOp::Eq => !present,
            CompareOp::Ne => present,
            _ => false,
        };
    }
    // A complex value stands for its `value` sub-attribute; unassigned values take no part.
    let simple: Vec<&Value> = values
        .iter()
        .filter_map(|v| {
            if v.is_object() {
                member(v, "value")
            } else {
                Some(v)
            }
        })
        .filter(|v| is_assigned(v))
        .collect();
    match op {
        CompareOp::Eq => simple.iter().any(|v| equal(v, operand, exact)),
        CompareOp::Ne => simple.is_empty() || simple.iter().any(|v| !equal(v, operand, exact)),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            let Some(needle) = operand.as_str() else {
                return false;
            };
            let needle = fold(needle, exact);
            simple.iter().filter_map(|v| v.as_str()).any(|hay| {
                let hay = fold(hay, exact);
                match op {
                    CompareOp::Co => hay.contains(needle.as_str()),
                    CompareOp::Sw => hay.starts_with(needle.as_str()),
                    _ => hay.ends_with(needle.as_str()),
                }
            })
        }
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            simple.iter().any(|v| match order(v, operand, exact) {
                Some(ordering) => match op {
                    CompareOp::Gt => ordering == Ordering::Greater,
                    CompareOp::Ge => ordering != Ordering::Less,
                    CompareOp::Lt => ordering == Ordering::Less,
                    _ => ordering != Ordering::Greater,
                },
                None => false,
            })
        }
    }
}

fn fold(s: &str, exact: bool) -> String {
    if exact {
        s.to_owned()
    } else {
        s.to_lowercase()
    }
}

fn equal(value: &Value, operand: &Value, exact: bool) -> bool {
    match (value, operand) {
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::String(_), Value::String(_)) | (Value::Number(_), Value::Number(_)) => {
            order(value, operand, exact) == Some(Ordering::Equal)
        }
        _ => false,
    }
}

/// Orders two strings (by character, lower-cased unless `exact`) or two numbers.
fn order(value: &Value, operand: &Value, exact: bool) -> Option<Ordering> {
    match (value, operand) {
        (Value::String(a), Value::String(b)) if exact => Some(a.as_str().cmp(b.as_str())),
        (Value::String(a), Value::String(b)) => Some(
            a.chars()
                .flat_map(char::to_lowercase)
                .cmp(b.chars().flat_map(char::to_lowercase)),
        ),
        (Value::Number(a), Value::Number(b)) => order_numbers(a, b),
        _ => None,
    }
}

/// Integers exactly (through i128, which holds every i64 and u64), otherwise as f64.
fn order_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    fn integer(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (integer(a), integer(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

/// What is being parsed, for messages ("the end of the filter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Subject {
    Filter,
    Path,
    AttrPath,
}

impl Subject {
    fn noun(self) -> &'static str {
        match self {
            Subject::Filter => "filter",
            Subject::Path => "path",
            Subject::AttrPath => "attribute path",
        }
    }
}

/// A one-pass recursive-descent parser over the input's characters; shared with
/// [`super::path`], which parses PATCH paths with the same attribute paths and value
/// filters.
pub(super) struct Parser {
    chars: Vec<char>,
    /// The input was longer than [`MAX_INPUT_BYTES`] and `chars` holds only what fits: an
    /// error before its end is still reported, anything else is the length error.
    truncated: bool,
    pub(super) pos: usize,
    depth: usize,
    comparisons: usize,
    subject: Subject,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '$')
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn eq_keyword(word: &[char], keyword: &str) -> bool {
    word.len() == keyword.len()
        && word
            .iter()
            .zip(keyword.chars())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b))
}

/// User text for a message: quoted, and cut short when long.
fn quoted(chars: &[char]) -> String {
    const LONGEST: usize = 40;
    let mut out = String::from("'");
    out.extend(chars.iter().take(LONGEST).flat_map(|c| c.escape_debug()));
    if chars.len() > LONGEST {
        out.push('…');
    }
    out.push('\'');
    out
}

impl Parser {
    pub(super) fn new(input: &str, subject: Subject) -> Self {
        let (text, truncated) = if input.len() > MAX_INPUT_BYTES {
            let mut cut = MAX_INPUT_BYTES;
            while !input.is_char_boundary(cut) {
                cut -= 1;
            }
            (&input[..cut], true)
        } else {
            (input, false)
        };
        Parser {
            chars: text.chars().collect(),
            truncated,
            pos: 0,
            depth: 0,
            comparisons: 0,
            subject,
        }
    }

    /// Runs `parse_all` and applies the length limit. Errors are reported at the first place
    /// the input goes wrong, so too deep a nesting within the first [`MAX_INPUT_BYTES`] is
    /// reported as such even when the input is also too long. An error in the word the cut
    /// fell in, or at the end (every "input ended too early" error is at `chars.len()`),
    /// may be the cut's doing, so it becomes the length error.
    pub(super) fn run<T>(
        mut self,
        parse_all: impl FnOnce(&mut Parser) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        let result = parse_all(&mut self);
        if !self.truncated {
            return result;
        }
        let end = self.chars.len();
        let mut last_word = end;
        while last_word > 0 && is_word_char(self.chars[last_word - 1]) {
            last_word -= 1;
        }
        match result {
            Err(error) if error.position < last_word => Err(error),
            _ => Err(self.error(
                end,
                format!(
                    "the {} is longer than {MAX_INPUT_BYTES} bytes (the limit falls at \
                     position {end})",
                    self.subject.noun()
                ),
            )),
        }
    }

    pub(super) fn error(&self, position: usize, message: String) -> FilterError {
        FilterError { position, message }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    pub(super) fn skip_ws(&mut self) {
        self.pos = self.skip_ws_from(self.pos);
    }

    fn skip_ws_from(&self, mut at: usize) -> usize {
        while self.chars.get(at).is_some_and(|&c| is_ws(c)) {
            at += 1;
        }
        at
    }

    /// End of the run of word characters (attribute-path characters) starting at `from`.
    fn word_end(&self, from: usize) -> usize {
        let mut end = from;
        while self.chars.get(end).is_some_and(|&c| is_word_char(c)) {
            end += 1;
        }
        end
    }

    fn keyword_at(&self, at: usize, keyword: &str) -> bool {
        eq_keyword(&self.chars[at..self.word_end(at)], keyword)
    }

    /// What is at `at`, for "found ..." in messages.
    pub(super) fn describe(&self, at: usize) -> String {
        match self.chars.get(at) {
            None => format!("the end of the {}", self.subject.noun()),
            Some('"') => "a string".to_string(),
            Some(&c) if is_word_char(c) => quoted(&self.chars[at..self.word_end(at)]),
            Some(c) => quoted(&[*c]),
        }
    }

    /// `quoted` for an already-parsed span.
    fn span(&self, from: usize, to: usize) -> String {
        quoted(&self.chars[from..to])
    }

    /// The error after a complete expression when neither `and`/`or` nor what `closer`
    /// names follows.
    fn expected_logical(&self, at: usize, closer: &str) -> FilterError {
        self.error(
            at,
            format!(
                "expected 'and', 'or' {closer} at position {at}, found {}",
                self.describe(at)
            ),
        )
    }

    pub(super) fn expect_end(&self) -> Result<(), FilterError> {
        if self.at_end() {
            return Ok(());
        }
        let at = self.pos;
        Err(self.error(
            at,
            format!(
                "unexpected {} at position {at} after the {}",
                self.describe(at),
                self.subject.noun()
            ),
        ))
    }

    fn enter(&mut self, at: usize) -> Result<(), FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(
                at,
                format!(
                    "{} nested deeper than {MAX_DEPTH} levels at position {at}",
                    self.subject.noun()
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `FILTER`, at the `or` level. `inside` is the bracketed attribute within `[...]`.
    fn parse_or(&mut self, inside: Option<&AttrPath>) -> Result<Filter, FilterError> {
        let mut left = self.parse_and(inside)?;
        loop {
            self.skip_ws();
            if !self.keyword_at(self.pos, "or") {
                return Ok(left);
            }
            self.pos += 2;
            let right = self.parse_and(inside)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
    }

    fn parse_and(&mut self, inside: Option<&AttrPath>) -> Result<Filter, FilterError> {
        let mut left = self.parse_unary(inside)?;
        loop {
            self.skip_ws();
            if !self.keyword_at(self.pos, "and") {
                return Ok(left);
            }
            self.pos += 3;
            let right = self.parse_unary(inside)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
    }

    /// `( FILTER )`, `not ( FILTER )`, an attribute expression or a value path.
    fn parse_unary(&mut self, inside: Option<&AttrPath>) -> Result<Filter, FilterError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some('(') => {
                self.enter(start)?;
                self.pos += 1;
                let inner = self.parse_or(inside)?;
                self.close(')', start, inside)?;
                self.leave();
                Ok(inner)
            }
            Some(c) if c.is_ascii_alphabetic() || c == '$' => {
                if self.keyword_at(start, "not") {
                    let after = start + 3;
                    let next = self.skip_ws_from(after);
                    if self.chars.get(next) == Some(&'(') {
                        self.enter(start)?;
                        self.pos = next + 1;
                        let inner = self.parse_or(inside)?;
                        self.close(')', next, inside)?;
                        self.leave();
                        return Ok(Filter::Not(Box::new(inner)));
                    }
                    // `not` is an attribute name when an operator or '[' follows it.
                    let word = &self.chars[next..self.word_end(next)];
                    let operator = eq_keyword(word, "pr")
                        || CompareOp::ALL
                            .iter()
                            .any(|op| eq_keyword(word, op.as_str()));
                    if !operator && self.chars.get(after) != Some(&'[') {
                        return Err(self.error(
                            next,
                            format!(
                                "expected '(' after 'not' at position {next}, found {}",
                                self.describe(next)
                            ),
                        ));
                    }
                }
                self.parse_attr_expr(inside)
            }
            _ => Err(self.error(
                start,
                format!(
                    "expected an attribute name, '(' or 'not' at position {start}, found {}",
                    self.describe(start)
                ),
            )),
        }
    }

    /// Consumes `closer` (`)` or `]`) closing what was opened at `open`.
    fn close(
        &mut self,
        closer: char,
        open: usize,
        inside: Option<&AttrPath>,
    ) -> Result<(), FilterError> {
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            Some(c) if c == closer => {
                self.pos += 1;
                Ok(())
            }
            None => {
                let opener = if closer == ')' { '(' } else { '[' };
                Err(self.error(
                    at,
                    format!(
                        "expected '{closer}' at position {at} to close the '{opener}' at \
                         position {open}, found the end of the {}",
                        self.subject.noun()
                    ),
                ))
            }
            Some('[') if inside.is_some() => Err(self.nested_bracket(at)),
            Some(_) => Err(self.expected_logical(at, &format!("or '{closer}'"))),
        }
    }

    fn nested_bracket(&self, at: usize) -> FilterError {
        self.error(
            at,
            format!("value filters cannot be nested: unexpected '[' at position {at}"),
        )
    }

    /// `attrPath pr`, `attrPath op value` or `attrPath[valFilter]`.
    fn parse_attr_expr(&mut self, inside: Option<&AttrPath>) -> Result<Filter, FilterError> {
        let start = self.pos;
        let path = self.parse_attr_path()?;
        if self.peek() == Some('[') {
            if inside.is_some() {
                return Err(self.nested_bracket(self.pos));
            }
            let filter = self.parse_bracket(&path)?;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }
        if let Some(outer) = inside {
            self.check_relative(&path, outer, start)?;
        }
        let path_end = self.pos;
        self.skip_ws();
        let at = self.pos;
        let end = self.word_end(at);
        let written = self.span(start, path_end);
        if self.peek() == Some('[') {
            return Err(self.error(
                at,
                format!("unexpected space between {written} and '[' at position {path_end}"),
            ));
        }
        if end == at {
            return Err(self.error(
                at,
                format!(
                    "expected an operator after {written} at position {at}, found {}",
                    self.describe(at)
                ),
            ));
        }
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(self.error(
                start,
                format!(
                    "{} has more than {MAX_COMPARISONS} comparisons (position {start})",
                    self.subject.noun()
                ),
            ));
        }
        let word = &self.chars[at..end];
        if eq_keyword(word, "pr") {
            self.pos = end;
            self.reject_value_after_pr()?;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::ALL
            .into_iter()
            .find(|op| eq_keyword(word, op.as_str()))
        else {
            return Err(self.error(
                at,
                format!(
                    "unknown operator {} after {written} at position {at}; expected eq, ne, \
                     co, sw, ew, gt, ge, lt, le or pr",
                    self.span(at, end)
                ),
            ));
        };
        self.pos = end;
        let value = self.parse_value(op)?;
        Ok(Filter::Compare { path, op, value })
    }

    /// Inside `[...]` an attribute is a plain sub-attribute name of the bracketed one.
    fn check_relative(
        &self,
        path: &AttrPath,
        outer: &AttrPath,
        start: usize,
    ) -> Result<(), FilterError> {
        if path.urn.is_some() {
            return Err(self.error(
                start,
                format!(
                    "inside '{outer}[...]' attributes are sub-attributes of '{outer}' and take \
                     no schema URN (position {start})"
                ),
            ));
        }
        if path.sub.is_some() {
            let dot = start + path.name.chars().count();
            return Err(self.error(
                dot,
                format!(
                    "inside '{outer}[...]' attributes are sub-attributes of '{outer}' and have \
                     no sub-attributes of their own: unexpected '.' at position {dot}"
                ),
            ));
        }
        Ok(())
    }

    fn reject_value_after_pr(&self) -> Result<(), FilterError> {
        let at = self.skip_ws_from(self.pos);
        let looks_like_value = match self.chars.get(at) {
            Some(&c) => {
                c == '"'
                    || c == '-'
                    || c.is_ascii_digit()
                    || ["true", "false", "null"]
                        .iter()
                        .any(|literal| self.keyword_at(at, literal))
            }
            None => false,
        };
        if looks_like_value {
            return Err(self.error(
                at,
                format!(
                    "'pr' takes no value, found {} at position {at}",
                    self.describe(at)
                ),
            ));
        }
        Ok(())
    }

    /// `[valFilter]` after `path`, at the `[`; returns the inner filter.
    pub(super) fn parse_bracket(&mut self, path: &AttrPath) -> Result<Filter, FilterError> {
        let open = self.pos;
        if path.sub.is_some() {
            return Err(self.error(
                open,
                format!(
                    "'[...]' selects values of a multi-valued attribute, not of the \
                     sub-attribute '{path}' (position {open})"
                ),
            ));
        }
        self.enter(open)?;
        self.pos += 1;
        let inner = self.parse_or(Some(path))?;
        self.close(']', open, Some(path))?;
        self.leave();
        Ok(inner)
    }

    /// `attrPath`: `[URN ":"] name ["." sub]`, at its first character.
    pub(super) fn parse_attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '$' => {}
            _ => {
                return Err(self.error(
                    start,
                    format!(
                        "expected an attribute name at position {start}, found {}",
                        self.describe(start)
                    ),
                ));
            }
        }
        let end = self.word_end(start);
        let (urn, name_start) = match (start..end).rev().find(|&i| self.chars[i] == ':') {
            Some(colon) => {
                self.check_urn(start, colon)?;
                (Some(self.chars[start..colon].iter().collect()), colon + 1)
            }
            None => (None, start),
        };
        let dot = (name_start..end).find(|&i| self.chars[i] == '.');
        let name_end = dot.unwrap_or(end);
        self.check_name(name_start, name_end, "an attribute")?;
        let name = self.chars[name_start..name_end].iter().collect();
        let sub = match dot {
            None => None,
            Some(dot) => {
                let sub_end = (dot + 1..end)
                    .find(|&i| self.chars[i] == '.')
                    .unwrap_or(end);
                self.check_name(dot + 1, sub_end, "a sub-attribute")?;
                if sub_end < end {
                    return Err(self.error(
                        sub_end,
                        format!(
                            "an attribute path has at most one sub-attribute: unexpected '.' \
                             at position {sub_end}"
                        ),
                    ));
                }
                Some(self.chars[dot + 1..end].iter().collect())
            }
        };
        self.pos = end;
        Ok(AttrPath { urn, name, sub })
    }

    /// `"." sub` after a PATCH path's `]`, at the `.`.
    pub(super) fn parse_sub_attr(&mut self) -> Result<String, FilterError> {
        let start = self.pos + 1;
        let end = self.word_end(start);
        let name_end = (start..end)
            .find(|&i| matches!(self.chars[i], '.' | ':'))
            .unwrap_or(end);
        self.check_name(start, name_end, "a sub-attribute")?;
        if name_end < end {
            return Err(self.error(
                name_end,
                format!(
                    "unexpected {} at position {name_end} after the sub-attribute",
                    quoted(&[self.chars[name_end]])
                ),
            ));
        }
        self.pos = end;
        Ok(self.chars[start..end].iter().collect())
    }

    /// `ATTRNAME = ALPHA *(nameChar)`, or `$ref`; `what` is "an attribute" or "a sub-attribute".
    fn check_name(&self, from: usize, to: usize, what: &str) -> Result<(), FilterError> {
        let name = &self.chars[from..to];
        if name.is_empty() {
            return Err(self.error(
                from,
                format!(
                    "expected {what} name at position {from}, found {}",
                    self.describe(from)
                ),
            ));
        }
        if eq_keyword(name, "$ref") {
            return Ok(());
        }
        if let Some(offset) = name.iter().position(|&c| c == '$') {
            let at = from + offset;
            return Err(self.error(
                at,
                format!("'$' at position {at}: only the attribute name '$ref' may contain it"),
            ));
        }
        if !name[0].is_ascii_alphabetic() {
            return Err(self.error(
                from,
                format!(
                    "attribute names start with a letter: found {} at position {from}",
                    self.span(from, to)
                ),
            ));
        }
        Ok(())
    }

    /// A schema URN prefix, `start..colon`: `urn` ":" NID *(":" part), each part non-empty
    /// and of letters, digits, `-`, `.` and `_`.
    fn check_urn(&self, start: usize, colon: usize) -> Result<(), FilterError> {
        let first_end = (start..colon)
            .find(|&i| self.chars[i] == ':')
            .unwrap_or(colon);
        if !eq_keyword(&self.chars[start..first_end], "urn") || first_end == colon {
            return Err(self.error(
                start,
                format!(
                    "a schema prefix must be a URN ('urn:' namespace ':' ...): found {} at \
                     position {start}",
                    self.span(start, colon)
                ),
            ));
        }
        let mut part_start = first_end + 1;
        for i in first_end + 1..=colon {
            let c = self.chars[i];
            if c == ':' {
                if i == part_start {
                    return Err(
                        self.error(i, format!("empty part in the schema URN at position {i}"))
                    );
                }
                part_start = i + 1;
            } else if !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
                return Err(self.error(
                    i,
                    format!(
                        "unexpected {} in the schema URN at position {i}",
                        quoted(&[c])
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `compValue` after `op`, with the operator's constraints on it.
    fn parse_value(&mut self, op: CompareOp) -> Result<Value, FilterError> {
        self.skip_ws();
        let at = self.pos;
        let value = match self.peek() {
            Some('"') => Value::String(self.parse_string()?),
            Some(c) if c == '-' || c.is_ascii_digit() => Value::Number(self.parse_number()?),
            Some(c) if c.is_ascii_alphabetic() => {
                let end = self.word_end(at);
                let word = &self.chars[at..end];
                let value = if eq_keyword(word, "true") {
                    Value::Bool(true)
                } else if eq_keyword(word, "false") {
                    Value::Bool(false)
                } else if eq_keyword(word, "null") {
                    Value::Null
                } else {
                    return Err(self.error(
                        at,
                        format!(
                            "expected a value after '{op}' at position {at} (a string in \
                             double quotes, a number, true, false or null), found {}",
                            self.describe(at)
                        ),
                    ));
                };
                self.pos = end;
                value
            }
            _ => {
                return Err(self.error(
                    at,
                    format!(
                        "expected a value after '{op}' at position {at} (a string in double \
                         quotes, a number, true, false or null), found {}",
                        self.describe(at)
                    ),
                ));
            }
        };
        if op.is_ordering() && !(value.is_string() || value.is_number()) {
            return Err(self.error(
                at,
                format!("'{op}' compares strings, numbers and dates, not {value} (position {at})"),
            ));
        }
        if op.is_substring() && !value.is_string() {
            return Err(self.error(
                at,
                format!("'{op}' needs a string, not {value} (position {at})"),
            ));
        }
        Ok(value)
    }

    fn unterminated_string(&self, open: usize) -> FilterError {
        let end = self.chars.len();
        self.error(
            end,
            format!(
                "the string starting at position {open} is not terminated: expected '\"' at \
                 position {end}"
            ),
        )
    }

    /// A JSON string, at its opening quote; returns its decoded text.
    fn parse_string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.unterminated_string(open));
            };
            let at = self.pos;
            self.pos += 1;
            match c {
                '"' => return Ok(text),
                '\\' => text.push(self.parse_escape(open, at)?),
                c if (c as u32) < 0x20 => {
                    return Err(self.error(
                        at,
                        format!(
                            "control character U+{:04X} at position {at} must be escaped in a \
                             string",
                            c as u32
                        ),
                    ));
                }
                c => text.push(c),
            }
        }
    }

    /// The escape whose `\` is at `at` (already consumed).
    fn parse_escape(&mut self, open: usize, at: usize) -> Result<char, FilterError> {
        let Some(c) = self.peek() else {
            return Err(self.unterminated_string(open));
        };
        self.pos += 1;
        let simple = match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.parse_unicode_escape(open, at),
            other => {
                return Err(self.error(
                    at,
                    format!(
                        "invalid escape {} at position {at}; JSON strings allow \\\" \\\\ \\/ \
                         \\b \\f \\n \\r \\t and \\uXXXX",
                        quoted(&['\\', other])
                    ),
                ));
            }
        };
        Ok(simple)
    }

    /// `\uXXXX` (a surrogate pair when it is a high surrogate), after the `u`.
    fn parse_unicode_escape(&mut self, open: usize, at: usize) -> Result<char, FilterError> {
        let lone = |p: &Parser| {
            p.error(
                at,
                format!(
                    "unpaired surrogate in the escape at position {at}: a \\uD800-\\uDBFF \
                     escape must be followed by a \\uDC00-\\uDFFF one"
                ),
            )
        };
        let high = self.hex4(open, at)?;
        let code = match high {
            0xD800..=0xDBFF => {
                match (self.peek(), self.chars.get(self.pos + 1)) {
                    (None, _) | (Some('\\'), None) => return Err(self.unterminated_string(open)),
                    (Some('\\'), Some('u')) => self.pos += 2,
                    _ => return Err(lone(self)),
                }
                let low = self.hex4(open, self.pos - 2)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(lone(self));
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(lone(self)),
            other => other,
        };
        char::from_u32(code).ok_or_else(|| lone(self))
    }

    fn hex4(&mut self, open: usize, at: usize) -> Result<u32, FilterError> {
        let mut code = 0;
        for _ in 0..4 {
            let Some(c) = self.peek() else {
                return Err(self.unterminated_string(open));
            };
            let Some(digit) = c.to_digit(16) else {
                return Err(self.error(
                    at,
                    format!("invalid escape at position {at}: \\u needs four hex digits"),
                ));
            };
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    /// A JSON number, at its first character. Integers that fit stay integers (i64/u64),
    /// others become f64, parsed exactly so that printing and re-parsing give the same value.
    fn parse_number(&mut self) -> Result<Number, FilterError> {
        let start = self.pos;
        let digit_at = |i: usize| self.chars.get(i).is_some_and(|c| c.is_ascii_digit());
        let skip_digits = |mut i: usize| {
            while digit_at(i) {
                i += 1;
            }
            i
        };
        let expected_digit = |i: usize, after: &str| {
            self.error(
                i,
                format!(
                    "expected a digit after {after} at position {i}, found {}",
                    self.describe(i)
                ),
            )
        };
        let mut i = start;
        if self.chars[i] == '-' {
            i += 1;
        }
        if !digit_at(i) {
            return Err(expected_digit(i, "'-'"));
        }
        let int_start = i;
        i = skip_digits(i);
        if self.chars[int_start] == '0' && i > int_start + 1 {
            return Err(self.error(
                int_start,
                format!("numbers have no leading zeros (position {int_start})"),
            ));
        }
        let mut integer = true;
        if self.chars.get(i) == Some(&'.') {
            integer = false;
            if !digit_at(i + 1) {
                return Err(expected_digit(i + 1, "the decimal point"));
            }
            i = skip_digits(i + 1);
        }
        if matches!(self.chars.get(i), Some('e' | 'E')) {
            integer = false;
            i += 1;
            if matches!(self.chars.get(i), Some('+' | '-')) {
                i += 1;
            }
            if !digit_at(i) {
                return Err(expected_digit(i, "the exponent"));
            }
            i = skip_digits(i);
        }
        if self.chars.get(i).is_some_and(|&c| is_word_char(c)) {
            return Err(self.error(
                i,
                format!(
                    "unexpected {} after the number at position {i} (strings, dates \
                     included, go in double quotes)",
                    self.describe(i)
                ),
            ));
        }
        let text: String = self.chars[start..i].iter().collect();
        let exact = if integer {
            text.parse::<i64>()
                .map(Number::from)
                .or_else(|_| text.parse::<u64>().map(Number::from))
                .ok()
        } else {
            None
        };
        let number = match exact {
            Some(number) => number,
            None => text
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .ok_or_else(|| {
                    self.error(start, format!("number out of range at position {start}"))
                })?,
        };
        self.pos = i;
        Ok(number)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn attr(name: &str) -> AttrPath {
        AttrPath::new(name)
    }

    fn sub(name: &str, sub: &str) -> AttrPath {
        AttrPath::new(name).with_sub(sub)
    }

    fn cmp(path: AttrPath, op: CompareOp, value: Value) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn pr(path: AttrPath) -> Filter {
        Filter::Present(path)
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn vp(path: AttrPath, filter: Filter) -> Filter {
        Filter::ValuePath {
            path,
            filter: Box::new(filter),
        }
    }

    const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    /// Parses, and checks that the canonical form parses back to the same tree.
    fn parsed(input: &str) -> Filter {
        let filter = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let printed = filter.to_string();
        assert_eq!(
            parse(&printed).as_ref(),
            Ok(&filter),
            "{input:?} printed as {printed:?}"
        );
        filter
    }

    #[test]
    fn rfc_7644_figure_2_examples() {
        use CompareOp::*;
        let cases = [
            (
                r#"userName eq "bjensen""#,
                cmp(attr("userName"), Eq, json!("bjensen")),
            ),
            (
                r#"name.familyName co "O'Malley""#,
                cmp(sub("name", "familyName"), Co, json!("O'Malley")),
            ),
            (r#"userName sw "J""#, cmp(attr("userName"), Sw, json!("J"))),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
                cmp(attr("userName").with_urn(CORE_USER), Sw, json!("J")),
            ),
            ("title pr", pr(attr("title"))),
            (
                r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
                cmp(
                    sub("meta", "lastModified"),
                    Gt,
                    json!("2011-05-13T04:42:34Z"),
                ),
            ),
            (
                r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
                cmp(
                    sub("meta", "lastModified"),
                    Ge,
                    json!("2011-05-13T04:42:34Z"),
                ),
            ),
            (
                r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
                cmp(
                    sub("meta", "lastModified"),
                    Lt,
                    json!("2011-05-13T04:42:34Z"),
                ),
            ),
            (
                r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
                cmp(
                    sub("meta", "lastModified"),
                    Le,
                    json!("2011-05-13T04:42:34Z"),
                ),
            ),
            (
                r#"title pr and userType eq "Employee""#,
                and(
                    pr(attr("title")),
                    cmp(attr("userType"), Eq, json!("Employee")),
                ),
            ),
            (
                r#"title pr or userType eq "Intern""#,
                or(
                    pr(attr("title")),
                    cmp(attr("userType"), Eq, json!("Intern")),
                ),
            ),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                cmp(
                    attr("schemas"),
                    Eq,
                    json!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                ),
            ),
            (
                r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
                and(
                    cmp(attr("userType"), Eq, json!("Employee")),
                    or(
                        cmp(attr("emails"), Co, json!("example.com")),
                        cmp(sub("emails", "value"), Co, json!("example.org")),
                    ),
                ),
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                and(
                    cmp(attr("userType"), Ne, json!("Employee")),
                    not(or(
                        cmp(attr("emails"), Co, json!("example.com")),
                        cmp(sub("emails", "value"), Co, json!("example.org")),
                    )),
                ),
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                and(
                    cmp(attr("userType"), Eq, json!("Employee")),
                    cmp(sub("emails", "type"), Eq, json!("work")),
                ),
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
                and(
                    cmp(attr("userType"), Eq, json!("Employee")),
                    vp(
                        attr("emails"),
                        and(
                            cmp(attr("type"), Eq, json!("work")),
                            cmp(attr("value"), Co, json!("@example.com")),
                        ),
                    ),
                ),
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
                or(
                    vp(
                        attr("emails"),
                        and(
                            cmp(attr("type"), Eq, json!("work")),
                            cmp(attr("value"), Co, json!("@example.com")),
                        ),
                    ),
                    vp(
                        attr("ims"),
                        and(
                            cmp(attr("type"), Eq, json!("xmpp")),
                            cmp(attr("value"), Co, json!("@foo.com")),
                        ),
                    ),
                ),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parsed(input), expected, "{input}");
        }
    }

    #[test]
    fn accepted_inputs() {
        use CompareOp::*;
        let indigo = "urn:indigo-dc:scim:schemas:IndigoUser";
        let cases = [
            // Keywords in any case; names keep theirs.
            (r#"UserName EQ "x""#, cmp(attr("UserName"), Eq, json!("x"))),
            ("title PR", pr(attr("title"))),
            (
                "a Pr AND b pR Or NOT (c pr)",
                or(and(pr(attr("a")), pr(attr("b"))), not(pr(attr("c")))),
            ),
            // Values.
            ("active eq true", cmp(attr("active"), Eq, json!(true))),
            ("active eq FALSE", cmp(attr("active"), Eq, json!(false))),
            ("manager eq null", cmp(attr("manager"), Eq, Value::Null)),
            ("x ne null", cmp(attr("x"), Ne, Value::Null)),
            ("n gt 42", cmp(attr("n"), Gt, json!(42))),
            ("n le -7", cmp(attr("n"), Le, json!(-7))),
            ("n eq 0", cmp(attr("n"), Eq, json!(0))),
            ("n lt 1.5e3", cmp(attr("n"), Lt, json!(1500.0))),
            ("n lt 2.25", cmp(attr("n"), Lt, json!(2.25))),
            ("n lt -0.5E-2", cmp(attr("n"), Lt, json!(-0.005))),
            (
                "n eq 18446744073709551615",
                cmp(attr("n"), Eq, json!(u64::MAX)),
            ),
            (
                "n eq -9223372036854775808",
                cmp(attr("n"), Eq, json!(i64::MIN)),
            ),
            (
                "n eq 18446744073709551616",
                cmp(attr("n"), Eq, json!(18446744073709551616.0)),
            ),
            (
                r#"displayName eq "Cl\u00e9ment \"C\" \\ \/ \t""#,
                cmp(attr("displayName"), Eq, json!("Clément \"C\" \\ / \t")),
            ),
            (
                r#"x eq "\ud83d\ude00 é""#,
                cmp(attr("x"), Eq, json!("😀 é")),
            ),
            (r#"x eq """#, cmp(attr("x"), Eq, json!(""))),
            // Paths: URNs, sub-attributes, $ref, digits, '-' and '_'.
            (
                r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds.subject eq "abc""#,
                cmp(sub("oidcIds", "subject").with_urn(indigo), Eq, json!("abc")),
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x""#,
                cmp(
                    sub("name", "familyName").with_urn(CORE_USER),
                    Eq,
                    json!("x"),
                ),
            ),
            (
                r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds[issuer eq "https://x"]"#,
                vp(
                    attr("oidcIds").with_urn(indigo),
                    cmp(attr("issuer"), Eq, json!("https://x")),
                ),
            ),
            ("members.$ref pr", pr(sub("members", "$ref"))),
            (
                r#"groups[$ref sw "https://"]"#,
                vp(attr("groups"), cmp(attr("$ref"), Sw, json!("https://"))),
            ),
            (
                "a-b_c9.d_e-1 pr",
                pr(AttrPath::new("a-b_c9").with_sub("d_e-1")),
            ),
            // Whitespace is lenient; words that are keywords elsewhere are attributes here.
            (" \t( a pr )\n", pr(attr("a"))),
            (r#"x eq"y""#, cmp(attr("x"), Eq, json!("y"))),
            ("not(a pr)", not(pr(attr("a")))),
            ("not pr", pr(attr("not"))),
            (r#"not eq "x""#, cmp(attr("not"), Eq, json!("x"))),
            ("not[pr pr]", vp(attr("not"), pr(attr("pr")))),
            ("and pr and or pr", and(pr(attr("and")), pr(attr("or")))),
            ("eq eq 1", cmp(attr("eq"), Eq, json!(1))),
            // Parentheses and brackets.
            ("((((a pr))))", pr(attr("a"))),
            (
                "emails[not (type pr) or (value pr)]",
                vp(attr("emails"), or(not(pr(attr("type"))), pr(attr("value")))),
            ),
            ("emails[ type pr ]", vp(attr("emails"), pr(attr("type")))),
        ];
        for (input, expected) in cases {
            assert_eq!(parsed(input), expected, "{input}");
        }
    }

    #[test]
    fn precedence_and_associativity() {
        let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| pr(attr(n)));
        let cases = [
            // and binds tighter than or.
            (
                "a pr or b pr and c pr",
                or(a.clone(), and(b.clone(), c.clone())),
            ),
            (
                "a pr and b pr or c pr",
                or(and(a.clone(), b.clone()), c.clone()),
            ),
            // Left-associative.
            (
                "a pr or b pr or c pr",
                or(or(a.clone(), b.clone()), c.clone()),
            ),
            (
                "a pr and b pr and c pr",
                and(and(a.clone(), b.clone()), c.clone()),
            ),
            // Parentheses override.
            (
                "a pr or (b pr or c pr)",
                or(a.clone(), or(b.clone(), c.clone())),
            ),
            (
                "(a pr or b pr) and c pr",
                and(or(a.clone(), b.clone()), c.clone()),
            ),
            (
                "a pr and (b pr and c pr)",
                and(a.clone(), and(b.clone(), c.clone())),
            ),
            // not applies to its parenthesised operand only.
            ("not (a pr) and b pr", and(not(a.clone()), b.clone())),
            (
                "a pr or b pr and not (c pr or d pr)",
                or(a.clone(), and(b.clone(), not(or(c.clone(), d.clone())))),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parsed(input), expected, "{input}");
        }
    }

    #[test]
    fn canonical_printing() {
        let cases = [
            (r#"userName  EQ  "bjensen""#, r#"userName eq "bjensen""#),
            ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
            ("(a pr or b pr) or c pr", "a pr or b pr or c pr"),
            ("(a pr and b pr) or c pr", "a pr and b pr or c pr"),
            ("a pr and (b pr or c pr)", "a pr and (b pr or c pr)"),
            ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
            ("NOT(a pr)", "not (a pr)"),
            (r#"x eq "\u00e9\n""#, r#"x eq "é\n""#),
            ("n gt 1E2", "n gt 100.0"),
            ("e[(t pr)]", "e[t pr]"),
        ];
        for (input, expected) in cases {
            assert_eq!(parsed(input).to_string(), expected, "{input}");
        }
    }

    /// Rejections, with where they went wrong and a fragment of the message.
    #[test]
    fn rejected_inputs() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "the filter is empty"),
            ("   ", 3, "the filter is empty"),
            (
                "userName",
                8,
                "expected an operator after 'userName' at position 8, found the end",
            ),
            (
                r#"userName "x""#,
                9,
                "expected an operator after 'userName' at position 9",
            ),
            ("userName eqq \"x\"", 9, "unknown operator 'eqq'"),
            ("userName eq", 11, "expected a value after 'eq'"),
            ("userName eq bjensen", 12, "a string in double quotes"),
            (r#"title pr "x""#, 9, "'pr' takes no value"),
            ("title pr true", 9, "'pr' takes no value"),
            ("title pr 3", 9, "'pr' takes no value"),
            (r#"userName eq "bjensen"#, 20, "not terminated"),
            (r#"x eq "a\q""#, 7, "invalid escape"),
            (r#"x eq "\u00g1""#, 6, "four hex digits"),
            (r#"x eq "\ud800""#, 6, "unpaired surrogate"),
            (r#"x eq "\ud800\u0041""#, 6, "unpaired surrogate"),
            (r#"x eq "\udc00""#, 6, "unpaired surrogate"),
            ("x eq \"a\nb\"", 7, "control character U+000A"),
            ("x eq 01", 5, "leading zeros"),
            ("x eq 1.", 7, "after the decimal point"),
            ("x eq 1e", 7, "after the exponent"),
            ("x eq -", 6, "after '-'"),
            ("x eq 12abc", 7, "unexpected 'abc' after the number"),
            ("x eq 1e400", 5, "out of range"),
            ("x eq trueish", 5, "expected a value"),
            (
                "x gt true",
                5,
                "'gt' compares strings, numbers and dates, not true",
            ),
            ("x ge false", 5, "'ge'"),
            ("x lt null", 5, "'lt'"),
            ("x le true", 5, "'le'"),
            ("x co 3", 5, "'co' needs a string"),
            ("x sw true", 5, "'sw' needs a string"),
            ("x ew null", 5, "'ew' needs a string"),
            (
                "a pr b pr",
                5,
                "expected 'and', 'or' or the end of the filter at position 5, found 'b'",
            ),
            ("a pr andb pr", 5, "found 'andb'"),
            (
                "a pr and",
                8,
                "expected an attribute name, '(' or 'not' at position 8",
            ),
            ("a pr or )", 8, "expected an attribute name"),
            ("a pr or or b pr", 11, "unknown operator 'b' after 'or'"),
            (
                "(a pr",
                5,
                "expected ')' at position 5 to close the '(' at position 0",
            ),
            ("a pr)", 4, "unmatched ')'"),
            ("()", 1, "expected an attribute name"),
            ("not a pr", 4, "expected '(' after 'not'"),
            (
                "not",
                3,
                "expected '(' after 'not' at position 3, found the end",
            ),
            ("not (a pr", 9, "to close the '(' at position 4"),
            (
                "emails[type pr",
                14,
                "expected ']' at position 14 to close the '[' at position 6",
            ),
            ("emails[", 7, "expected an attribute name"),
            (
                "emails]",
                6,
                "expected an operator after 'emails' at position 6, found ']'",
            ),
            ("emails[type pr]]", 15, "unmatched ']'"),
            (
                "emails[type[value pr]]",
                11,
                "value filters cannot be nested",
            ),
            ("emails[(type pr]", 15, "expected 'and', 'or' or ')'"),
            ("emails[(type pr) or x[y pr]]", 21, "cannot be nested"),
            ("emails[type pr)", 14, "or ']'"),
            ("emails [type pr]", 7, "unexpected space"),
            (
                "emails[type pr].value eq 1",
                15,
                "allowed in PATCH paths, not in filters",
            ),
            (
                "emails.value[type pr]",
                12,
                "not of the sub-attribute 'emails.value'",
            ),
            ("emails[type.x pr]", 11, "no sub-attributes of their own"),
            ("emails[urn:a:b:type pr]", 7, "no schema URN"),
            ("a.b.c pr", 3, "at most one sub-attribute"),
            ("a. pr", 2, "expected a sub-attribute name"),
            (
                "1a pr",
                0,
                "expected an attribute name, '(' or 'not' at position 0, found '1a'",
            ),
            ("a.1b pr", 2, "start with a letter"),
            ("$foo pr", 0, "'$ref'"),
            ("a$ pr", 1, "'$ref'"),
            ("foo:bar pr", 0, "must be a URN"),
            ("urn:userName pr", 0, "must be a URN"),
            ("urn::x:a pr", 4, "empty part"),
            ("urn:a$:x pr", 5, "in the schema URN"),
            ("urn:a:b: pr", 8, "expected an attribute name at position 8"),
            ("x eq \"a\" \"b\"", 9, "found a string"),
            ("é pr", 0, "found 'é'"),
            ("a pr & b pr", 5, "found '&'"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|&(input, position, fragment)| match parse(input) {
                Err(e) if e.position == position && e.message.contains(fragment) => None,
                other => Some(format!(
                    "{input:?} → {other:?}, not {position} {fragment:?}"
                )),
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let error = parse(r#"x eq "ééé" y"#).unwrap_err();
        assert_eq!(error.position, 11);
    }

    #[test]
    fn nesting_limit() {
        let within = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&within), Ok(pr(attr("a"))));
        let beyond = format!(
            "{}a pr{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        let error = parse(&beyond).unwrap_err();
        assert_eq!(error.position, MAX_DEPTH);
        assert!(
            error.message.contains("nested deeper than 32 levels"),
            "{error}"
        );

        // not and brackets count as levels too.
        let nots = format!("{}a pr{}", "not (".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&nots).is_ok());
        let nots = format!(
            "{}e[a pr]{}",
            "not (".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert_eq!(parse(&nots).unwrap_err().position, 5 * MAX_DEPTH + 1);
    }

    #[test]
    fn hostile_nesting_fails_fast() {
        let started = Instant::now();
        for input in [
            "(".repeat(100_000),
            "not (".repeat(100_000),
            "not(".repeat(100_000),
            format!("e[{}", "(".repeat(100_000)),
            format!("{}a pr{}", "(".repeat(2000), ")".repeat(2000)),
        ] {
            let error = parse(&input).unwrap_err();
            assert!(error.message.contains("nested deeper"), "{error}");
            assert!(error.position < 200);
        }
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn comparison_limit() {
        let within = vec!["a pr"; MAX_COMPARISONS].join(" and ");
        assert!(parse(&within).is_ok());
        let beyond = vec!["a pr"; MAX_COMPARISONS + 1].join(" or ");
        let error = parse(&beyond).unwrap_err();
        assert_eq!(error.position, MAX_COMPARISONS * "a pr or ".len());
        assert!(
            error.message.contains("more than 64 comparisons"),
            "{error}"
        );
        // Comparisons inside brackets count.
        let inner = vec!["t pr"; MAX_COMPARISONS].join(" and ");
        assert!(parse(&format!("e[{inner}]")).is_ok());
        assert!(parse(&format!("a pr and e[{inner}]")).is_err());
    }

    #[test]
    fn length_limit() {
        // Exactly at the limit is fine.
        let padding = " ".repeat(MAX_INPUT_BYTES - "a pr".len());
        assert!(parse(&format!("a pr{padding}")).is_ok());
        let error = parse(&format!("a pr{padding} ")).unwrap_err();
        assert_eq!(error.position, MAX_INPUT_BYTES);
        assert!(error.message.contains("longer than 4096 bytes"), "{error}");

        // Cut inside a word, a string, an escape or a multi-byte character: the length
        // error, not a syntax error the cut made up.
        for tail in [
            "userName eq \"x\"",
            "x eq \"\\u00e9\"",
            "x eq \"ééééééééé\"",
            "x eq 12345.5e7",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName pr",
            "$ref pr",
        ] {
            for shift in 0..tail.len() {
                let input = format!(
                    "{}a pr and {tail}",
                    " ".repeat(MAX_INPUT_BYTES - "a pr and ".len() - shift)
                );
                let error = parse(&input).unwrap_err();
                assert!(
                    error.message.contains("longer than"),
                    "{tail:?} shifted {shift}: {error}"
                );
            }
        }

        // A real error before the limit is still reported.
        let input = format!("a pr b{}", " ".repeat(10_000));
        assert_eq!(parse(&input).unwrap_err().position, 5);
        // Huge inputs are not read past the limit.
        let huge = "a".repeat(10_000_000);
        let started = Instant::now();
        assert_eq!(parse(&huge).unwrap_err().position, MAX_INPUT_BYTES);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn attr_path_parse_and_helpers() {
        let path =
            AttrPath::parse("urn:indigo-dc:scim:schemas:IndigoUser:oidcIds.subject").unwrap();
        assert_eq!(
            path,
            sub("oidcIds", "subject").with_urn("urn:indigo-dc:scim:schemas:IndigoUser")
        );
        assert!(path.matches_name("OIDCIDS"));
        assert!(path.matches_sub("Subject"));
        assert!(path.matches_urn("URN:INDIGO-DC:scim:schemas:indigouser"));
        assert!(!path.matches_name("oidcId"));
        assert!(path.eq_ignore_case(
            &AttrPath::parse("URN:indigo-dc:scim:schemas:indigouser:OIDCIDS.SUBJECT").unwrap()
        ));
        assert!(!path.eq_ignore_case(&sub("oidcIds", "subject")));
        assert_eq!(
            path.to_string(),
            "urn:indigo-dc:scim:schemas:IndigoUser:oidcIds.subject"
        );
        assert_eq!(
            AttrPath::parse(" meta.created "),
            Ok(sub("meta", "created"))
        );
        let error = AttrPath::parse("meta created").unwrap_err();
        assert_eq!(error.position, 5);
        assert!(
            error.message.contains("after the attribute path"),
            "{error}"
        );
        assert_eq!(AttrPath::parse("").unwrap_err().position, 0);
        assert_eq!(CompareOp::from_keyword("Ge"), Some(CompareOp::Ge));
        assert_eq!(CompareOp::from_keyword("pr"), None);
    }

    // -----------------------------------------------------------------------------------
    // Evaluation

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "BJensen",
            "name": {"familyName": "O'Malley", "givenName": "Barbara"},
            "title": "",
            "nickName": null,
            "active": true,
            "loginCount": 12,
            "meta": {"created": "2011-05-13T04:42:34Z"},
            "emails": [
                {"type": "work", "value": "bjensen@example.com", "primary": true},
                {"type": "home", "value": "babs@jensen.org"}
            ],
            "phoneNumbers": [],
            "x509Certificates": [{}],
            "urn:indigo-dc:scim:schemas:IndigoUser": {
                "oidcIds": [{"issuer": "https://x", "subject": "abc"}]
            }
        })
    }

    fn eval(filter: &str, item: &Value) -> bool {
        parse(filter).unwrap().matches(item, &|_| false)
    }

    #[test]
    fn evaluates_comparisons() {
        let u = user();
        let cases = [
            // Names and (caseExact = false) strings ignore case.
            (r#"userName eq "bjensen""#, true),
            (r#"USERNAME eq "BJENSEN""#, true),
            (r#"username ne "bjensen""#, false),
            (r#"userName ne "other""#, true),
            (r#"name.familyName co "'mal""#, true),
            (r#"userName sw "bj""#, true),
            (r#"userName ew "SEN""#, true),
            (r#"userName ew "bj""#, false),
            // Ordering: strings lexicographic (so ISO dates chronological), numbers numeric.
            (r#"meta.created gt "2011-05-13T04:42:33Z""#, true),
            (r#"meta.created ge "2011-05-13T04:42:34Z""#, true),
            (r#"meta.created lt "2011-05-13T04:42:34Z""#, false),
            (r#"meta.created le "2011-05-13T04:42:34Z""#, true),
            ("loginCount gt 9", true),
            ("loginCount lt 100", true),
            ("loginCount eq 12.0", true),
            ("loginCount ge 12.5", false),
            (r#"loginCount eq "12""#, false),
            (r#"loginCount gt "1""#, false),
            ("active eq true", true),
            ("active eq false", false),
            ("active ne false", true),
            (r#"active eq "true""#, false),
            // Multi-valued: any value; complex values without a sub compare `value`.
            (r#"emails.type eq "home""#, true),
            (r#"emails.type eq "other""#, false),
            (r#"emails co "jensen.org""#, true),
            (r#"emails.value ew "example.com""#, true),
            (r#"emails.type ne "work""#, true),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
                true,
            ),
            // Missing and unassigned attributes.
            (r#"missing eq "x""#, false),
            (r#"missing ne "x""#, true),
            (r#"missing co "x""#, false),
            (r#"missing gt "a""#, false),
            ("missing eq null", true),
            ("nickName eq null", true),
            ("title eq null", true),
            ("userName eq null", false),
            ("userName ne null", true),
            ("nickName ne null", false),
            (r#"nickName ne "x""#, true),
            (r#"title ne "x""#, true),
            // URNs: extension objects, and core attributes at the top level.
            (
                r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds.subject eq "abc""#,
                true,
            ),
            (
                r#"URN:INDIGO-DC:scim:schemas:indigouser:OIDCIDS.issuer sw "https""#,
                true,
            ),
            (r#"oidcIds.subject eq "abc""#, false),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen""#,
                true,
            ),
            // Logic.
            (r#"userName eq "bjensen" and active eq true"#, true),
            (r#"userName eq "x" or loginCount gt 10"#, true),
            (r#"not (userName eq "x")"#, true),
            (r#"not (missing eq "x")"#, true),
            (r#"not (userName eq "bjensen")"#, false),
        ];
        for (filter, expected) in cases {
            assert_eq!(eval(filter, &u), expected, "{filter}");
        }
    }

    #[test]
    fn evaluates_presence() {
        let u = user();
        let cases = [
            ("userName pr", true),
            ("title pr", false),
            ("nickName pr", false),
            ("missing pr", false),
            ("phoneNumbers pr", false),
            ("x509Certificates pr", false),
            ("emails pr", true),
            ("emails.primary pr", true),
            ("emails.display pr", false),
            ("name pr", true),
            ("active pr", true),
            ("loginCount pr", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(eval(filter, &u), expected, "{filter}");
        }
    }

    #[test]
    fn evaluates_value_paths() {
        let u = user();
        let cases = [
            (
                r#"emails[type eq "work" and value co "@example.com"]"#,
                true,
            ),
            (
                r#"emails[type eq "home" and value co "@example.com"]"#,
                false,
            ),
            // Unlike `emails.type eq "home" and emails.value co "@example.com"`:
            (
                r#"emails.type eq "home" and emails.value co "@example.com""#,
                true,
            ),
            (r#"emails[primary eq true]"#, true),
            (r#"emails[not (primary pr)]"#, true),
            (r#"emails[type eq "other"]"#, false),
            (r#"name[givenName sw "barb"]"#, true),
            (
                r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds[issuer eq "https://x"]"#,
                true,
            ),
            (r#"ims[type pr]"#, false),
        ];
        for (filter, expected) in cases {
            assert_eq!(eval(filter, &u), expected, "{filter}");
        }
        // A PATCH value filter runs on one element.
        let filter = parse(r#"type eq "work""#).unwrap();
        let emails = u["emails"].as_array().unwrap();
        let selected: Vec<_> = emails
            .iter()
            .filter(|e| filter.matches(e, &|_| false))
            .collect();
        assert_eq!(selected, [&emails[0]]);
    }

    #[test]
    fn case_exact_attributes() {
        let u = user();
        let exact_user_name = |p: &AttrPath| p.matches_name("userName");
        let exact = |f: &str| parse(f).unwrap().matches(&u, &exact_user_name);
        assert!(!exact(r#"userName eq "bjensen""#));
        assert!(exact(r#"userName eq "BJensen""#));
        assert!(!exact(r#"userName sw "bj""#));
        assert!(exact(r#"userName gt "B""#));
        assert!(!exact(r#"userName gt "b""#));
        assert!(exact(r#"name.givenName eq "BARBARA""#));

        // Inside a value path the qualified attribute is asked about.
        let asked = std::cell::RefCell::new(Vec::new());
        let record = |p: &AttrPath| {
            asked.borrow_mut().push(p.to_string());
            p.matches_sub("value")
        };
        let filter = parse(r#"emails[value eq "BJENSEN@example.com"]"#).unwrap();
        assert!(!filter.matches(&u, &record));
        assert!(asked.borrow().iter().all(|p| p == "emails.value"));
        assert!(!asked.borrow().is_empty());
    }

    #[test]
    fn non_object_items_match_nothing_but_negations() {
        for item in [json!(null), json!("x"), json!(3), json!([1, 2])] {
            assert!(!eval("a pr", &item));
            assert!(!eval(r#"a eq "x""#, &item));
            assert!(eval(r#"a ne "x""#, &item));
            assert!(eval("not (a pr)", &item));
        }
    }

    // -----------------------------------------------------------------------------------
    // Properties

    /// Pieces of filters, valid and not, for inputs that get further than random text.
    const TOKENS: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "not",
        "and",
        "or",
        "pr",
        "eq",
        "ne",
        "co",
        "gt",
        "le",
        "userName",
        "emails",
        "type",
        "name.givenName",
        "a.b.c",
        "urn:ietf:params:scim:schemas:core:2.0:User:",
        "urn:",
        ":",
        ".",
        "$ref",
        "$",
        "\"x\"",
        "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud800\"",
        "\"",
        "\\",
        "\"unterminated",
        "12",
        "-1.5e3",
        "1e999",
        "0.",
        "true",
        "null",
        "false",
        " ",
        "  ",
        "é",
        "😀",
        "\t",
        "\u{0}",
    ];

    fn token_soup() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(proptest::sample::select(TOKENS), 0..24),
            any::<bool>(),
        )
            .prop_map(|(tokens, spaced)| tokens.join(if spaced { " " } else { "" }))
    }

    fn check_total(input: &str) {
        match parse(input) {
            Ok(filter) => {
                let printed = filter.to_string();
                assert_eq!(parse(&printed), Ok(filter), "{input:?} → {printed:?}");
            }
            Err(error) => {
                assert!(
                    error.position <= input.chars().count(),
                    "{input:?}: {error:?}"
                );
                assert!(!error.message.is_empty());
            }
        }
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => "[a-zA-Z][a-zA-Z0-9_-]{0,7}",
            1 => Just("$ref".to_string()),
            1 => proptest::sample::select(&["not", "and", "or", "pr", "eq", "true", "null"][..])
                .prop_map(str::to_string),
        ]
    }

    fn urn() -> impl Strategy<Value = String> {
        "(urn|URN):[a-z0-9][a-z0-9-]{0,6}(:[a-zA-Z0-9][a-zA-Z0-9._-]{0,6}){0,4}"
    }

    fn full_path() -> impl Strategy<Value = AttrPath> {
        (
            proptest::option::of(urn()),
            name(),
            proptest::option::of(name()),
        )
            .prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<String>().prop_map(Value::String),
            "[a-z@. \"\\\\é]{0,8}".prop_map(Value::String),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter_map("finite", Number::from_f64)
                .prop_map(Value::Number),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ]
    }

    /// An attribute expression on `path`s, with only the operator/value pairs the grammar
    /// allows.
    fn leaf(path: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
        prop_oneof![
            path.clone().prop_map(Filter::Present),
            (path, proptest::sample::select(&CompareOp::ALL[..]), value()).prop_map(
                |(path, op, value)| {
                    let op = match (&value, op) {
                        (Value::String(_), op) => op,
                        (Value::Number(_), op) if !op.is_substring() => op,
                        (_, op) if op == CompareOp::Ne => op,
                        _ => CompareOp::Eq,
                    };
                    Filter::Compare { path, op, value }
                }
            ),
        ]
    }

    fn tree(leaf: BoxedStrategy<Filter>, depth: u32) -> impl Strategy<Value = Filter> {
        leaf.prop_recursive(depth, 1 << depth, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| and(a, b)),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| or(a, b)),
                inner.prop_map(not),
            ]
        })
    }

    /// Filters the parser could have produced: at most 16 top-level leaves, each a value
    /// path of at most 4, so within the comparison and depth limits.
    fn filter_tree() -> impl Strategy<Value = Filter> {
        let relative = name().prop_map(AttrPath::new).boxed();
        let value_path = (
            (proptest::option::of(urn()), name()).prop_map(|(urn, name)| AttrPath {
                urn,
                name,
                sub: None,
            }),
            tree(leaf(relative).boxed(), 2),
        )
            .prop_map(|(path, filter)| vp(path, filter));
        let top_leaf = prop_oneof![3 => leaf(full_path().boxed()), 1 => value_path];
        tree(top_leaf.boxed(), 4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_text_never_panics(input in any::<String>()) {
            check_total(&input);
        }

        #[test]
        fn token_soup_never_panics(input in token_soup()) {
            check_total(&input);
        }

        #[test]
        fn printed_trees_parse_back(filter in filter_tree()) {
            let printed = filter.to_string();
            prop_assert_eq!(parse(&printed), Ok(filter), "{}", printed);
        }

        #[test]
        fn evaluation_never_panics(filter in filter_tree(), text in "[a-z]{0,3}", n in any::<i64>()) {
            let item = json!({
                "a": text, "b": n, "emails": [{"type": text, "value": n}], "c": null,
                "urn:x:y": {"a": [text, n]}
            });
            let _ = filter.matches(&item, &|p| p.name.len() % 2 == 0);
        }
    }
}
