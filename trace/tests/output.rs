//! `write_output` and `check_writable` never replace what is not a regular file: a symlink
//! stays a link (its target gets the bytes), a device or FIFO is written through, and writers
//! racing on one path each get a temporary file of their own.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use doppel_trace::{check_writable, write_output};

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("doppel-output-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_symlink_to_a_device_is_written_through_and_stays_a_link() {
    let dir = scratch("devlink");
    let link = dir.join("out.json");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    check_writable(&link).unwrap();
    write_output(&link, b"{\"seeds\":5}\n").unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    assert_eq!(names(&dir), ["out.json"], "no temporary file is left");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dev_paths_are_never_replaced() {
    check_writable(Path::new("/dev/null")).unwrap();
    write_output(Path::new("/dev/null"), b"gone\n").unwrap();
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn a_fifo_is_written_through_to_its_reader() {
    let dir = scratch("fifo");
    let fifo = dir.join("pipe");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    check_writable(&fifo).unwrap();
    let mut reader = Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .expect("cat runs");
    write_output(&fifo, b"through the pipe\n").unwrap();
    let mut got = String::new();
    reader
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut got)
        .unwrap();
    assert!(reader.wait().unwrap().success());
    assert_eq!(got, "through the pipe\n");
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(names(&dir), ["pipe"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_symlink_to_a_file_updates_the_target_and_keeps_its_mode() {
    let dir = scratch("filelink");
    let real = dir.join("real.json");
    fs::write(&real, b"old").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    write_output(&link, b"new").unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(&real).unwrap(), b"new");
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(names(&dir), ["link.json", "real.json"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_dangling_symlink_gets_its_target_created() {
    let dir = scratch("dangling");
    let link = dir.join("link.trace");
    std::os::unix::fs::symlink("made.trace", &link).unwrap();
    write_output(&link, b"trace\n").unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(dir.join("made.trace")).unwrap(), b"trace\n");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_new_file_gets_the_mode_any_new_file_gets() {
    let dir = scratch("mode");
    let ours = dir.join("ours");
    let plain = dir.join("plain");
    write_output(&ours, b"x").unwrap();
    fs::write(&plain, b"x").unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&ours), mode(&plain), "0666 less the umask, not 0600");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writers_racing_on_one_path_all_succeed_and_leave_no_temporary_file() {
    let dir = scratch("race");
    let path = dir.join("run.trace");
    let payloads: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 4096]).collect();
    std::thread::scope(|s| {
        for p in &payloads {
            let path = &path;
            s.spawn(move || {
                for _ in 0..25 {
                    write_output(path, p).expect("every writer succeeds");
                }
            });
        }
    });
    let last = fs::read(&path).unwrap();
    assert!(
        payloads.contains(&last),
        "the file is one writer's whole bytes"
    );
    assert_eq!(names(&dir), ["run.trace"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn folders_and_missing_folders_are_errors_that_create_nothing() {
    let dir = scratch("errors");
    let err = write_output(&dir, b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EISDIR), "{err}");
    assert!(check_writable(&dir).is_err());
    let missing = dir.join("no-such-folder").join("out.json");
    assert!(write_output(&missing, b"x").is_err());
    assert!(check_writable(&missing).is_err());
    assert!(write_output(Path::new(""), b"x").is_err());
    assert_eq!(names(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}
