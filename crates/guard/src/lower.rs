//! Lowering pest's parse tree into the typed syntax tree, and parse errors into diagnostics
//! in words a policy author understands.

use pest::Parser;
use pest::iterators::Pair;

use super::ast::*;
use super::parser::{PolicyParser, Rule as R};
use crate::diag::{Diagnostic, codes};
use crate::source::Source;

/// Parses and lowers a policy file. A syntax error is a diagnostic and `None`.
/// Blocks, lists, filters and calls may nest this deep; deeper files are refused before they
/// are parsed, so that no recursion (parser, lowering, checks, evaluation) can overflow.
pub const MAX_NESTING: usize = 64;

pub fn parse(source: &Source, diags: &mut Vec<Diagnostic>) -> Option<PolicyFile> {
    let text = source.text();
    if let Some(at) = too_deep(text) {
        diags.push(
            Diagnostic::new(
                codes::P001,
                format!("nested more than {MAX_NESTING} levels deep"),
            )
            .at(source, at..at + 1)
            .primary_message("too deep")
            .help("split the rule: move inner blocks into named rules and reference them"),
        );
        return None;
    }
    let file = match parse_bounded(text) {
        Ok(mut pairs) => pairs.next()?,
        Err(e) if e.variant.message().contains("call limit") => {
            diags.push(too_ambiguous(source, &e));
            return None;
        }
        Err(e) => {
            diags.push(syntax_error(source, &e));
            return None;
        }
    };
    let mut out = PolicyFile::default();
    let mut default_body = Block::default();
    let mut default_start: Option<usize> = None;
    for item in file.into_inner() {
        match item.as_rule() {
            R::let_stmt => out.lets.push(lower_let(item)),
            R::rule => out.rules.push(lower_rule(item, text)),
            R::param_rule => out.param_rules.push(lower_param_rule(item)),
            R::EOI => {}
            _ => {
                default_start.get_or_insert(item.as_span().start());
                push_block_item(&mut default_body, item);
            }
        }
    }
    if let Some(start) = default_start {
        out.rules.push(Rule {
            name: "default".to_string(),
            name_span: start..start,
            conditions: None,
            body: default_body,
            meta: RuleMeta::default(),
            implicit: true,
        });
    }
    Some(out)
}

/// Parser calls allowed per byte of a policy file, and in all. Well-formed files need 3 to 12
/// a byte (26 for a 67-byte file, fixed costs included); a broken file whose unclosed brackets
/// make every alternative of every nesting level fail again took 21,000 a byte (7 minutes
/// for 3 KB in a debug build, found by the `policy` fuzz target).
const CALLS_PER_BYTE: usize = 100;
const CALLS_BASE: usize = 100_000;

/// Serialises parses: pest's call limit is process-wide, read when a parse starts.
static PARSING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Parses with pest's call limit set for this text's length, so that no input can make the
/// backtracking parser run for long.
pub(crate) fn parse_bounded(
    text: &str,
) -> Result<pest::iterators::Pairs<'_, R>, Box<pest::error::Error<R>>> {
    let _one_at_a_time = PARSING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let limit = CALLS_BASE.saturating_add(CALLS_PER_BYTE.saturating_mul(text.len()));
    pest::set_call_limit(std::num::NonZeroUsize::new(limit));
    let parsed = PolicyParser::parse(R::file, text).map_err(Box::new);
    pest::set_call_limit(None);
    parsed
}

/// Where a pest error points.
fn error_at(e: &pest::error::Error<R>) -> usize {
    match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
}

fn too_ambiguous(source: &Source, e: &pest::error::Error<R>) -> Diagnostic {
    let at = source.clamp(error_at(e));
    Diagnostic::new(
        codes::P001,
        "syntax error: the file is too broken to parse within proctor's budget",
    )
    .at(source, at..source.clamp(at + 1).max(at))
    .primary_message("the parser gave up near here")
    .help("look for an unclosed `{` or `[` or an unfinished clause before this point: each one makes the parser retry every reading of what follows")
}

