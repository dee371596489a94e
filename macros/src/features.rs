//! The test crate's features, read from its `Cargo.toml` when the macro expands, so the
//! generated code can ask `cfg!(feature = "...")` of each and the replay command can carry
//! `--features` and `--no-default-features` exactly as the failing build had them.

use proc_macro2::TokenStream;
use quote::quote;

/// The package's `[features]` table: each feature's name and what it turns on (empty if the
/// manifest cannot be read).
fn declared() -> Vec<(String, Vec<String>)> {
    let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")) else {
        return Vec::new();
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(toml::Value::Table(t)) = manifest.get("features") else {
        return Vec::new();
    };
    t.iter()
        .map(|(name, v)| {
            let on = match v {
                toml::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            (name.clone(), on)
        })
        .collect()
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
