#!/usr/bin/env python3
"""The observer's page in a real browser, against a running program.

Opens the URL the program prints in headless Chromium (driven over the
DevTools protocol on a pipe: no package beyond Debian's chromium and
python3) and checks what a person would see.

`pipeline`: against `pipeline --observe 127.0.0.1:0`, the main demo:

1. the tree's nodes: the app, the pipeline supervisor, its sink, pool,
   source and probe, and at least three workers; the title names the
   program and its pid;
2. a restart shown after it happens: a worker's restart count grows on the
   page while it stays loaded (no reload);
3. without the token, the page shows no tree and says it needs the token;
4. a cancel from the page: "cancel..." on the app's row, a reason typed,
   "send cancel"; the page confirms it and shows the app cancelling, and the
   demo stops because of it, with that reason (its exit code 0, nothing
   left running).

`large`: against tests/browser/observer_fixture.cpp, 10,001 nodes in one
scope and a straggler in another:

1. the counts: 2 top-level scopes, 10,003 nodes, 1 stuck; the hundred
   scopes under "big" collapsed, each saying it holds 99 below;
2. the straggler highlighted, and still found once collapsed ("1 stuck
   below", "show stuck" opens its way);
3. everything opened: at most 2,000 rows drawn, the rest counted, and the
   page still refreshing (the time a refresh takes is printed, not judged).

A screenshot of the page is kept at the path given.

    observer_page_test.py pipeline PIPELINE CHROMIUM SCREENSHOT.png
    observer_page_test.py large FIXTURE CHROMIUM SCREENSHOT.png
"""
import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REASON = "closed from the observer page"


def fail(what):
    print("FAILED: " + what, flush=True)
    sys.exit(1)