fn syntax_error(source: &Source, e: &pest::error::Error<R>) -> Diagnostic {
    let at = error_at(e);
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            words.sort_unstable();
            words.dedup();
            words
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let found = source.text()[source.clamp(at)..].chars().next();
    let found = match found {
        None => "the end of the file".to_string(),
        Some(c) if c.is_whitespace() => "a line break or space".to_string(),
        Some(c) => format!("`{c}`"),
    };
    let message = if expected.is_empty() {
        format!("syntax error: unexpected {found}")
    } else {
        format!(
            "syntax error: expected {}, found {found}",
            crate::yaml::shape::list(&expected).replace('`', "")
        )
    };
    let end = source.clamp(at + 1).max(at);
    Diagnostic::new(codes::P001, message)
        .at(source, at..end)
        .primary_message("here")
        .help("check the clause against the policy language: `QUERY OPERATOR VALUE`, `rule NAME { ... }`, `let NAME = ...`; every `{` needs its `}`")
}

/// How a grammar rule reads in a message (`None`: too internal to mention).
fn describe(r: R) -> Option<&'static str> {
    Some(match r {
        R::binary_op | R::eq | R::ne | R::lt | R::le | R::gt | R::ge | R::in_op | R::not_in => {
            "a comparison (`==`, `!=`, `<`, `IN`, ...)"
        }
        R::unary_op | R::kw_exists | R::kw_empty | R::type_test => {
            "`exists`, `empty` or a type test"
        }
        R::rhs | R::literal | R::fn_arg => "a value",
        R::query | R::key | R::variable | R::kw_this => "a query",
        R::clause
        | R::cond_clause
        | R::access_clause
        | R::query_clause
        | R::disjunction
        | R::cond_disjunction
        | R::filter_clause
        | R::filter_disjunction
        | R::filter_conditions
        | R::conditions => "a clause",
        R::ident => "a name",
        R::message => "a message `<< ... >>`",
        R::string => "a string",
        R::not => "`not`",
        R::kw_when => "`when`",
        R::body | R::block_item | R::type_block | R::when_block | R::let_stmt => {
            "a clause, `let` or block"
        }
        R::rule | R::param_rule => "a rule",
        R::EOI => "the end of the file",
        _ => return None,
    })
}

/// The pair's span without the whitespace and comments pest's implicit `~` consumed after
/// its last token (`a ~ message?` keeps the newline after `a` when no message follows), so
/// that underlines end where the text does.
fn span(p: &Pair<R>) -> Span {
    p.as_span().start()..end(p)
}

/// Where the pair's own text ends. Nesting is bounded before pest runs (`MAX_NESTING`), so
/// the recursion is too.
fn end(p: &Pair<R>) -> usize {
    let whole = p.as_span();
    let Some(last) = p.clone().into_inner().last() else {
        // A token: strings and regexes may hold `#`, so only whitespace is trimmed.
        let text = whole.as_str().trim_end();
        return if text.is_empty() {
            whole.end()
        } else {
            whole.start() + text.len()
        };
    };
    // Text after the last child is literal tokens (`}`, `)`), whitespace and comments.
    let from = end(&last);
    let tail = &p.get_input()[from..whole.end()];
    let mut kept = 0;
    for line in tail.split_inclusive('\n') {
        let code = line.find('#').map_or(line, |i| &line[..i]);
        let code = code.trim_end();
        if !code.trim_start().is_empty() {
            kept = line.as_ptr() as usize - tail.as_ptr() as usize + code.len();
        }
    }
    from + kept
}

fn lower_let(p: Pair<R>) -> Let {
    let s = span(&p);
    let mut inner = p.into_inner();
    let name = inner
        .next()
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    let value = inner
        .next()
        .and_then(|v| v.into_inner().next())
        .map(lower_rhs_inner)
        .unwrap_or(Rhs::Literal(Literal::Null, s.clone()));
    Let {
        name,
        value,
        span: s,
    }
}

fn lower_rule(p: Pair<R>, text: &str) -> Rule {
    let start = p.as_span().start();
    let mut name = String::new();
    let mut name_span = start..start;
    let mut conditions = None;
    let mut body = Block::default();
    for c in p.into_inner() {
        match c.as_rule() {
            R::ident => {
                name = c.as_str().to_string();
                name_span = span(&c);
            }
            R::conditions => conditions = Some(lower_conditions(c)),
            R::body => body = lower_body(c),
            _ => {}
        }
    }
    Rule {
        name,
        name_span,
        conditions,
        body,
        meta: annotations(text, start),
        implicit: false,
    }
}

