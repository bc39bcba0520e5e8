//! The command line's manners: shell completions and the manual page generated from the argument
//! definitions, exit status in `--help`, and progress shown on a terminal only.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{
    EN_LISTING, FIXTURE_EN_ARTICLES, FIXTURE_ZH_ARTICLES, SiteServer, TestEnv, fixture_site,
};

fn briefwatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_briefwatch"))
        .args(args)
        .env_remove("BRIEFWATCH_CONFIG")
        .env_remove("BRIEFWATCH_STATE")
        .output()
        .expect("run briefwatch")
}

fn stdout_of(args: &[&str]) -> String {
    let output = briefwatch(args);
    assert!(
        output.status.success(),
        "briefwatch {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn completions_for_each_shell_know_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        for word in ["export", "backfill", "completions", "pairs", "format"] {
            assert!(
                script.contains(word),
                "{shell} completion lacks {word}:\n{script}"
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let bash = dir.path().join("briefwatch.bash");
    std::fs::write(&bash, stdout_of(&["completions", "bash"])).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&bash).output().unwrap();
    assert!(
        checked.status.success(),
        "bash -n rejects the completion: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // Sourced, it completes the first word of `briefwatch ex`.
    let completed = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(briefwatch ex); COMP_CWORD=1; COMP_LINE='briefwatch ex'; \
             COMP_POINT=13; _briefwatch briefwatch ex briefwatch; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            bash.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&completed.stdout);
    assert!(
        words.lines().any(|word| word == "export") && words.lines().any(|w| w == "extract"),
        "bash completes `briefwatch ex` to: {words:?} ({})",
        String::from_utf8_lossy(&completed.stderr)
    );

    let wrong = briefwatch(&["completions", "tcsh"]);
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "an unknown shell is a bad command line"
    );
}

#[test]
fn the_manual_page_renders_and_names_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH briefwatch 1"), "{page}");
    for word in ["export", "backfill", "completions", "Exit status"] {
        assert!(page.contains(word), "the page lacks {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("briefwatch.1");
    std::fs::write(&file, &page).unwrap();
    if Path::new("/usr/bin/man").exists() || which("man") {
        let rendered = Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100")
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(
            rendered.status.success(),
            "man -l: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        assert!(
            text.contains("SYNOPSIS") && text.contains("export"),
            "{text}"
        );
    }

    // One page per command, for installing.
    let pages = dir.path().join("man1");
    stdout_of(&["man", "--dir", pages.to_str().unwrap()]);
    for name in [
        "briefwatch.1",
        "briefwatch-export.1",
        "briefwatch-backfill.1",
    ] {
        let text = std::fs::read_to_string(pages.join(name))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(text.contains(".TH"), "{name}");
    }
    let export = std::fs::read_to_string(pages.join("briefwatch-export.1")).unwrap();
    assert!(
        export.contains("pairs") && export.contains("history"),
        "{export}"
    );
    // The page of one command, printed, is the one written for it.
    assert_eq!(stdout_of(&["man", "export"]), export);
    assert_eq!(briefwatch(&["man", "nope"]).status.code(), Some(1));
}

/// A corpus manifest of the fixture site's articles and English listing (9 pages), copied into
/// the manifest's folder, where an import reads its files.
fn fixture_manifest(env: &TestEnv) -> std::path::PathBuf {
    let root = fixture_site();
    let manifest = env.dir.path().join("MANIFEST.tsv");
    let mut rows =
        vec!["url\tstatus\tlocation\tfile\tbytes\tsha256\tcontent_type\tfetched_date".to_string()];
    for path in FIXTURE_EN_ARTICLES
        .iter()
        .chain(&FIXTURE_ZH_ARTICLES)
        .chain(&[EN_LISTING])
    {
        let relative = format!("site{path}");
        let copy = env.dir.path().join(&relative);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(root.join(path.trim_start_matches('/')), &copy).unwrap();
        let size = std::fs::metadata(&copy).unwrap().len();
        rows.push(format!(
            "https://www.fmprc.gov.cn{path}\t200\t\t{relative}\t{size}\t-\ttext/html\tSat, 04 Jul 2020 03:55:38 GMT"
        ));
    }
    std::fs::write(&manifest, rows.join("\n") + "\n").unwrap();
    manifest
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[test]
fn help_tells_the_exit_status() {
    let help = stdout_of(&["--help"]);
    for words in [
        "Exit status",
        "0 done",
        "1 error",
        "2 bad command line",
        "3 ",
    ] {
        assert!(help.contains(words), "--help lacks {words:?}:\n{help}");
    }
    let bad = briefwatch(&["export", "--format", "xlsx"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Long jobs with stderr to a pipe (a script, a cron job, a log file) write nothing there.
#[test]
fn long_jobs_show_no_progress_when_stderr_is_not_a_terminal() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let out = env.dir.path().join("out.csv");
    let manifest = fixture_manifest(&env);
    for args in [
        &["import", manifest.to_str().unwrap()][..],
        &["backfill"],
        &["export", "--format", "csv", "--out", out.to_str().unwrap()],
        &["export", "--pairs"],
        &["search", "--reindex"],
    ] {
        let output = env.briefwatch_output(args);
        assert!(output.status.success(), "briefwatch {args:?} failed");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "",
            "briefwatch {args:?} wrote on a stderr that is no terminal"
        );
    }
    assert!(std::fs::metadata(&out).unwrap().len() > 1000);
}

/// On a terminal (a pseudo-terminal made by `script`), the same jobs tell how far they got.
#[test]
fn long_jobs_show_progress_on_a_terminal() {
    assert!(
        which("script"),
        "`script` (util-linux) makes the terminal of this test"
    );
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let binary = env!("CARGO_BIN_EXE_briefwatch");
    let on_a_terminal_of = |env: &TestEnv, args: &str| {
        let command = format!(
            "{binary} --config {} --state {} {args}",
            env.config.display(),
            env.state.display()
        );
        let output = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("RUST_LOG", "warn,html5ever=error")
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .output()
            .expect("run script");
        assert!(output.status.success(), "{command}: {output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let on_a_terminal = |args: &str| on_a_terminal_of(&env, args);
    let backfill = on_a_terminal("backfill");
    assert!(
        backfill.contains(" pages "),
        "no progress on the terminal: {backfill:?}"
    );
    let csv = env.dir.path().join("out.csv");
    let export = on_a_terminal(&format!("export --format csv --out {}", csv.display()));
    assert!(export.contains("documents"), "{export:?}");
    assert!(
        export.contains(&format!("rows written to {}", csv.display())),
        "{export:?}"
    );
    // An import knows its length: a bar that counts to it.
    let imported = TestEnv::new(&site);
    let manifest = fixture_manifest(&imported);
    let import = on_a_terminal_of(&imported, &format!("import {}", manifest.display()));
    assert!(import.contains("/9 pages"), "{import:?}");
    // `--json` is for programs: no progress, even on a terminal.
    let quiet = on_a_terminal("backfill --json");
    assert!(!quiet.contains(" pages "), "{quiet:?}");
}

/// `briefwatch export | head -1`: a reader that stops early ends the export quietly.
#[test]
fn an_export_read_by_head_ends_quietly() {
    use std::io::{BufRead, BufReader, Read};
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    for format in ["jsonl", "csv"] {
        let mut child = env
            .command()
            .args(["export", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run briefwatch");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader goes away after one line, as `head -1` does.
        assert!(!first.is_empty());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            stderr, "",
            "export --format {format} wrote to stderr ({status})"
        );
        assert!(status.code().is_none_or(|code| code == 0), "{status}");
    }
}
