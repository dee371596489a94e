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
    if f.sig.asyncness.is_some() {
        f = inline_world(f, &args)?;
    } else if let Some(server) = &args.server {
        return Err(syn::Error::new_spanned(
            server,
            "server = ... goes with the async form: `async fn NAME() -> std::io::Result<()>` whose body is the client",
        ));
    }
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
    let require_coverage = args.require_coverage;
    let plateau = match args.plateau {
        Some(n) => {
            let n = n as u64;
            quote! { ::std::option::Option::Some(#n) }
        }
        None => quote! { ::std::option::Option::None },
    };
    let scope = &args.coverage_scope;
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
                require_coverage: #require_coverage,
                plateau: #plateau,
                coverage_scope: &[#(#scope),*],
                ignored: #ignored,
                target: ::doppel::sim::target!(#features, #no_default),
            };
            ::doppel::sim::testing::run(&spec, __doppel_world);
        }
    })
}

/// The async form: `#[doppel::test(server = EXPR)] async fn NAME([seed: u64]) -> io::Result<()>`
/// becomes the world function of the plain form: host `server` at 10.0.0.1 runs `EXPR` (made
/// afresh at each start), host `client` at 10.0.0.2 runs the body.
fn inline_world(f: ItemFn, args: &Args) -> syn::Result<ItemFn> {
    let Some(server) = &args.server else {
        return Err(syn::Error::new_spanned(
            f.sig.asyncness,
            "the async form of #[doppel::test] needs `server = EXPR` (the server's main, e.g. \
             `server = my_crate::serve(\"0.0.0.0:7000\")`); or write `fn NAME(seed: u64) -> \
             doppel::sim::SimBuilder`",
        ));
    };
    let seed = match f.sig.inputs.iter().collect::<Vec<_>>().as_slice() {
        [] => quote! { let _: u64 = seed; },
        [FnArg::Typed(t)] => {
            let (pat, ty) = (&t.pat, &t.ty);
            quote! { #[allow(unused_variables)] let #pat: #ty = seed; }
        }
        _ => {
            return Err(syn::Error::new_spanned(
                &f.sig.inputs,
                "the async form of #[doppel::test] takes no argument, or the seed: `seed: u64`",
            ))
        }
    };
    let ReturnType::Type(_, output) = &f.sig.output else {
        return Err(syn::Error::new_spanned(
            &f.sig.ident,
            "the async form of #[doppel::test] returns the client's result: `-> std::io::Result<()>`",
        ));
    };
    let (attrs, vis, ident, body) = (&f.attrs, &f.vis, &f.sig.ident, &f.block);
    syn::parse2(quote! {
        #(#attrs)*
        #vis fn #ident(seed: u64) -> ::doppel::sim::SimBuilder {
            ::doppel::sim::SimBuilder::new(seed)
                .host("server", "10.0.0.1", || #server)
                .client("client", "10.0.0.2", move || async move {
                    #seed
                    let out: #output = #body;
                    out
                })
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

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The compile error `#[doppel::test(attr)] item` gives.
    fn error(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
        match super::test(attr, item) {
            Ok(_) => panic!("expanded"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bad_uses_are_compile_errors_that_say_what_to_write() {
        let world = quote! { fn w(seed: u64) -> doppel::sim::SimBuilder { body() } };
        let e = error(quote! { seeds = 5 }, world.clone());
        assert!(e.contains("seeds takes a range with both ends"), "{e}");
        let e = error(quote! { seed = 0..5 }, world.clone());
        assert!(
            e.contains("unknown argument") && e.contains("seeds, faults"),
            "{e}"
        );
        let e = error(quote! { faults = 0.5 }, world.clone());
        assert!(e.contains("expected a string literal"), "{e}");
        let e = error(quote! { jobs = 0 }, world.clone());
        assert!(e.contains("at least 1"), "{e}");
        let e = error(quote! { shrink_time = "10 years" }, world.clone());
        assert!(e.contains("expected a duration"), "{e}");
        let e = error(quote! { server = serve() }, world);
        assert!(e.contains("goes with the async form"), "{e}");
        let e = error(
            quote! {},
            quote! { fn w() -> doppel::sim::SimBuilder { body() } },
        );
        assert!(e.contains("takes one argument, the seed"), "{e}");
        let e = error(quote! {}, quote! { fn w(seed: u64) {} });
        assert!(e.contains("needs the world's builder back"), "{e}");
        let e = error(
            quote! {},
            quote! { async fn w() -> std::io::Result<()> { Ok(()) } },
        );
        assert!(e.contains("needs `server = EXPR`"), "{e}");
        let e = error(quote! { server = s() }, quote! { async fn w() {} });
        assert!(e.contains("-> std::io::Result<()>"), "{e}");
        let world = quote! { fn w(seed: u64) -> doppel::sim::SimBuilder { body() } };
        let e = error(quote! { seeds = 5..3 }, world.clone());
        assert!(e.contains("seeds 5..3 is empty"), "{e}");
        let e = error(quote! { seeds = 4..4 }, world);
        assert!(e.contains("is empty"), "{e}");
    }

    #[test]
    fn a_good_use_keeps_the_test_attributes_outside() {
        let out = super::test(
            quote! { seeds = 0..=9, faults = "benign=0.1" },
            quote! {
                /// Docs.
                #[ignore = "slow"]
                fn w(seed: u64) -> doppel::sim::SimBuilder { body() }
            },
        )
        .expect("expands")
        .to_string();
        assert!(out.starts_with("# [test] # [doc"), "{out}");
        assert!(out.contains("# [ignore = \"slow\"] fn w ()"), "{out}");
        assert!(out.contains("ignored : true"), "{out}");
        assert!(out.contains("testing :: inclusive (0 , 9)"), "{out}");
    }
}
