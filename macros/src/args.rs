//! The attribute's arguments. Their shape (names, literals, ranges, durations) is checked at
//! compile time, each error pointing at the argument; a `faults` plan and a `strategy` are
//! parsed when the test runs (doppel's parsers live in the simulator, which the macro does not
//! link), and a bad one fails the test with one line before any seed runs.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, MetaNameValue, Token};

/// What `#[doppel::test(...)]` says.
#[derive(Default)]
pub(crate) struct Args {
    /// `seeds = A..B` (or `A..=B`), as written.
    pub(crate) seeds: Option<Expr>,
    /// `faults = "PLAN"`.
    pub(crate) faults: Option<String>,
    /// `strategy = "random"` or `"pct:DEPTH"`.
    pub(crate) strategy: Option<String>,
    /// `jobs = N`.
    pub(crate) jobs: Option<usize>,
    /// `shrink_time = "10s"`, in milliseconds.
    pub(crate) shrink_ms: Option<u64>,
    /// `show = N`.
    pub(crate) show: Option<usize>,
    /// `server = EXPR`: the async form's server main (a future, made afresh for each start).
    pub(crate) server: Option<Expr>,
    /// `require_coverage = true`.
    pub(crate) require_coverage: bool,
    /// `plateau = N`.
    pub(crate) plateau: Option<usize>,
    /// `coverage_scope = "a::b, c"`: module prefixes, split.
    pub(crate) coverage_scope: Vec<String>,
}

/// The argument names, for the error that lists them.
const KNOWN: &str =
    "seeds, faults, strategy, jobs, shrink_time, show, server, require_coverage, plateau, coverage_scope";

impl Args {
    /// Parses the attribute's tokens.
    pub(crate) fn parse(attr: TokenStream) -> syn::Result<Args> {
        let parser = Punctuated::<MetaNameValue, Token![,]>::parse_terminated;
        let items = syn::parse::Parser::parse2(parser, attr)?;
        let mut args = Args::default();
        for item in items {
            let key = item
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let value = item.value;
            match key.as_str() {
                "seeds" => args.seeds = Some(range(value)?),
                "faults" => args.faults = Some(string(&value)?),
                "strategy" => args.strategy = Some(string(&value)?),
                "jobs" => args.jobs = Some(count(&value)?),
                "show" => args.show = Some(count(&value)?),
                "shrink_time" => args.shrink_ms = Some(duration_ms(&value)?),
                "server" => args.server = Some(value),
                "require_coverage" => args.require_coverage = boolean(&value)?,
                "plateau" => args.plateau = Some(count(&value)?),
                "coverage_scope" => args.coverage_scope = modules(&value)?,
                _ => {
                    return Err(syn::Error::new_spanned(
                        &item.path,
                        format!("unknown argument of #[doppel::test] (it takes {KNOWN})"),
                    ))
                }
            }
        }
        Ok(args)
    }

    /// The seeds as a `Range<u64>` expression.
    pub(crate) fn seeds_tokens(&self) -> TokenStream {
        match &self.seeds {
            Some(Expr::Range(r)) if matches!(r.limits, syn::RangeLimits::Closed(_)) => {
                let (a, b) = (&r.start, &r.end);
                quote! { ::doppel::sim::testing::inclusive(#a, #b) }
            }
            Some(e) => quote! { #e },
            None => quote! { ::doppel::sim::testing::DEFAULT_SEEDS },
        }
    }
}

/// A seed range: `A..B` or `A..=B`, both ends given, not empty when both are literals.
fn range(value: Expr) -> syn::Result<Expr> {
    let Expr::Range(r) = &value else {
        return Err(syn::Error::new_spanned(
            &value,
            "seeds takes a range with both ends, such as 0..200 or 0..=199",
        ));
    };
    let (Some(a), Some(b)) = (&r.start, &r.end) else {
        return Err(syn::Error::new_spanned(
            &value,
            "seeds takes a range with both ends, such as 0..200 or 0..=199",
        ));
    };
    let closed = matches!(r.limits, syn::RangeLimits::Closed(_));
    if let (Some(a), Some(b)) = (literal(a), literal(b)) {
        if b < a || (b == a && !closed) {
            return Err(syn::Error::new_spanned(
                &value,
                format!(
                    "seeds {a}..{}{b} is empty: A..B runs A up to B, B left out",
                    if closed { "=" } else { "" }
                ),
            ));
        }
    }
    Ok(value)
}

/// An integer literal's value.
fn literal(e: &Expr) -> Option<u128> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
}

/// A string literal.
fn string(value: &Expr) -> syn::Result<String> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected a string literal, such as \"benign=0.05\"",
        )),
    }
}

/// A comma list of module paths (`"my_server::cache, my_server::store"`).
fn modules(value: &Expr) -> syn::Result<Vec<String>> {
    let text = string(value)?;
    let list: Vec<String> = text.split(',').map(|m| m.trim().to_string()).collect();
    let bad = |m: &String| {
        m.is_empty()
            || !m
                .split("::")
                .all(|p| syn::parse_str::<syn::Ident>(p).is_ok())
    };
    match list.iter().find(|m| bad(m)) {
        Some(m) => Err(syn::Error::new_spanned(
            value,
            format!("coverage_scope takes module paths such as \"my_server::cache\", comma-separated; {m:?} is not one"),
        )),
        None => Ok(list),
    }
}

/// A `true` or `false` literal.
fn boolean(value: &Expr) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        _ => Err(syn::Error::new_spanned(value, "expected true or false")),
    }
}

/// A positive integer literal.
fn count(value: &Expr) -> syn::Result<usize> {
    let n = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<usize>().ok(),
        _ => None,
    };
    n.filter(|&n| n > 0)
        .ok_or_else(|| syn::Error::new_spanned(value, "expected a whole number, at least 1"))
}

/// A duration literal: `"10s"`, `"500ms"`, `"2m"`.
fn duration_ms(value: &Expr) -> syn::Result<u64> {
    let text = string(value)?;
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else {
        (t, 0)
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| {
            syn::Error::new_spanned(
                value,
                "expected a duration such as \"10s\", \"500ms\" or \"2m\"",
            )
        })
}
