//! The test crate's features, read from its `Cargo.toml` when the macro expands, so the
//! generated code can ask `cfg!(feature = "...")` of each and the replay command can carry
//! `--features` and `--no-default-features` exactly as the failing build had them.
//!
//! What it cannot see: features of other packages turned on from the command line
//! (`--features dep/feat`), and a profile other than `dev` or `release` (the replay command
//! says `--release` when debug assertions are off). An `ignore` attribute is seen when written as
//! such, not inside `cfg_attr`; and the expansion names `::doppel`, so the dependency must keep
//! that name.

use proc_macro2::TokenStream;
use quote::quote;

/// The package's features: each feature's name and what it turns on, from its `[features]`
/// table, and the implicit feature of each optional dependency no feature names as `dep:NAME`
/// (empty if the manifest cannot be read).
fn declared() -> Vec<(String, Vec<String>)> {
    let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")) else {
        return Vec::new();
    };
    from_manifest(&text)
}

/// [`declared`], from the manifest's text.
fn from_manifest(text: &str) -> Vec<(String, Vec<String>)> {
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut table: Vec<(String, Vec<String>)> = match manifest.get("features") {
        Some(toml::Value::Table(t)) => t
            .iter()
            .map(|(name, v)| (name.clone(), strings(v)))
            .collect(),
        _ => Vec::new(),
    };
    let named_as_dep = |d: &str| {
        table
            .iter()
            .any(|(_, on)| on.iter().any(|x| x.strip_prefix("dep:") == Some(d)))
    };
    let implicit: Vec<String> = optional_deps(&manifest)
        .into_iter()
        .filter(|d| !named_as_dep(d) && !table.iter().any(|(n, _)| n == d))
        .collect();
    table.extend(implicit.into_iter().map(|d| (d, Vec::new())));
    table
}

/// The strings of a TOML array (or nothing).
fn strings(v: &toml::Value) -> Vec<String> {
    match v {
        toml::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The names of the manifest's optional dependencies, in `[dependencies]` and in each
/// `[target.*.dependencies]`.
fn optional_deps(manifest: &toml::Table) -> Vec<String> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    if let Some(toml::Value::Table(d)) = manifest.get("dependencies") {
        tables.push(d);
    }
    if let Some(toml::Value::Table(targets)) = manifest.get("target") {
        for t in targets.values() {
            if let Some(toml::Value::Table(d)) = t.get("dependencies") {
                tables.push(d);
            }
        }
    }
    let mut names: Vec<String> = tables
        .into_iter()
        .flat_map(|d| d.iter())
        .filter(|(_, v)| v.get("optional").and_then(toml::Value::as_bool) == Some(true))
        .map(|(k, _)| k.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The expressions for the features enabled in this build and for whether the package's
/// default features are off. A feature the default set turns on is listed only when the
/// default set is off (then `--no-default-features --features it` rebuilds the same thing).
pub(crate) fn tokens() -> (TokenStream, TokenStream) {
    let table = declared();
    let defaults: Vec<String> = table
        .iter()
        .find(|(n, _)| n == "default")
        .map(|(_, on)| on.clone())
        .unwrap_or_default();
    let has_default = table.iter().any(|(n, _)| n == "default");
    let (by_default, others): (Vec<&String>, Vec<&String>) = table
        .iter()
        .map(|(n, _)| n)
        .filter(|n| *n != "default")
        .partition(|n| defaults.contains(n));
    let features = quote! {{
        #[allow(unused_mut)]
        let mut features: ::std::vec::Vec<&'static str> = ::std::vec::Vec::new();
        #( if cfg!(feature = #by_default) && !cfg!(feature = "default") {
            features.push(#by_default);
        } )*
        #( if cfg!(feature = #others) { features.push(#others); } )*
        features
    }};
    let no_default = if has_default {
        quote! { !cfg!(feature = "default") }
    } else {
        quote! { false }
    };
    (features, no_default)
}

#[cfg(test)]
mod tests {
    #[test]
    fn features_come_from_the_table_and_from_optional_dependencies() {
        let manifest = r#"
            [features]
            default = ["a"]
            a = []
            tls = ["dep:rustls"]
            [dependencies]
            serde = { version = "1", optional = true }
            rustls = { version = "0.23", optional = true }
            libc = "0.2"
            [target.'cfg(unix)'.dependencies]
            nix = { version = "0.29", optional = true }
        "#;
        let names: Vec<String> = super::from_manifest(manifest)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["a", "default", "tls", "nix", "serde"]);
        assert!(super::from_manifest("not toml [").is_empty());
    }
}