/// `# @key: value` (or `# @key value`) comment lines directly above a rule.
fn annotations(text: &str, rule_start: usize) -> RuleMeta {
    let mut meta = RuleMeta::default();
    let before = &text[..rule_start];
    for line in before
        .lines()
        .rev()
        .skip(usize::from(!before.ends_with('\n')))
    {
        let line = line.trim();
        let Some(comment) = line.strip_prefix('#') else {
            break;
        };
        // `@key: value` or `@key value`.
        let Some(annotation) = comment.trim().strip_prefix('@') else {
            continue;
        };
        let end = annotation
            .find(|c: char| c == ':' || c.is_whitespace())
            .unwrap_or(annotation.len());
        let (key, rest) = annotation.split_at(end);
        let rest = rest.trim_start();
        let value = Some(rest.strip_prefix(':').unwrap_or(rest).trim().to_string());
        match key.trim() {
            "id" => meta.id = meta.id.take().or(value),
            "severity" => meta.severity = meta.severity.take().or(value),
            "description" => meta.description = meta.description.take().or(value),
            "docs" => meta.docs = meta.docs.take().or(value),
            _ => {}
        }
    }
    meta
}

fn lower_param_rule(p: Pair<R>) -> ParamRule {
    let mut idents = Vec::new();
    let mut body = Block::default();
    let mut name_span = span(&p);
    for c in p.into_inner() {
        match c.as_rule() {
            R::ident => {
                if idents.is_empty() {
                    name_span = span(&c);
                }
                idents.push(c.as_str().to_string());
            }
            R::body => body = lower_body(c),
            _ => {}
        }
    }
    let name = if idents.is_empty() {
        String::new()
    } else {
        idents.remove(0)
    };
    ParamRule {
        name,
        name_span,
        params: idents,
        body,
    }
}

fn lower_body(p: Pair<R>) -> Block {
    let mut block = Block::default();
    for item in p.into_inner() {
        match item.as_rule() {
            R::let_stmt => block.lets.push(lower_let(item)),
            _ => push_block_item(&mut block, item),
        }
    }
    block
}

fn push_block_item(block: &mut Block, item: Pair<R>) {
    match item.as_rule() {
        R::disjunction => block.clauses.push(
            item.into_inner()
                .filter(|c| c.as_rule() == R::clause)
                .map(lower_clause)
                .collect(),
        ),
        R::when_block => block.clauses.push(vec![lower_when(item)]),
        _ => {}
    }
}

fn lower_type_block(item: Pair<R>) -> Clause {
    let s = span(&item);
    let mut type_name = String::new();
    let mut conditions = None;
    let mut body = Block::default();
    for c in item.into_inner() {
        match c.as_rule() {
            // Guard reads `AWS::X::Y::MODULE` as the module's type `AWS::X::Y`.
            R::type_name => {
                let t = c.as_str();
                type_name = t
                    .strip_suffix("::MODULE")
                    .filter(|rest| rest.matches("::").count() == 2)
                    .unwrap_or(t)
                    .to_string()
            }
            R::conditions => conditions = Some(lower_conditions(c)),
            R::body => body = lower_body(c),
            R::cond_clause => body.clauses.push(vec![lower_clause(c)]),
            _ => {}
        }
    }
    Clause::TypeBlock {
        type_name,
        conditions,
        body,
        span: s,
    }
}

/// A rule's or a `when`'s conditions, or a filter's clauses: disjunctions of clauses, ANDed.
fn lower_conditions(p: Pair<R>) -> Conjunction {
    p.into_inner()
        .filter(|d| matches!(d.as_rule(), R::cond_disjunction | R::filter_disjunction))
        .map(|d| {
            d.into_inner()
                .filter(|c| matches!(c.as_rule(), R::cond_clause | R::filter_clause))
                .map(lower_clause)
                .collect()
        })
        .collect()
}

fn lower_when(item: Pair<R>) -> Clause {
    let s = span(&item);
    let mut conditions = Vec::new();
    let mut body = Block::default();
    for c in item.into_inner() {
        match c.as_rule() {
            R::conditions => conditions = lower_conditions(c),
            R::body => body = lower_body(c),
            _ => {}
        }
    }
    Clause::When {
        conditions,
        body,
        span: s,
    }
}

