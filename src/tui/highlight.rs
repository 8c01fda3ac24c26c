//! Lua syntax highlighting with syntect's grammar; scopes are mapped to the
//! theme's few styles rather than to a syntect colour theme.

use std::sync::OnceLock;

use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Plain,
    Keyword,
    String,
    Number,
    Comment,
    Builtin,
}

/// A run of one class in a line (byte offsets).
pub(crate) type Span = (usize, usize, Class);

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn classify(stack: &ScopeStack) -> Class {
    for scope in stack.as_slice().iter().rev() {
        let name = scope.build_string();
        if name.starts_with("comment") {
            return Class::Comment;
        } else if name.starts_with("string") {
            return Class::String;
        } else if name.starts_with("constant.numeric") || name.starts_with("constant.language") {
            return Class::Number;
        } else if name.starts_with("keyword") || name.starts_with("storage") {
            return Class::Keyword;
        } else if name.starts_with("support") || name.starts_with("variable.language") {
            return Class::Builtin;
        }
    }
    Class::Plain
}

/// Spans for every line of the code.
pub(crate) fn highlight(lines: &[String]) -> Vec<Vec<Span>> {
    let set = syntaxes();
    let Some(lua) = set.find_syntax_by_extension("lua") else {
        return lines.iter().map(|_| Vec::new()).collect();
    };
    let mut state = ParseState::new(lua);
    let mut stack = ScopeStack::new();
    lines
        .iter()
        .map(|line| {
            let text = format!("{line}\n");
            let ops = state.parse_line(&text, set).unwrap_or_default();
            let mut spans = Vec::new();
            let mut start = 0;
            let mut class = classify(&stack);
            for (offset, op) in ops {
                let offset = offset.min(line.len());
                if offset > start {
                    spans.push((start, offset, class));
                    start = offset;
                }
                let _ = stack.apply(&op);
                class = classify(&stack);
            }
            if start < line.len() {
                spans.push((start, line.len(), class));
            }
            // Words the grammar leaves plain that a Redis reader looks for.
            mark_builtins(line, &mut spans);
            spans
        })
        .collect()
}

fn mark_builtins(line: &str, spans: &mut Vec<Span>) {
    let mut out = Vec::with_capacity(spans.len());
    for &(start, end, class) in spans.iter() {
        if class != Class::Plain {
            out.push((start, end, class));
            continue;
        }
        let text = &line[start..end];
        let mut cursor = 0;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
                let j = (i..bytes.len())
                    .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
                    .unwrap_or(bytes.len());
                let word = &text[i..j];
                if matches!(
                    word,
                    "redis" | "KEYS" | "ARGV" | "cjson" | "cmsgpack" | "struct" | "bit"
                ) {
                    if i > cursor {
                        out.push((start + cursor, start + i, Class::Plain));
                    }
                    out.push((start + i, start + j, Class::Builtin));
                    cursor = j;
                }
                i = j;
            } else {
                i += 1;
            }
        }
        if cursor < text.len() {
            out.push((start + cursor, end, Class::Plain));
        }
    }
    *spans = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_is_classified() {
        let spans = highlight(&["local x = redis.call('GET', 1) -- note".to_string()]);
        let classes: Vec<Class> = spans[0].iter().map(|s| s.2).collect();
        assert!(classes.contains(&Class::Keyword));
        assert!(classes.contains(&Class::String));
        assert!(classes.contains(&Class::Number));
        assert!(classes.contains(&Class::Comment));
        assert!(classes.contains(&Class::Builtin));
    }
}
