//! The expansion: the user's function, kept as it is inside a `#[test]` of the same name,
//! which hands it to `doppel::sim::testing::run` with the attribute's arguments and the
//! crate's compile-time facts (package, target, profile, features).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, ItemFn, ReturnType};

use crate::args::Args;

/// Expands `#[doppel::test(attr)] item`.
pub(crate) fn test(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = Args::parse(attr)?;
    let mut f: ItemFn = syn::parse2(item)?;
    check_signature(&f)?;
    let name = f.sig.ident.clone();
    let name_str = name.to_string();
    let ignored = f.attrs.iter().any(|a| a.path().is_ident("ignore"));
    let (outer, inner): (Vec<_>, Vec<_>) = f.attrs.drain(..).partition(|a| {
        ["ignore", "should_panic", "cfg", "cfg_attr", "allow", "doc"]
            .iter()
            .any(|k| a.path().is_ident(k))
    });
    f.attrs = inner;
    f.sig.ident = syn::Ident::new("__doppel_world", name.span());
    let vis = f.vis.clone();
    f.vis = syn::Visibility::Inherited;
    let seeds = args.seeds_tokens();
    let opt_str = |v: &Option<String>| match v {
        Some(s) => quote! { ::std::option::Option::Some(#s) },
        None => quote! { ::std::option::Option::None },
    };
    let faults = opt_str(&args.faults);
    let strategy = opt_str(&args.strategy);
    let jobs = match args.jobs {
        Some(n) => quote! { ::std::option::Option::Some(#n) },
        None => quote! { ::std::option::Option::None },
    };
    let shrink_ms = args.shrink_ms.unwrap_or(20_000);
    let show = args.show.unwrap_or(3);
    let (features, no_default) = crate::features::tokens();
    Ok(quote! {
        #[test]
        #(#outer)*
        #vis fn #name() {
            #f
            let spec = ::doppel::sim::testing::TestSpec {
                name: #name_str,
                module: ::std::module_path!(),
                seeds: #seeds,
                faults: #faults,
                strategy: #strategy,
                jobs: #jobs,
                shrink_time: ::std::time::Duration::from_millis(#shrink_ms),
                show: #show,
                ignored: #ignored,
                target: ::doppel::sim::target!(#features, #no_default),
            };
            ::doppel::sim::testing::run(&spec, __doppel_world);
        }
    })
}

/// The function must be `fn NAME(seed: u64) -> SimBuilder`: not async, one argument, a
/// return type.
fn check_signature(f: &ItemFn) -> syn::Result<()> {
    let sig = &f.sig;
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            a,
            "#[doppel::test] takes `fn NAME(seed: u64) -> doppel::sim::SimBuilder`, not an async fn: \
             put the async code in the world's hosts and clients",
        ));
    }
    let args: Vec<&FnArg> = sig.inputs.iter().collect();
    if args.len() != 1 || matches!(args[0], FnArg::Receiver(_)) {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "#[doppel::test] takes one argument, the seed: `fn NAME(seed: u64) -> doppel::sim::SimBuilder`",
        ));
    }
    if matches!(sig.output, ReturnType::Default) {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "#[doppel::test] needs the world's builder back: `-> doppel::sim::SimBuilder`",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "#[doppel::test] functions take no generic parameters",
        ));
    }
    Ok(())
}
