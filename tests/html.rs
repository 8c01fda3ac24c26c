//! `run --trace html`: one self-contained page (no network), opened in a
//! headless Chromium at a step given in the address, showing that step as
//! the TUI does. Skipped, saying so, where Chromium is missing.

use std::process::Command;

fn page() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("inc.lua");
    std::fs::write(
        &script,
        "redis.call('INCR', 'a')\nlocal result = result + 1\nredis.call('INCR', 'b')\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .arg("run")
        .arg(&script)
        .args(["-c", "SET a 42", "-c", "SET b 42", "--trace", "html"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = dir.path().join("trace.html");
    std::fs::write(&html, &out.stdout).unwrap();
    (dir, html)
}

#[test]
fn the_page_is_one_file_with_no_network() {
    let (_dir, html) = page();
    let text = std::fs::read_to_string(html).unwrap();
    assert!(text.len() < 200 * 1024, "{} bytes", text.len());
    assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("src=\""));
    assert!(text.contains("\"sha\":\"d0e480e1285ebff8a062967eb0fa7d2ada562d97\""));
    // The key the run did not touch travels with it.
    assert!(
        text.contains(
            "\"untouched\":[{\"db\":0,\"key\":\"b\",\"value\":{\"expire_at_ms\":null,\"type\":\"string\",\"value\":\"42\"}}]"
        ),
        "{text}"
    );
}

#[test]
fn the_page_is_titled_with_the_script_s_file() {
    let (_dir, html) = page();
    let text = std::fs::read_to_string(html).unwrap();
    assert!(
        text.contains("<title>redstep trace of inc.lua (EVAL d0e480e1285e)</title>"),
        "{text}"
    );
    assert!(text.contains("<h1 id=\"title\">trace of inc.lua (EVAL d0e480e1285e)</h1>"));
    // A name that looks like one of the page's placeholders, or like HTML,
    // is shown as it is: nothing put in the page is read again.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("__TRACE__<b>.lua");
    std::fs::write(&script, "return 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .arg("run")
        .arg(&script)
        .args(["--trace", "html"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("<title>redstep trace of __TRACE__&lt;b&gt;.lua (EVAL 48df9b519ca1)</title>"),
        "{}",
        &text[..text.len().min(600)]
    );
    assert_eq!(
        text.matches("\"sha\":\"48df9b519ca145c867b895f740b37bd891e887af\"")
            .count(),
        1
    );
}

/// The page's DOM after its script ran, opened at `fragment`.
fn dom(html: &std::path::Path, fragment: &str) -> Option<String> {
    let out = Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("file://{}{fragment}", html.display()))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn chromium_shows_the_step_the_address_names() {
    let (_dir, html) = page();
    let Some(first) = dom(&html, "") else {
        eprintln!("SKIPPED: chromium is not installed (apt-get install chromium)");
        return;
    };
    assert!(
        first.contains("step 1/4 · line 1 (about to run)"),
        "{first}"
    );
    assert!(first.contains("Step to the end to read what happened."));
    assert!(first.contains("<h1 id=\"title\">trace of inc.lua (EVAL d0e480e1285e)</h1>"));
    let second = dom(&html, "#step=2").unwrap();
    assert!(
        second.contains("step 2/4 · line 1 (redis.call done)"),
        "{second}"
    );
    assert!(second.contains("a  \"42\" → \"43\""), "{second}");
    let failure = dom(&html, "#step=4").unwrap();
    assert!(failure.contains("line 2 ✗ the script died here"));
    assert!(
        failure.contains("class=\"died\"><span class=\"m\">✗</span><span class=\"n\">2</span>"),
        "{failure}"
    );
    assert!(failure.contains("a  \"43\"  ← stayed"), "{failure}");
    // b, which the run never reached, is listed as it was all along.
    assert!(
        failure.contains("<div class=\"\">b  \"42\"</div>"),
        "{failure}"
    );
    assert!(failure.contains("The script failed at line 2 after 1 write. Redis does not roll back: what it wrote stays written."));
    assert!(
        failure.contains("class=\"never\"><span class=\"m\"> </span><span class=\"n\">3</span>"),
        "{failure}"
    );
}

/// Chromium driven through the DevTools protocol over a pipe
/// (`--remote-debugging-pipe`: JSON messages ending in NUL on fds 3 and 4),
/// so a test can click, press keys, watch the network and take pictures.
mod devtools {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::io::{FromRawFd, RawFd};
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};

    use serde_json::{json, Value};

    pub struct Browser {
        child: Child,
        to: std::fs::File,
        from: BufReader<std::fs::File>,
        next: u64,
        session: Option<String>,
        /// Events seen while waiting for replies, oldest first.
        pub events: Vec<Value>,
    }

    fn pipe() -> (RawFd, RawFd) {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        (fds[0], fds[1])
    }

    impl Browser {
        /// None when Chromium is not installed.
        pub fn start() -> Option<Browser> {
            let (chrome_reads, we_write) = pipe();
            let (we_read, chrome_writes) = pipe();
            let mut command = Command::new("chromium");
            command
                .args([
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--remote-debugging-pipe",
                    "--no-first-run",
                    "about:blank",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    if libc::dup2(chrome_reads, 3) < 0 || libc::dup2(chrome_writes, 4) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let child = command.spawn().ok();
            unsafe {
                libc::close(chrome_reads);
                libc::close(chrome_writes);
            }
            let child = child?;
            // SAFETY: these two fds are ours alone from here on.
            let (to, from) = unsafe {
                (
                    std::fs::File::from_raw_fd(we_write),
                    std::fs::File::from_raw_fd(we_read),
                )
            };
            Some(Browser {
                child,
                to,
                from: BufReader::new(from),
                next: 0,
                session: None,
                events: Vec::new(),
            })
        }

        /// Sends a command (to the page once attached) and returns its result.
        pub fn call(&mut self, method: &str, params: Value) -> Value {
            self.next += 1;
            let id = self.next;
            let mut message = json!({"id": id, "method": method, "params": params});
            if let Some(session) = &self.session {
                message["sessionId"] = json!(session);
            }
            let mut bytes = serde_json::to_vec(&message).unwrap();
            bytes.push(0);
            self.to.write_all(&bytes).unwrap();
            loop {
                let reply = self.read();
                if reply["id"] == id {
                    assert!(reply.get("error").is_none(), "{method}: {reply}");
                    return reply["result"].clone();
                }
                self.events.push(reply);
            }
        }

        fn read(&mut self) -> Value {
            let mut bytes = Vec::new();
            self.from.read_until(0, &mut bytes).unwrap();
            assert_eq!(bytes.pop(), Some(0), "Chromium closed the pipe");
            serde_json::from_slice(&bytes).unwrap()
        }

        /// Waits for an event of this name (already seen, or to come).
        pub fn wait_event(&mut self, method: &str) -> Value {
            if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
                return self.events.remove(i);
            }
            loop {
                let event = self.read();
                if event["method"] == method {
                    return event;
                }
                self.events.push(event);
            }
        }

        /// Opens a page in a new tab and talks to it from now on.
        pub fn open(&mut self, url: &str, width: u32, height: u32) {
            self.session = None;
            let target = self.call("Target.createTarget", json!({"url": "about:blank"}));
            let attached = self.call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            );
            self.session = Some(attached["sessionId"].as_str().unwrap().to_string());
            self.call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
            );
            self.call("Network.enable", json!({}));
            self.call("Page.enable", json!({}));
            self.events.clear();
            self.call("Page.navigate", json!({"url": url}));
            self.wait_event("Page.loadEventFired");
        }

        /// A JavaScript expression's value in the page.
        pub fn eval(&mut self, expression: &str) -> Value {
            let result = self.call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            );
            result["result"]["value"].clone()
        }

        pub fn key(&mut self, key: &str, code: &str, key_code: u32) {
            for kind in ["rawKeyDown", "keyUp"] {
                self.call(
                    "Input.dispatchKeyEvent",
                    json!({"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code}),
                );
            }
        }

        pub fn click(&mut self, id: &str) {
            self.eval(&format!("document.getElementById('{id}').click()"));
        }

        /// A PNG of the page as it is.
        pub fn screenshot(&mut self) -> Vec<u8> {
            use base64::Engine as _;
            let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
            base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().unwrap())
                .unwrap()
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

#[test]
fn the_page_steps_with_buttons_and_keys_without_the_network() {
    let (dir, html) = page();
    let Some(mut browser) = devtools::Browser::start() else {
        eprintln!("SKIPPED: chromium is not installed (apt-get install chromium)");
        return;
    };
    let url = format!("file://{}", html.display());
    browser.open(&url, 1280, 800);
    // The one request is the page itself: no network.
    let requests: Vec<String> = browser
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .map(|e| {
            e["params"]["request"]["url"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(requests, std::slice::from_ref(&url));
    let text = |b: &mut devtools::Browser| {
        b.eval("document.body.innerText")
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = text(&mut browser);
    assert!(
        first.contains("step 1/4 · line 1 (about to run)"),
        "{first}"
    );
    let step_1_wide = browser.screenshot();
    // → then ← (keys), n then p: back at step 1 each time.
    browser.key("ArrowRight", "ArrowRight", 39);
    let second = text(&mut browser);
    assert!(
        second.contains("step 2/4 · line 1 (redis.call done)"),
        "{second}"
    );
    assert!(second.contains("a  \"42\" → \"43\""), "{second}");
    browser.key("ArrowLeft", "ArrowLeft", 37);
    assert!(text(&mut browser).contains("step 1/4"));
    browser.click("next");
    assert!(text(&mut browser).contains("step 2/4"));
    browser.click("prev");
    assert!(text(&mut browser).contains("step 1/4"));
    // Jump to the failure: what stayed, and the error byte for byte.
    browser.click("fail");
    let failure = text(&mut browser);
    assert!(
        failure.contains("line 2 ✗ the script died here"),
        "{failure}"
    );
    assert!(failure.contains("a  \"43\"  ← stayed"), "{failure}");
    assert!(failure.contains("\nb  \"42\"\n"), "{failure}");
    assert!(failure.contains(
        "ERR user_script:2: Script attempted to access nonexistent global variable 'result' script: d0e480e1285ebff8a062967eb0fa7d2ada562d97, on @user_script:2."
    ), "{failure}");
    assert_eq!(browser.eval("location.hash"), "#step=4");
    let failure_wide = browser.screenshot();
    // Home goes back to step 1.
    browser.key("Home", "Home", 36);
    assert!(text(&mut browser).contains("step 1/4"));
    // A phone, opened at the failure by its address.
    browser.open(&format!("{url}#step=4"), 390, 844);
    assert!(text(&mut browser).contains("line 2 ✗ the script died here"));
    let failure_phone = browser.screenshot();
    browser.open(&url, 390, 844);
    let step_1_phone = browser.screenshot();
    for (name, png, size) in [
        ("step1-1280x800", &step_1_wide, (1280, 800)),
        ("failure-1280x800", &failure_wide, (1280, 800)),
        ("step1-390x844", &step_1_phone, (390, 844)),
        ("failure-390x844", &failure_phone, (390, 844)),
    ] {
        assert_eq!(png_size(png), size, "{name}");
        // REDSTEP_SCREENSHOTS=DIR keeps them to look at (those in
        // tests/artifacts/ were made so).
        match std::env::var_os("REDSTEP_SCREENSHOTS") {
            Some(out) => std::fs::write(
                std::path::Path::new(&out).join(format!("trace-{name}.png")),
                png,
            )
            .unwrap(),
            None => std::fs::write(dir.path().join(format!("{name}.png")), png).unwrap(),
        }
    }
}
