//! Parsing a template with minijinja's parser: the guard against expressions nested too deep
//! for it, and syntax errors with their spans and a hint of the fix.

use minijinja::machinery::ast::Stmt;
use minijinja::machinery::{self, Span};
use minijinja::syntax::SyntaxConfig;

use super::bytes;
use crate::diag::{Diagnostic, codes};
use crate::source::Source;

/// How deep one Jinja expression may nest, counted by [`expression_depth`]. minijinja's
/// parser bounds bracket and block nesting (150) but builds chains such as `a.b.c...`,
/// `x|e|e...`, `1+1+...` or `not not ...` in loops, and its later passes (and dropping the
/// tree) recurse once per link: about 1,600 links overflow a 2 MiB thread stack in a debug
/// build. Real templates stay far below this; it is fixed, not configurable, because the
/// stack is the real limit.
pub const MAX_EXPRESSION_DEPTH: usize = 250;

/// The first place where an expression inside `{{ }}` or `{% %}` nests more than
/// [`MAX_EXPRESSION_DEPTH`] deep, or `None`. The estimate is an upper bound of the depth of
/// minijinja's syntax tree: every open bracket counts one, and so does every operator,
/// attribute, filter, test, call or keyword operator in the current element of every open
/// bracket (a `,` or `:` starts a new element, so long lists and dicts are not deep).
pub fn expression_depth(text: &str) -> Option<Span> {
    use machinery::Token;
    // Per open bracket (the tag itself is the first): links in its current element; and
    // their sum plus the number of open levels, kept as it changes.
    let mut links: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    for token in machinery::tokenize(text, false, SyntaxConfig::default()) {
        let Ok((token, span)) = token else {
            return None; // the parser reports it
        };
        let link = matches!(
            token,
            Token::Plus
                | Token::Minus
                | Token::Mul
                | Token::Div
                | Token::FloorDiv
                | Token::Pow
                | Token::Mod
                | Token::Dot
                | Token::Tilde
                | Token::Assign
                | Token::Pipe
                | Token::Eq
                | Token::Ne
                | Token::Gt
                | Token::Gte
                | Token::Lt
                | Token::Lte
                | Token::BracketOpen
                | Token::ParenOpen
                | Token::BraceOpen
                | Token::Ident("not" | "if" | "else" | "is" | "in" | "and" | "or")
        );
        if link && let Some(current) = links.last_mut() {
            *current += 1;
            depth += 1;
        }
        match token {
            Token::VariableStart | Token::BlockStart => {
                links = vec![0];
                depth = 1;
            }
            Token::VariableEnd | Token::BlockEnd | Token::TemplateData(_) => {
                links.clear();
                depth = 0;
            }
            Token::Comma | Token::Colon => {
                if let Some(current) = links.last_mut() {
                    depth -= *current;
                    *current = 0;
                }
            }
            Token::BracketOpen | Token::ParenOpen | Token::BraceOpen => {
                links.push(0);
                depth += 1;
            }
            Token::BracketClose | Token::ParenClose | Token::BraceClose if links.len() > 1 => {
                depth -= links.pop().unwrap_or(0) + 1;
            }
            _ => {}
        }
        if depth > MAX_EXPRESSION_DEPTH + 1 {
            return Some(span);
        }
    }
    None
}

/// Parses a template; a syntax error is a T001 diagnostic at its exact span.
pub fn parse<'s>(source: &'s Source, diags: &mut Vec<Diagnostic>) -> Option<Stmt<'s>> {
    if let Some(span) = expression_depth(source.text()) {
        diags.push(
            Diagnostic::new(
                codes::T001,
                format!(
                    "Jinja syntax error: expression nested more than {MAX_EXPRESSION_DEPTH} \
                     operators deep"
                ),
            )
            .at(source, bytes(source, span))
            .help(
                "split the expression into steps with `{% set %}`; proctor refuses \
                 expressions this deep because compiling them could exhaust the stack",
            ),
        );
        return None;
    }
    match machinery::parse(source.text(), source.name(), SyntaxConfig::default()) {
        Ok(ast) => Some(ast),
        Err(e) => {
            let span = e.range().unwrap_or_else(|| {
                let line = e.line().unwrap_or(1);
                let start = source.offset_of(line, 0);
                start..start
            });
            let detail = e.detail().unwrap_or("syntax error").to_string();
            diags.push(
                Diagnostic::new(codes::T001, format!("Jinja syntax error: {detail}"))
                    .at(source, span)
                    .help(syntax_help(&detail)),
            );
            None
        }
    }
}

fn syntax_help(detail: &str) -> String {
    if detail.contains("unexpected end of input")
        || detail.contains("missing end")
        || detail.contains("expected end")
    {
        "close the block: every `{% if %}` needs `{% endif %}`, every `{% for %}` needs `{% endfor %}`".into()
    } else if detail.contains("unknown statement") {
        "Proton's Jinja has `if`, `for`, `set`, `raw` and `macro`; check the statement's spelling"
            .into()
    } else if detail.contains("recursion") {
        "the template nests expressions or blocks more deeply than proctor allows; flatten it"
            .into()
    } else {
        "correct the Jinja at this point; text that only looks like Jinja (`{{`, `{%`) must be wrapped in `{% raw %}...{% endraw %}`".into()
    }
}