/// A `clause`, `cond_clause` or `filter_clause`: its one child is the real clause.
fn lower_clause(p: Pair<R>) -> Clause {
    let s = span(&p);
    let Some(c) = p.into_inner().next() else {
        return Clause::RuleRef {
            not: false,
            name: String::new(),
            message: None,
            span: s,
        };
    };
    match c.as_rule() {
        R::type_block => lower_type_block(c),
        R::when_block => lower_when(c),
        R::access_clause => lower_access(c),
        R::query_clause if !c.clone().into_inner().any(|x| x.as_rule() == R::block_rest) => {
            lower_access(c)
        }
        R::query_clause => {
            let s = span(&c);
            let mut some = false;
            let mut query = None;
            let mut not_empty = false;
            let mut body = Block::default();
            for x in c.into_inner() {
                match x.as_rule() {
                    R::kw_some => some = true,
                    R::query => query = Some(lower_query(x)),
                    R::block_rest => {
                        for y in x.into_inner() {
                            match y.as_rule() {
                                R::not_empty => not_empty = true,
                                R::body => body = lower_body(y),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            let query = some_query(query, some, &s);
            Clause::Block {
                query,
                not_empty,
                body,
                span: s,
            }
        }
        R::param_call => {
            let s = span(&c);
            let mut not = false;
            let mut name = String::new();
            let mut args = Vec::new();
            let mut message = None;
            for x in c.into_inner() {
                match x.as_rule() {
                    R::not => not = true,
                    R::ident => name = x.as_str().to_string(),
                    R::rhs => args.push(lower_rhs(x)),
                    R::message => message = Some(message_text(x)),
                    _ => {}
                }
            }
            Clause::ParamCall {
                not,
                name,
                args,
                message,
                span: s,
            }
        }
        _ => {
            // rule_ref
            let s = span(&c);
            let mut not = false;
            let mut name = String::new();
            let mut message = None;
            for x in c.into_inner() {
                match x.as_rule() {
                    R::not => not = true,
                    R::ident => name = x.as_str().to_string(),
                    R::message => message = Some(message_text(x)),
                    _ => {}
                }
            }
            Clause::RuleRef {
                not,
                name,
                message,
                span: s,
            }
        }
    }
}

fn message_text(p: Pair<R>) -> String {
    p.into_inner()
        .next()
        .map(|t| t.as_str().trim().to_string())
        .unwrap_or_default()
}

fn lower_access(p: Pair<R>) -> Clause {
    let s = span(&p);
    let mut not = false;
    let mut some = false;
    let mut query = None;
    let mut op = None;
    let mut pending_cmp = None;
    let mut message = None;
    for x in p.into_inner() {
        match x.as_rule() {
            R::not => not = true,
            R::kw_some => some = true,
            R::query => query = Some(lower_query(x)),
            R::unary_op => op = Some(lower_unary(x)),
            R::binary_op => pending_cmp = Some(lower_cmp(x)),
            R::rhs => {
                if let Some(cmp) = pending_cmp.take() {
                    op = Some(AccessOp::Binary {
                        op: cmp,
                        rhs: lower_rhs(x),
                    });
                }
            }
            R::message => message = Some(message_text(x)),
            _ => {}
        }
    }
    let query = some_query(query, some, &s);
    let op = op.unwrap_or(AccessOp::Unary {
        not: false,
        op: UnaryOp::Exists,
    });
    Clause::Access {
        not,
        query,
        op,
        message,
        span: s,
    }
}

fn lower_unary(p: Pair<R>) -> AccessOp {
    let mut not = false;
    let mut op = UnaryOp::Exists;
    for x in p.into_inner() {
        match x.as_rule() {
            R::not => not = true,
            R::kw_exists => op = UnaryOp::Exists,
            R::kw_empty => op = UnaryOp::Empty,
            R::type_test => {
                op = match x.as_str().to_ascii_lowercase().as_str() {
                    "is_string" => UnaryOp::IsString,
                    "is_list" => UnaryOp::IsList,
                    "is_struct" => UnaryOp::IsStruct,
                    "is_bool" => UnaryOp::IsBool,
                    "is_int" => UnaryOp::IsInt,
                    "is_float" => UnaryOp::IsFloat,
                    _ => UnaryOp::IsNull,
                }
            }
            _ => {}
        }
    }
    AccessOp::Unary { not, op }
}

fn lower_cmp(p: Pair<R>) -> CmpOp {
    match p.into_inner().next().map(|x| x.as_rule()) {
        Some(R::eq) => CmpOp::Eq,
        Some(R::ne) => CmpOp::Ne,
        Some(R::lt) => CmpOp::Lt,
        Some(R::le) => CmpOp::Le,
        Some(R::gt) => CmpOp::Gt,
        Some(R::ge) => CmpOp::Ge,
        Some(R::not_in) => CmpOp::NotIn,
        _ => CmpOp::In,
    }
}

fn lower_rhs(p: Pair<R>) -> Rhs {
    let s = span(&p);
    match p.into_inner().next() {
        Some(x) => lower_rhs_inner(x),
        None => Rhs::Literal(Literal::Null, s),
    }
}

/// A `function_call`, `literal` or `query` pair.
fn lower_rhs_inner(x: Pair<R>) -> Rhs {
    let s = span(&x);
    match x.as_rule() {
        R::function_call => Rhs::Call(lower_call(x)),
        R::literal => Rhs::Literal(lower_literal(x), s),
        R::query => Rhs::Query(lower_query(x)),
        R::fn_arg | R::rhs | R::let_value => match x.into_inner().next() {
            Some(y) => lower_rhs_inner(y),
            None => Rhs::Literal(Literal::Null, s),
        },
        _ => Rhs::Literal(Literal::Null, s),
    }
}

fn lower_call(p: Pair<R>) -> FnCall {
    let s = span(&p);
    let mut inner = p.into_inner();
    let name = inner
        .next()
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    let args = inner.map(lower_rhs_inner).collect();
    FnCall {
        name,
        args,
        span: s,
    }
}

fn lower_query(p: Pair<R>) -> Query {
    let s = span(&p);
    let mut parts = Vec::new();
    for x in p.into_inner() {
        match x.as_rule() {
            R::variable => parts.push(Part::Variable(ident_of(x))),
            R::kw_this => parts.push(Part::This),
            R::key => parts.push(Part::Key(x.as_str().to_string())),
            R::quoted_key => parts.push(Part::Key(
                x.into_inner().next().map(string_value).unwrap_or_default(),
            )),
            R::dot_part | R::bracket => {
                let in_brackets = x.as_rule() == R::bracket;
                if let Some(y) = x.into_inner().next() {
                    let part = lower_part(y);
                    parts.push(if in_brackets && part == Part::All {
                        Part::AllItems
                    } else {
                        part
                    });
                }
            }
            _ => {}
        }
    }
    Query {
        some: false,
        parts,
        span: s,
    }
}

fn ident_of(p: Pair<R>) -> String {
    p.into_inner()
        .next()
        .map(|i| i.as_str().to_string())
        .unwrap_or_default()
}

fn lower_part(y: Pair<R>) -> Part {
    match y.as_rule() {
        R::all => Part::All,
        R::index => Part::Index(y.as_str().parse().unwrap_or(0)),
        R::variable => Part::Variable(ident_of(y)),
        R::key => Part::Key(y.as_str().to_string()),
        R::quoted_key => Part::Key(y.into_inner().next().map(string_value).unwrap_or_default()),
        R::bind => Part::Bind(
            y.into_inner()
                .next()
                .map(|i| i.as_str().to_string())
                .unwrap_or_default(),
        ),
        R::filter_bind => {
            let mut bind = None;
            let mut conditions = Vec::new();
            for z in y.into_inner() {
                match z.as_rule() {
                    R::ident => bind = Some(z.as_str().to_string()),
                    R::filter_conditions => conditions = lower_conditions(z),
                    _ => {}
                }
            }
            Part::Filter { bind, conditions }
        }
        R::filter => Part::Filter {
            bind: None,
            conditions: y
                .into_inner()
                .next()
                .map(lower_conditions)
                .unwrap_or_default(),
        },
        R::keys_filter => {
            let mut op = CmpOp::Eq;
            let mut rhs = Rhs::Literal(Literal::Null, 0..0);
            for z in y.into_inner() {
                match z.as_rule() {
                    R::binary_op => op = lower_cmp(z),
                    R::rhs => rhs = lower_rhs(z),
                    _ => {}
                }
            }
            Part::KeysFilter {
                op,
                rhs: Box::new(rhs),
            }
        }
        _ => Part::All,
    }
}

/// A string literal's value: only the delimiter can be escaped.
fn string_value(p: Pair<R>) -> String {
    let Some(body) = p.into_inner().next() else {
        return String::new();
    };
    match body.as_rule() {
        R::single => body.as_str().replace("\\'", "'"),
        _ => body.as_str().replace("\\\"", "\""),
    }
}

fn lower_literal(p: Pair<R>) -> Literal {
    let Some(x) = p.into_inner().next() else {
        return Literal::Null;
    };
    lower_literal_kind(x)
}

fn lower_literal_kind(x: Pair<R>) -> Literal {
    match x.as_rule() {
        R::string => Literal::String(string_value(x)),
        R::int => x
            .as_str()
            .parse()
            .map(Literal::Int)
            .unwrap_or_else(|_| Literal::Float(x.as_str().parse().unwrap_or(0.0))),
        R::float => Literal::Float(x.as_str().parse().unwrap_or(0.0)),
        R::boolean => Literal::Bool(x.as_str().eq_ignore_ascii_case("true")),
        R::null => Literal::Null,
        R::regex => Literal::Regex(
            x.into_inner()
                .next()
                .map(|b| b.as_str().replace("\\/", "/"))
                .unwrap_or_default(),
        ),
        R::list => Literal::List(x.into_inner().map(lower_literal).collect()),
        R::map => Literal::Map(
            x.into_inner()
                .map(|e| {
                    let mut it = e.into_inner();
                    let k = it
                        .next()
                        .map(|k| {
                            if k.as_rule() == R::string {
                                string_value(k)
                            } else {
                                k.as_str().to_string()
                            }
                        })
                        .unwrap_or_default();
                    let v = it.next().map(lower_literal).unwrap_or(Literal::Null);
                    (k, v)
                })
                .collect(),
        ),
        R::range => {
            let mut lower_inclusive = true;
            let mut upper_inclusive = true;
            let mut bounds = Vec::new();
            for z in x.into_inner() {
                match z.as_rule() {
                    R::range_open => lower_inclusive = z.as_str() == "[",
                    R::range_close => upper_inclusive = z.as_str() == "]",
                    R::range_bound => {
                        if let Some(b) = z.into_inner().next() {
                            bounds.push(match b.as_rule() {
                                R::char_lit => Literal::Char(
                                    b.into_inner()
                                        .next()
                                        .and_then(|c| c.as_str().chars().next())
                                        .unwrap_or('\0'),
                                ),
                                R::bare_char => {
                                    Literal::Char(b.as_str().chars().next().unwrap_or('\0'))
                                }
                                _ => lower_literal_kind(b),
                            });
                        }
                    }
                    _ => {}
                }
            }
            let upper = bounds.pop().unwrap_or(Literal::Null);
            let lower = bounds.pop().unwrap_or(Literal::Null);
            Literal::Range(Box::new(RangeLit {
                lower,
                upper,
                lower_inclusive,
                upper_inclusive,
            }))
        }
        _ => Literal::Null,
    }
}

/// The offset of the first bracket nested deeper than `MAX_NESTING`, skipping strings,
/// comments, messages and regexes (whose brackets are text).
fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // Skips to just after the next unescaped `end`.
    let skip_to = |mut j: usize, end: u8| {
        while j < b.len() && b[j] != end {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        j + 1
    };
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'/' => i = skip_to(i + 1, b[i]),
            b'#' => i = skip_to(i + 1, b'\n'),
            b'<' if b.get(i + 1) == Some(&b'<') => {
                i = text[i + 2..].find(">>").map_or(b.len(), |k| i + 2 + k + 2);
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The clause's query (an empty one at `span` if the grammar gave none), marked `some`.
fn some_query(query: Option<Query>, some: bool, span: &Span) -> Query {
    let mut query = query.unwrap_or(Query {
        some: false,
        parts: Vec::new(),
        span: span.clone(),
    });
    query.some = some;
    query
}
