//! Command-line flags, parsed by hand: `--name value`, `--name=value`, positionals.

use std::fmt;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

/// A command-line mistake, printed as `error: ...` with a pointer to `--help`.
#[derive(Debug)]
pub struct ArgError(pub String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgError {}

/// The exit status for a bad command line.
pub const EXIT_USAGE: u8 = 2;

/// Turns a `parse_args` outcome into the options, or into the exit status after printing
/// the help (`Ok(None)`: status 0) or the error (status [`EXIT_USAGE`]).
pub fn options_or_exit<T>(parsed: Result<Option<T>, ArgError>, usage: &str) -> Result<T, ExitCode> {
    match parsed {
        Ok(Some(options)) => Ok(options),
        Ok(None) => {
            print!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}\nRun with --help for the options.");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// One command-line argument.
#[derive(Debug, PartialEq, Eq)]
pub enum Arg {
    /// `--name` or `-n`, possibly with a value after `=` still to be taken with
    /// [`Args::value`].
    Flag(String),
    /// Anything else (and everything after `--`).
    Positional(String),
}

/// The arguments after the program name, walked one at a time.
#[derive(Debug)]
pub struct Args {
    args: std::vec::IntoIter<String>,
    /// The flag being handled, for error messages.
    flag: String,
    /// The `value` of `--flag=value`, until taken.
    inline: Option<String>,
    only_positionals: bool,
}

impl Args {
    /// The process's arguments, program name skipped.
    pub fn from_env() -> Self {
        Self::new(std::env::args().skip(1))
    }

    /// The given arguments (program name not included).
    pub fn new(args: impl IntoIterator<Item = String>) -> Self {
        Args {
            args: args.into_iter().collect::<Vec<_>>().into_iter(),
            flag: String::new(),
            inline: None,
            only_positionals: false,
        }
    }

    /// The next argument.
    ///
    /// # Errors
    /// If the previous flag was given a value (`--help=x`) it does not take.
    pub fn next_arg(&mut self) -> Result<Option<Arg>, ArgError> {
        if self.inline.is_some() {
            return Err(ArgError(format!("{} takes no value", self.flag)));
        }
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        if self.only_positionals || arg == "-" || !arg.starts_with('-') {
            return Ok(Some(Arg::Positional(arg)));
        }
        if arg == "--" {
            self.only_positionals = true;
            return self.next_arg();
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg, None),
        };
        self.flag.clone_from(&flag);
        self.inline = inline;
        Ok(Some(Arg::Flag(flag)))
    }

    /// The value of the flag just returned: after `=`, or the next argument.
    ///
    /// # Errors
    /// If there is none.
    pub fn value(&mut self) -> Result<String, ArgError> {
        if let Some(value) = self.inline.take() {
            return Ok(value);
        }
        self.args
            .next()
            .ok_or_else(|| ArgError(format!("{} needs a value", self.flag)))
    }

    /// The value of the flag just returned, parsed.
    ///
    /// # Errors
    /// If there is none, or it does not parse.
    pub fn parse<T>(&mut self) -> Result<T, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let value = self.value()?;
        value
            .parse()
            .map_err(|e| ArgError(format!("{} {value:?}: {e}", self.flag)))
    }

    /// The value of the flag just returned, as a duration: `10` or `10s` (seconds,
    /// fractions allowed), `500ms`.
    ///
    /// # Errors
    /// If there is none, or it is not a duration.
    pub fn duration(&mut self) -> Result<Duration, ArgError> {
        let value = self.value()?;
        parse_duration(&value).ok_or_else(|| {
            ArgError(format!(
                "{} {value:?}: expected e.g. 10s or 500ms",
                self.flag
            ))
        })
    }

    /// The value of the flag just returned, as a byte count: `1048576`, `64KiB`, `16MiB`,
    /// `1GiB` (`K`, `M`, `G` also mean powers of 1024).
    ///
    /// # Errors
    /// If there is none, or it is not a size.
    pub fn size(&mut self) -> Result<u64, ArgError> {
        let value = self.value()?;
        parse_size(&value).ok_or_else(|| {
            ArgError(format!(
                "{} {value:?}: expected e.g. 65536 or 16MiB",
                self.flag
            ))
        })
    }

    /// An error for a flag no one asked for.
    pub fn unknown(&self) -> ArgError {
        ArgError(format!("unknown flag {}", self.flag))
    }
}

/// `10`, `10s`, `1.5s`, `500ms`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (number, scale) = if let Some(ms) = s.strip_suffix("ms") {
        (ms, 1e-3)
    } else {
        (s.strip_suffix('s').unwrap_or(s), 1.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    Duration::try_from_secs_f64(value * scale).ok()
}

/// `65536`, `64K`, `64KiB`, `16M`, `16MiB`, `1G`, `1GiB`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(ToString::to_string))
    }

    #[test]
    fn flags_values_positionals() {
        let mut a = args(&["--addr", "1:2", "--x=3", "url", "--", "--y"]);
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Flag("--addr".into())));
        assert_eq!(a.value().unwrap(), "1:2");
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Flag("--x".into())));
        assert_eq!(a.parse::<u8>().unwrap(), 3);
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Positional("url".into())));
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Positional("--y".into())));
        assert_eq!(a.next_arg().unwrap(), None);
    }

    #[test]
    fn errors() {
        let mut a = args(&["--help=1"]);
        a.next_arg().unwrap();
        assert!(a.next_arg().is_err());
        let mut a = args(&["--addr"]);
        a.next_arg().unwrap();
        assert!(a.value().is_err());
    }

    #[test]
    fn units() {
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_size("16MiB"), Some(16 << 20));
        assert_eq!(parse_size("64k"), Some(64 << 10));
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("1TiB"), None);
    }
}

/// `--deflate`: `options` with permessage-deflate (RFC 7692) at its default policy:
/// offered by a client, accepted by a server. It needs the crate's `deflate` feature
/// (off by default: `cargo run --features deflate --example ...`).
///
/// # Errors
/// If the crate was built without the `deflate` feature.
#[cfg(feature = "tokio")]
pub fn with_deflate(options: rfc6455::tokio::Options) -> Result<rfc6455::tokio::Options, ArgError> {
    #[cfg(feature = "deflate")]
    {
        Ok(options.deflate(Some(rfc6455::deflate::DeflateConfig::default())))
    }
    #[cfg(not(feature = "deflate"))]
    {
        let _ = options;
        Err(ArgError(
            "--deflate needs the crate's `deflate` feature: `cargo run --features deflate --example ...`"
                .into(),
        ))
    }
}
