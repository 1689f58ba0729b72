//! `NAME=N,NAME=N` as every `--<service>-quotas` flag takes it: any subset of the service's quotas,
//! the rest left at AWS's defaults.

/// One service's quotas from one table: the struct (each field with its flag name and AWS's
/// default), `Default`, and `parse` for the service's `--<service>-quotas` flag.
macro_rules! quotas {
    ($(#[$meta:meta])* pub struct $name:ident { $($field:ident: $flag:literal = $default:expr,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $(pub $field: usize,)+
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $($field: $default,)+ }
            }
        }

        /// As the flag takes it, every quota named: the flag's default in `--help`.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let pairs = [$(format!("{}={}", $flag, self.$field),)+];
                f.write_str(&pairs.join(","))
            }
        }

        impl $name {
            /// `NAME=N,…` with the flag names above (any subset; the rest default).
            pub fn parse(spec: &str) -> Result<Self, String> {
                let mut quotas = Self::default();
                crate::quota_flags::parse(spec, &mut [$(($flag, &mut quotas.$field),)+])?;
                Ok(quotas)
            }
        }
    };
}
pub(crate) use quotas;

/// Sets each named slot from `spec`; an unknown name is refused with the names there are.
pub fn parse(spec: &str, slots: &mut [(&str, &mut usize)]) -> Result<(), String> {
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item.split_once('=').ok_or("expected NAME=N")?;
        let value: usize = value.parse().map_err(|e| format!("{name}: {e}"))?;
        let Some((_, slot)) = slots.iter_mut().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = slots.iter().map(|(n, _)| *n).collect();
            return Err(format!("unknown quota {name:?} ({})", names.join(", ")));
        };
        **slot = value;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_subset_is_set_and_an_unknown_name_is_refused_with_the_known_ones() {
        let (mut a, mut b) = (1, 2);
        super::parse(" a=10, ", &mut [("a", &mut a), ("b", &mut b)]).unwrap();
        assert_eq!((a, b), (10, 2));
        let refused = super::parse("c=1", &mut [("a", &mut a), ("b", &mut b)]).unwrap_err();
        assert_eq!(refused, "unknown quota \"c\" (a, b)");
        assert!(super::parse("a=x", &mut [("a", &mut a)]).is_err());
    }
}
