//! The shell commands in README.md and docs/*.md name things that exist: every
//! `cargo … --bench/--example/--test NAME` a target of this package, built with the
//! features it requires (defaults and `--features` counted), every `--features` word a
//! feature, and every script a file. The long ones (benchmarks, the Autobahn and interop
//! runs) are not run here; this keeps them from going stale when a target, a feature
//! default or a script changes (deflate went off by default: a doc's `cargo run --example
//! echo -- --deflate` would no longer work, and this test would say so).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The package's targets and features, read from Cargo.toml (the few keys used here).
struct Manifest {
    features: BTreeSet<String>,
    defaults: BTreeSet<String>,
    /// `features` entries' implications (`tokio = ["std", …]`), for `dep:` and features.
    implies: BTreeMap<String, Vec<String>>,
    /// (kind, name) -> required features.
    targets: BTreeMap<(String, String), Vec<String>>,
}

fn list(value: &str) -> Vec<String> {
    value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).expect("Cargo.toml");
    let mut m = Manifest {
        features: BTreeSet::new(),
        defaults: BTreeSet::new(),
        implies: BTreeMap::new(),
        targets: BTreeMap::new(),
    };
    let mut section = String::new();
    let mut target: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
            target = None;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match section.as_str() {
            "features" if key == "default" => m.defaults.extend(list(value)),
            "features" if !key.starts_with('#') => {
                m.features.insert(key.to_string());
                m.implies.insert(key.to_string(), list(value));
            }
            "bench" | "example" | "test" if key == "name" => {
                let name = value.trim_matches('"').to_string();
                m.targets
                    .insert((section.clone(), name.clone()), Vec::new());
                target = Some((section.clone(), name));
            }
            "bench" | "example" | "test" if key == "required-features" => {
                let t = target.clone().expect("name before required-features");
                m.targets.insert(t, list(value));
            }
            _ => {}
        }
    }
    // Targets cargo finds by their files, when Cargo.toml does not list them.
    for (kind, dir) in [
        ("bench", "benches"),
        ("example", "examples"),
        ("test", "tests"),
    ] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).expect(dir) {
            let path = entry.expect("a directory entry").path();
            let name = if path.extension().is_some_and(|e| e == "rs") {
                path.file_stem()
            } else if path.join("main.rs").is_file() {
                path.file_name()
            } else {
                None
            };
            if let Some(name) = name {
                m.targets
                    .entry((kind.to_string(), name.to_string_lossy().into_owned()))
                    .or_default();
            }
        }
    }
    m
}

impl Manifest {
    /// Every feature on when `given` are (with what each implies).
    fn closure(&self, given: impl IntoIterator<Item = String>) -> BTreeSet<String> {
        let mut on = BTreeSet::new();
        let mut todo: Vec<String> = given.into_iter().collect();
        while let Some(f) = todo.pop() {
            if self.features.contains(&f) && on.insert(f.clone()) {
                todo.extend(self.implies[&f].iter().cloned());
            }
        }
        on
    }
}

/// The words of a shell command line, quotes removed (no expansion).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

/// The command lines of every `sh` block of one Markdown file: continuations joined,
/// comments cut, and split at `|`, `&&`, `;` and `&`.
fn commands(markdown: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            in_sh = !in_sh && matches!(lang.trim(), "sh" | "bash" | "shell");
            continue;
        }
        if !in_sh {
            continue;
        }
        let line = match line.find(" #") {
            Some(at) if !line[..at].contains('\'') || line[..at].matches('\'').count() % 2 == 0 => {
                &line[..at]
            }
            _ => line,
        };
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let whole = std::mem::take(&mut pending);
        let mut words = words(&whole);
        // Split at the shell's separators (each its own word here).
        let mut command = Vec::new();
        for w in words.drain(..) {
            if matches!(w.as_str(), "|" | "&&" | ";" | "&" | "||") {
                out.push(std::mem::take(&mut command));
            } else if let Some(w) = w.strip_suffix(';').or_else(|| w.strip_suffix('&')) {
                command.push(w.to_string());
                out.push(std::mem::take(&mut command));
            } else {
                command.push(w);
            }
        }
        out.push(command);
    }
    out.retain(|c| !c.is_empty());
    out
}

/// The commands quoted in running text: code spans that start with `cargo `, `bash ` or
/// `python3 ` (as in "`cargo run --example echo_blocking`").
fn inline_commands(markdown: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        for (k, span) in line.split('`').enumerate() {
            if k % 2 == 1
                && ["cargo ", "bash ", "python3 "]
                    .iter()
                    .any(|p| span.starts_with(p))
            {
                out.extend(commands(&format!("```sh\n{span}\n```\n")));
            }
        }
    }
    out
}