class Demo:
    """The program observed, its output collected as it comes."""

    def __init__(self, command):
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)

    def output(self):
        with self.lock:
            return list(self.lines)

    def wait_for(self, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.output():
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return None


class Browser:
    """Headless Chromium, spoken to over --remote-debugging-pipe (fd 3 in,
    fd 4 out, messages ended by NUL)."""

    def __init__(self, binary, profile):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--hide-scrollbars",
             "--no-first-run", "--remote-debugging-pipe",
             "--user-data-dir=" + profile, "--window-size=1300,900"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buf = b""
        self.next_id = 0

    def call(self, method, session=None, timeout=30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self.next_id:
                    if "error" in answer:
                        fail(method + ": " + json.dumps(answer["error"]))
                    return answer.get("result", {})
            left = deadline - time.time()
            if left <= 0:
                fail(method + ": no answer from the browser")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    fail(method + ": the browser went away")
                self.buf += chunk

    def open(self, url):
        # (A browser's first start on a machine builds its font caches.)
        target = self.call("Target.createTarget", timeout=120,
                           url="about:blank")
        session = self.call("Target.attachToTarget",
                            targetId=target["targetId"],
                            flatten=True)["sessionId"]
        self.call("Page.enable", session)
        self.call("Page.navigate", session, url=url)
        return Page(self, session)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except SystemExit:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def eval(self, expression):
        result = self.browser.call("Runtime.evaluate", self.session,
                                   expression=expression, returnByValue=True,
                                   awaitPromise=True)
        if "exceptionDetails" in result:
            fail("page script: " + json.dumps(result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_until(self, expression, timeout, what):
        """Waits for `expression` to be true (or a value); until then it may
        also fail, e.g. before the page is loaded."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.eval("(() => { try { return (" + expression +
                              "); } catch (e) { return null; } })()")
            if value:
                return value
            time.sleep(0.2)
        fail(what)

    def rows(self):
        """What the tree shows: path -> (state, restarts), from the DOM."""
        return self.eval("""
          Object.fromEntries([...document.querySelectorAll('.row')].map(
            r => [r.dataset.path, [r.dataset.state, +r.dataset.restarts]]))""")

    def screenshot(self, path):
        png = self.browser.call("Page.captureScreenshot", self.session,
                                format="png")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as out:
            out.write(base64.b64decode(png["data"]))


def pipeline_checks(demo, browser, url, screenshot):
    page = browser.open(url)

    # 1. The tree's nodes.
    page.wait_until("document.querySelectorAll('.row').length >= 9", 60,
                    "the page shows no tree")
    rows = page.rows()
    for path in ["app", "app/pipeline", "app/pipeline/sink",
                 "app/pipeline/workers", "app/pipeline/source",
                 "app/pipeline/probe", "app/pipeline/probe/check"]:
        if path not in rows:
            fail("the page lacks " + path + ": " + json.dumps(rows))
    workers = [p for p in rows if p.startswith("app/pipeline/workers/")]
    if len(workers) < 3:
        fail("the page shows " + str(len(workers)) + " workers")
    title = page.eval("document.getElementById('title').textContent")
    if "pipeline (pid " + str(demo.proc.pid) + ")" not in title:
        fail("the title is '" + title + "'")
    status = page.eval("document.getElementById('status').textContent")
    if "actions allowed" not in status:
        fail("the status line is '" + status + "'")
    if page.eval("location.hash") != "":
        fail("the token stays in the address bar")
    print("1. tree shown: " + str(len(rows)) + " nodes, " +
          str(len(workers)) + " workers; title '" + title + "'",
          flush=True)

    # 2. A restart, shown on the page that stays loaded.
    loaded = page.eval("performance.timeOrigin")
    # (The demo resizes its pool every 700 ms: workers come and go, so
    # each is compared with what the page showed when it first did.)
    first = {}
    deadline = time.time() + 30
    grown = None
    while time.time() < deadline and not grown:
        for p, (_, restarts) in page.rows().items():
            if not p.startswith("app/pipeline/workers/"):
                continue
            first.setdefault(p, restarts)
            if restarts > first[p]:
                grown = (p, first[p], restarts)
        time.sleep(0.25)
    if not grown:
        fail("no worker's restart count grew on the page in 30 s")
    if page.eval("performance.timeOrigin") != loaded:
        fail("the page reloaded instead of refreshing")
    crashed = [line for line in demo.output()
               if grown[0] in line and "crashes on bad job" in line]
    if not crashed:
        fail("the page shows a restart of " + grown[0] +
             " that the demo did not report")
    print("2. restart shown: " + grown[0] + " " + str(grown[1]) +
          " -> " + str(grown[2]) + " restarts, page not reloaded",
          flush=True)
    page.eval("document.getElementById('find').blur()")
    page.screenshot(screenshot)
    print("   screenshot: " + screenshot, flush=True)

    # 3. Without the token: nothing shown.
    stranger = browser.open(url.split("#")[0])
    said = stranger.wait_until(
        "document.getElementById('status').className === 'lost' && "
        "document.getElementById('status').textContent", 15,
        "a page without the token did not say what is wrong")
    if "needs its token" not in said:
        fail("a page without the token says '" + said + "'")
    if stranger.eval("document.querySelectorAll('.row').length") != 0:
        fail("a page without the token shows the tree")
    print("3. without the token: '" + said + "'", flush=True)

    # 4. A cancel from the page reaches the scope.
    page.eval("""document.querySelector('.row[data-path="app"] button.cancel').click()""")
    page.wait_until("!!document.querySelector('form.cancel-form input')",
                    5, "no cancel form opened")
    page.eval("document.querySelector('form.cancel-form input').select()")
    browser.call("Input.insertText", page.session, text=REASON)
    page.eval("document.querySelector('form.cancel-form button.send-cancel').click()")
    said = page.wait_until(
        "document.getElementById('message').textContent", 10,
        "the page did not confirm the cancel")
    if said != "cancel sent to app: " + REASON:
        fail("after the cancel the page says '" + said + "'")
    # (The sink flushes for 1 s once stopped: the app is seen stopping.)
    page.wait_until(
        """document.querySelector('.row[data-path="app"]') &&
           document.querySelector('.row[data-path="app"]').dataset.state
             === 'cancelling'""", 10,
        "the page did not show the app cancelling")
    if not demo.wait_for(r"the app was cancelled from outside", 10):
        fail("the demo did not see the cancel:\n" +
             "\n".join(demo.output()[-20:]))
    try:
        rc = demo.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        fail("the demo did not stop within 60 s of the cancel")
    ended = demo.wait_for(r"app ended: (.*)", 1)
    left = demo.wait_for(r"actors left: (\d+)", 1)
    if rc != 0 or not left or left.group(1) != "0":
        fail("the demo ended with " + str(rc) + ":\n" +
             "\n".join(demo.output()[-20:]))
    if not ended or ended.group(1) != "scaf::cancelled(app: " + REASON + ")":
        fail("the app did not end cancelled with the page's reason: " +
             (ended.group(0) if ended else "no 'app ended' line"))
    print("4. cancel from the page: '" + said + "'; the demo: app ended: " +
          (ended.group(1) if ended else "?") + ", actors left: 0",
          flush=True)


def large_tree_checks(demo, browser, url, screenshot):
    page = browser.open(url)
    status = page.wait_until(
        "document.getElementById('status').textContent.includes('nodes') && "
        "document.getElementById('status').textContent", 30,
        "the page shows no counts")
    if not status.startswith("2 top-level scope(s), 10,003 nodes, 1 stuck"):
        fail("the status line is '" + status + "'")
    rows = page.rows()
    parts = [p for p in rows if re.fullmatch(r"big/part-\d+", p)]
    tasks = [p for p in rows if p.startswith("big/part-") and p not in parts]
    if len(parts) != 100 or tasks:
        fail("'big' does not show its 100 parts, collapsed: " +
             str(len(parts)) + " parts, " + str(len(tasks)) + " tasks")
    below = page.eval("""document.querySelector(
        '.row[data-path="big/part-7"]').textContent""")
    if "99 below" not in below:
        fail("a collapsed part says '" + below + "'")
    print("1. " + status.split(" \u00b7")[0] + "; " + str(len(rows)) +
          " rows drawn, each part collapsed ('99 below')", flush=True)

    # 2. The straggler, highlighted, and found again once collapsed.
    deaf = page.eval("""(() => { const r = document.querySelector(
        '.row[data-path="stuck/deaf"]'); return r && [r.dataset.state,
        r.classList.contains('stuck'),
        getComputedStyle(r).borderLeftColor]; })()""")
    if not deaf or deaf[0] != "straggler" or not deaf[1]:
        fail("the straggler is not shown as one: " + json.dumps(deaf))
    page.eval("document.getElementById('collapse').click()")
    hint = page.wait_until(
        """(() => { const r = document.querySelector('.row[data-path="stuck"]');
           return !document.querySelector('.row[data-path="stuck/deaf"]') &&
                  r && [...r.querySelectorAll('.alert')].map(
                         e => e.textContent).join(' '); })()""", 5,
        "collapse all did nothing")
    if "1 stuck below" not in hint:
        fail("the collapsed scope says '" + hint + "'")
    page.eval("document.getElementById('expand-stuck').click()")
    page.wait_until("""!!document.querySelector('.row[data-path="stuck/deaf"]')""",
                    5, "show stuck did not open the way to the straggler")
    print("2. straggler shown (" + deaf[2] + " border); collapsed: '" +
          hint.split("\u00b7")[-1].strip() + "'; 'show stuck' opens it",
          flush=True)

    # 3. Everything opened: drawing stays bounded.
    page.eval("""data.scopes.forEach(s => { opened.set(s.path, true);
        s.children.forEach(c => opened.set(c.path, true)); }); render(); 0""")
    drawn = page.eval("document.querySelectorAll('.row').length")
    notice = page.eval("""(() => { const n = document.getElementById(
        'not-drawn'); return n && n.textContent; })()""")
    # (103 rows collapsed, every part opened: 2 + 100 * 100 + 1 rows.)
    if drawn != 2000 or not notice or "8,003 more rows not drawn" not in notice:
        fail(str(drawn) + " rows drawn; notice: " + str(notice))
    took = [page.eval("""(async () => { const t0 = performance.now();
        await refresh(); return Math.round(performance.now() - t0); })()""")
            for _ in range(3)]
    if page.eval("document.querySelectorAll('.row').length") != 2000:
        fail("a refresh did not redraw the opened tree")
    print("3. all opened: 2000 rows drawn, '" + notice.strip() +
          "'; a refresh (fetch, parse, draw) took " +
          ", ".join(str(t) for t in took) + " ms", flush=True)
    page.eval("document.getElementById('collapse').click()")
    page.eval("document.getElementById('expand-stuck').click()")
    page.screenshot(screenshot)
    print("   screenshot: " + screenshot, flush=True)

    # The program ends cleanly once let go.
    demo.proc.stdin.close()
    try:
        rc = demo.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        fail("the fixture did not end within 60 s")
    if rc != 0 or not demo.wait_for(r"actors left: 0", 1):
        fail("the fixture ended with " + str(rc) + ":\n" +
             "\n".join(demo.output()[-10:]))


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("pipeline", "large"):
        fail("usage: observer_page_test.py pipeline|large PROGRAM CHROMIUM "
             "SCREENSHOT.png")
    mode, program, chromium, screenshot = sys.argv[1:]
    if not shutil.which(chromium):
        fail("no browser at '" + chromium + "': scripts/test installs "
             "Debian's chromium")
    command = [program] + (["--observe", "127.0.0.1:0"]
                           if mode == "pipeline" else [])
    demo = Demo(command)
    profile = tempfile.mkdtemp(prefix="scaf-observer-")
    browser = None
    try:
        m = demo.wait_for(r"observer: (http://\S+#token=\S+)", 60)
        if not m:
            fail("the program printed no observer address:\n" +
                 "\n".join(demo.output()))
        url = m.group(1)
        print("observer at " + url.split("#")[0], flush=True)
        browser = Browser(chromium, profile)
        if mode == "pipeline":
            pipeline_checks(demo, browser, url, screenshot)
        else:
            large_tree_checks(demo, browser, url, screenshot)
        print("observer page (" + mode + "): all checks passed", flush=True)
    finally:
        if browser:
            browser.close()
        if demo.proc.poll() is None:
            demo.proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
