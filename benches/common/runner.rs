//! Runs a group of bench functions either through criterion (the default) or, with
//! `PAIRED_ROUNDS=N` in the environment, as paired rounds: each round runs every function
//! once, in an order rotated by one each round, and ours ÷ the fastest peer is taken
//! within the round. On a shared machine whose speed drifts over seconds, criterion's
//! consecutive samples of one function at a time see a different machine from the next
//! function's; a ratio taken within a round (tens of milliseconds) does not, so the
//! median of the per-round ratios is the steadier figure.
//!
//! A function is ours when its name starts with `rfc6455`; `memcpy` is a floor, not a
//! peer; every other function is a peer.

use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};

/// A bench function: one iteration of the measured work per call.
type Function<'f> = Box<dyn FnMut() + 'f>;

/// Where the functions of one group go.
pub enum Runner<'c, 'f> {
    /// Each function benchmarked by criterion as soon as it is added.
    Criterion(BenchmarkGroup<'c, WallTime>),
    /// A paired run whose command line names other groups: nothing runs.
    Skipped,
    /// The functions kept until [`Runner::finish`] runs the rounds.
    Paired {
        group: String,
        rounds: usize,
        functions: Vec<(String, Function<'f>)>,
    },
}

impl<'c, 'f> Runner<'c, 'f> {
    /// A runner for `group`: paired when `PAIRED_ROUNDS` is set (and then only for the
    /// groups whose name contains a word of the command line, when it has any, as
    /// criterion filters), else criterion (which `configure` may set up: throughput,
    /// sampling).
    pub fn new(
        c: &'c mut Criterion,
        group: String,
        configure: impl FnOnce(&mut BenchmarkGroup<'c, WallTime>),
    ) -> Self {
        match std::env::var("PAIRED_ROUNDS") {
            Ok(_) if !selected(&group) => Runner::Skipped,
            Ok(rounds) => Runner::Paired {
                group,
                rounds: rounds.parse().expect("PAIRED_ROUNDS is a number of rounds"),
                functions: Vec::new(),
            },
            Err(_) => {
                let mut g = c.benchmark_group(group);
                configure(&mut g);
                Runner::Criterion(g)
            }
        }
    }

    /// Adds a function; criterion measures it at once, paired rounds at `finish`.
    pub fn add(&mut self, name: &str, mut function: impl FnMut() + 'f) {
        match self {
            Runner::Criterion(g) => {
                g.bench_function(name, |b| b.iter(&mut function));
            }
            Runner::Paired { functions, .. } => {
                functions.push((name.to_string(), Box::new(function)));
            }
            Runner::Skipped => {}
        }
    }

    /// Ends the group: criterion's report, or the paired rounds and their table.
    pub fn finish(self) {
        match self {
            Runner::Criterion(g) => g.finish(),
            Runner::Skipped => {}
            Runner::Paired {
                group,
                rounds,
                mut functions,
            } => run_paired(&group, rounds, &mut functions),
        }
    }
}

/// Whether the command line (its words that are not flags; `A|B` as criterion's filter
/// regex would read it) selects `group`.
fn selected(group: &str) -> bool {
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    words.is_empty()
        || words
            .iter()
            .flat_map(|w| w.split('|'))
            .any(|w| group.contains(w))
}

fn run_paired(group: &str, rounds: usize, functions: &mut [(String, Function<'_>)]) {
    let n = functions.len();
    // One untimed call each: first-touch page faults and lazily built state.
    for (_, f) in functions.iter_mut() {
        f();
    }
    let mut times = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let start = Instant::now();
            (functions[i].1)();
            times[i].push(start.elapsed());
        }
    }
    let is_peer = |name: &str| !name.starts_with("rfc6455") && name != "memcpy";
    println!("\n{group} (paired: {rounds} rounds, median time per call)");
    let mut medians: Vec<(usize, Duration)> =
        (0..n).map(|i| (i, median(&mut times[i].clone()))).collect();
    medians.sort_by_key(|&(_, t)| t);
    for &(i, t) in &medians {
        println!("  {:28} {:>10.3} ms", functions[i].0, t.as_secs_f64() * 1e3);
    }
    let peers: Vec<usize> = (0..n).filter(|&i| is_peer(&functions[i].0)).collect();
    if peers.is_empty() {
        return;
    }
    // The fastest peer of each round, and how often each peer was it.
    let fastest: Vec<usize> = (0..rounds)
        .map(|r| {
            *peers
                .iter()
                .min_by_key(|&&p| times[p][r])
                .expect("at least one peer")
        })
        .collect();
    let mut wins: Vec<(usize, usize)> = peers
        .iter()
        .map(|&p| (fastest.iter().filter(|&&f| f == p).count(), p))
        .collect();
    wins.sort_unstable_by(|a, b| b.cmp(a));
    let most = &functions[wins[0].1].0;
    for i in (0..n).filter(|&i| functions[i].0.starts_with("rfc6455")) {
        let mut ratios: Vec<f64> = (0..rounds)
            .map(|r| times[i][r].as_secs_f64() / times[fastest[r]][r].as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
        println!(
            "  {} ÷ fastest peer of each round: median {:.2} [quartiles {:.2}-{:.2}] (fastest most often: {most}, {} of {rounds})",
            functions[i].0,
            at(0.5),
            at(0.25),
            at(0.75),
            wins[0].0,
        );
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}