/// What is wrong with one command, if anything.
fn check(m: &Manifest, command: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    // Leading `NAME=value` words set the environment.
    let words: Vec<&str> = command
        .iter()
        .map(String::as_str)
        .skip_while(|w| {
            w.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            })
        })
        .collect();
    let Some(&program) = words.first() else {
        return problems;
    };
    let script = match program {
        "bash" | "sh" | "python3" | "node" => words.get(1).copied(),
        p if p.contains('/') => Some(p),
        _ => None,
    };
    if let Some(script) = script.filter(|s| !s.starts_with('-') && !s.contains('$')) {
        if !s_exists(script) {
            problems.push(format!("no file {script}"));
        }
    }
    if program != "cargo" {
        return problems;
    }
    // Cargo's own arguments end at `--`.
    let args: Vec<&str> = words[1..]
        .iter()
        .copied()
        .take_while(|w| *w != "--")
        .collect();
    let mut features: Vec<String> = Vec::new();
    let (mut defaults, mut all) = (true, false);
    let mut wanted = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).copied().unwrap_or("");
        match args[i] {
            "--features" | "-F" => {
                features.extend(value.split([',', ' ']).map(str::to_string));
                i += 1;
            }
            "--no-default-features" => defaults = false,
            "--all-features" => all = true,
            kind @ ("--bench" | "--example" | "--test") => {
                wanted.push((kind.trim_start_matches('-').to_string(), value.to_string()));
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    for f in &features {
        if !m.features.contains(f) {
            problems.push(format!("no feature {f}"));
        }
    }
    let mut given = features.clone();
    if defaults {
        given.extend(m.defaults.iter().cloned());
    }
    let on = if all {
        m.features.clone()
    } else {
        m.closure(given)
    };
    for target in wanted {
        match m.targets.get(&target) {
            None => problems.push(format!("no {} target {}", target.0, target.1)),
            Some(required) => {
                for f in required.iter().filter(|f| !on.contains(*f)) {
                    problems.push(format!("{} {} needs --features {f}", target.0, target.1));
                }
            }
        }
    }
    // The examples' `--deflate` flag needs the (off by default) `deflate` feature.
    let program_args = words[1..].iter().skip_while(|w| **w != "--");
    if program_args.clone().any(|w| *w == "--deflate") && !on.contains("deflate") {
        problems.push("--deflate needs --features deflate".to_string());
    }
    problems
}

fn s_exists(path: &str) -> bool {
    Path::new(ROOT).join(path).is_file()
}

#[test]
fn every_documented_command_names_what_exists() {
    let m = manifest();
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let (mut checked, mut problems) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a Markdown file");
        for command in commands(&text).into_iter().chain(inline_commands(&text)) {
            checked += 1;
            for p in check(&m, &command) {
                problems.push(format!("{}: `{}`: {p}", file.display(), command.join(" ")));
            }
        }
    }
    assert!(
        checked >= 60,
        "only {checked} commands found: is the parser blind?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself finds what it is for (so that a passing run means something).
#[test]
fn the_checker_finds_stale_commands() {
    let m = manifest();
    let bad = |line: &str| {
        let cmds = commands(&format!("```sh\n{line}\n```\n"));
        cmds.iter().flat_map(|c| check(&m, c)).collect::<Vec<_>>()
    };
    assert_eq!(
        bad("cargo run --example echo -- --deflate"),
        ["--deflate needs --features deflate"]
    );
    assert_eq!(
        bad("cargo run --features deflate --example echo -- --deflate"),
        Vec::<String>::new()
    );
    assert_eq!(
        bad("cargo bench --bench nonesuch"),
        ["no bench target nonesuch"]
    );
    assert_eq!(
        bad("cargo run --example nonesuch"),
        ["no example target nonesuch"]
    );
    assert_eq!(
        bad("cargo bench --bench deflate"),
        ["bench deflate needs --features deflate"]
    );
    assert_eq!(
        bad("cargo bench --features deflate --bench deflate"),
        Vec::<String>::new()
    );
    assert_eq!(
        bad("cargo test --all-features --test chat"),
        Vec::<String>::new()
    );
    assert_eq!(
        bad("cargo run --no-default-features --example echo"),
        ["example echo needs --features tokio"]
    );
    assert_eq!(
        bad("cargo build --features nonesuch"),
        ["no feature nonesuch"]
    );
    assert_eq!(
        bad("X=1 bash scripts/nonesuch.sh"),
        ["no file scripts/nonesuch.sh"]
    );
    assert_eq!(
        bad("REPEATS=2 scripts/bench/e2e.sh   # a comment"),
        Vec::<String>::new()
    );
    assert_eq!(
        bad("printf 'a # b' | cargo run --example client -- ws://x/ &"),
        Vec::<String>::new()
    );
    assert_eq!(
        bad("A=1 \\\n  cargo bench --bench nonesuch"),
        ["no bench target nonesuch"]
    );
    let inline = inline_commands("Run `cargo run --example nonesuch` or `bash x.sh`, not `ls`.");
    let found: Vec<String> = inline.iter().flat_map(|c| check(&m, c)).collect();
    assert_eq!(found, ["no example target nonesuch", "no file x.sh"]);
}
