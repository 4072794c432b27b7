package console_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// The browser tests drive Debian's Chromium through chromedp: one
// browser for the whole run, a browser context (its own cookies) per
// user. In CI (CI=true) a missing browser fails the run; elsewhere it
// skips with the reason.

var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserErr  error
	// browserStop ends the shared browser, after the last test.
	browserStop = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserStop()
	os.Exit(code)
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts (once) the shared browser, and returns a context of a
// new browser context in it, closed at the end of the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed: CI must run the browser tests (.ci/run installs it)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); the browser tests are skipped")
	}
	browserOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
			// As root (CI and these machines run as root) Chromium
			// refuses to start with its sandbox.
			chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
		alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, stopBrowser := chromedp.NewContext(alloc)
		browserErr = chromedp.Do(ctx)
		browserCtx = ctx
		browserStop = func() { stopBrowser(); stopAlloc() }
	})
	require.NoError(t, browserErr, "starting chromium")
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return ctx
}

// tab is one browser context as one user, recording every JavaScript
// error, console error and CSP violation its pages report.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	bad []string
}

// wait bounds each step of a test in the browser.
const wait = 30 * time.Second

func newTab(t *testing.T) *tab {
	ctx := newBrowser(t)
	tb := &tab{t: t, ctx: ctx}
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); });`})
	require.NoError(t, err)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// The network's own messages are the statuses the tests
			// ask for (401, 404); a script's errors are not.
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) && m.Source != "network" {
				tb.report(m.String())
			}
		}
	}()
	return tb
}

func (tb *tab) report(s string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.bad = append(tb.bad, s)
}

// do runs the steps within a bounded wait.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait)
	defer cancel()
	require.NoError(tb.t, chromedp.Do(ctx, steps...))
}

// get runs one action that returns a value, within a bounded wait.
func get[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(tb.t, err)
	return v
}

// eval evaluates a JavaScript expression (awaiting a promise).
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	return get(tb, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// poll waits until the expression is true.
func (tb *tab) poll(expr string) {
	tb.t.Helper()
	get(tb, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
}

// check asserts the page in the tab is clean: no CSP violation, no
// JavaScript or console error so far, and no axe-core violation.
func (tb *tab) check(name string) {
	tb.t.Helper()
	csp := eval[[]string](tb, `window.__csp || []`)
	assert.Empty(tb.t, csp, "%s: CSP violations", name)
	tb.mu.Lock()
	bad := tb.bad
	tb.bad = nil
	tb.mu.Unlock()
	assert.Empty(tb.t, bad, "%s: errors in the browser", name)
	tb.axe(name)
}

var axeSource = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("assets", "vendor", "axe-core", "axe.min.js"))
})

type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// axe runs axe-core on the page and asserts no violation.
func (tb *tab) axe(name string) {
	tb.t.Helper()
	src, err := axeSource()
	require.NoError(tb.t, err)
	_ = eval[bool](tb, "(() => { if (!window.axe) { "+string(src)+"\n } return true; })()")
	violations := eval[[]axeViolation](tb, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`)
	for _, v := range violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, strings.Join(n.Target, " "))
		}
		tb.t.Errorf("%s: axe %s: %s at %s", name, v.ID, v.Help, strings.Join(where, ", "))
	}
}

// shots writes the page's screenshots at the three widths into dir, and
// asserts that at 375 px nothing scrolls sideways.
func (tb *tab) shots(dir, name string) {
	tb.t.Helper()
	for _, width := range []int64{375, 768, 1280} {
		tb.do(chromedp.EmulateViewport(width, 900), chromedp.Sleep(150*time.Millisecond))
		scroll := eval[int64](tb, `document.documentElement.scrollWidth`)
		inner := eval[int64](tb, `window.innerWidth`)
		if width == 375 {
			assert.LessOrEqual(tb.t, scroll, inner, "%s scrolls sideways at 375 px", name)
		}
		png := get(tb, chromedp.FullScreenshot(100))
		require.NoError(tb.t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644))
	}
	tb.do(chromedp.ResetViewport())
}

func (tb *tab) login(base, email string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`header nav a[aria-current="page"]`)))
}

// inked is a JavaScript expression true when the canvas the expression
// canvas finds has been drawn on: more than a few dark pixels.
func inked(canvas string) string {
	return `(() => { const c = ` + canvas + `; const x = c.getContext("2d");
		const px = x.getImageData(0, 0, c.width, c.height).data; let ink = 0;
		for (let i = 0; i < px.length; i += 4) { if (px[i+3] > 0 && (px[i] < 200 || px[i+1] < 200 || px[i+2] < 200)) ink++; }
		return c.width > 0 && ink > 50; })()`
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return get(tb, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (tb *tab) location() string {
	tb.t.Helper()
	return get(tb, chromedp.Location())
}

// shotDir is where screenshots go: $CONSOLE_SCREENSHOTS, or a temporary
// directory kept for the run.
func shotDir(t *testing.T) string {
	if d := os.Getenv("CONSOLE_SCREENSHOTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	d, err := os.MkdirTemp("", "console-screenshots-")
	require.NoError(t, err)
	t.Logf("screenshots in %s", d)
	return d
}

// TestBrowserStory is the seed's story through the browser: the dietician
// signs in, creates a patient past a duplicate warning, watches the first
// sync reach 100%, finds the documents by type, reads the PDF, downloads
// it, shares it with a practitioner, who sees it and nothing else of the
// patient, until the share is revoked.
func TestBrowserStory(t *testing.T) {
	w := newWorld(t, console.Config{})
	shots := shotDir(t)
	ctx := context.Background()
	diet := w.actor(t, practice.RoleDietician)
	existing, _, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Bea Existing", Email: "bea@example.com"})
	require.NoError(t, err)
	w.providerPatient(t, "Ann Example", "ann@example.com")
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	d := newTab(t)
	// What a first load costs: scripts and styles, as sent (gzipped).
	d.do(chromedp.Navigate(w.url+"/login"), chromedp.WaitVisible(css(`#email`)))
	sent := eval[float64](d, `performance.getEntriesByType("resource").filter(e => /\.(m?js|css)$/.test(e.name)).reduce((n, e) => n + e.transferSize, 0)`)
	t.Logf("first load (the layout every page shares): %.1f KB of scripts and styles, gzipped", sent/1024)
	assert.Less(t, sent, 150.0*1024, "scripts and styles of a first load")
	assert.Positive(t, sent)
	d.check("login")
	d.login(w.url, w.users[practice.RoleDietician].Email)
	assert.Equal(t, w.url+"/patients", d.location())
	assert.Contains(t, d.text(`main table`), "Bea Existing")
	d.check("patients")
	d.shots(shots, "patients")

	// The new-patient form, by keyboard only: the duplicate first.
	d.do(chromedp.Navigate(w.url+"/patients/new"), chromedp.WaitVisible(css(`#name`)), chromedp.Focus(css(`#name`)),
		chromedp.KeyEvent("Ann Example\tbea@example.com\r"), chromedp.WaitVisible(css(`#duplicate`)))
	href := eval[string](d, `document.querySelector("#duplicate a").getAttribute("href")`)
	assert.Equal(t, fmt.Sprintf("/console/patients/%d", existing.ID), href, "the warning links to the existing record")
	d.check("new patient: duplicate")
	d.shots(shots, "new-patient-duplicate")
	d.do(chromedp.Focus(css(`#email`)))
	_ = eval[bool](d, `(() => { document.getElementById("email").select(); return true; })()`)
	d.do(chromedp.KeyEvent("ann@example.com\r"), chromedp.WaitVisible(css(`#dietary_preferences`)))
	d.check("new patient: details")
	d.do(chromedp.Focus(css(`#contact_details`)), chromedp.KeyEvent("+44 20 7946 0000\tNo allergies.\tVegetarian.\t\r"),
		chromedp.WaitVisible(css(`#sync-bar`)))

	// The first sync's progress bar reaches 100% from the event stream.
	d.poll(`document.getElementById("sync-bar") !== null && document.getElementById("sync-bar").value === 100`)
	assert.Contains(t, d.text(`#sync-area`), "100%")
	d.check("patient after create")
	patientURL := strings.Split(d.location(), "?")[0]

	// The documents, by type with counts and source.
	d.do(chromedp.Navigate(patientURL), chromedp.WaitVisible(css(`#doc-types`)))
	types := d.text(`#doc-types`)
	for _, want := range []string{"Lab results\t1\tPrimary care", "Progress notes\t1\tPrimary care", "Physical assessments\t1\tClinic"} {
		assert.Contains(t, types, want)
	}
	d.check("patient")
	d.shots(shots, "patient")

	// A manual sync from the button, live to 100%.
	// The patient page shows no bar until the button is pressed.
	assert.False(t, eval[bool](d, `document.getElementById("sync-bar") !== null`))
	d.do(chromedp.Click(css(`#sync-now`)))
	d.poll(`document.querySelector("#sync-area [sse-connect]") !== null`)
	d.poll(`document.getElementById("sync-bar") !== null && document.getElementById("sync-bar").value === 100`)
	assert.Contains(t, d.text(`#sync-area`), "Sync finished")
	// Again at once: the practice's limit, told in the page's messages.
	d.do(chromedp.Click(css(`#sync-now`)), chromedp.WaitVisible(css(`#messages .problem`)))
	assert.Contains(t, d.text(`#messages`), "Please wait")
	d.check("sync refused")
	d.check("manual sync")

	// Edit the record: saved, and the write-back to the provider follows.
	d.do(chromedp.Click(chromedp.Search(`//summary[text()="Edit the record"]`)), chromedp.WaitVisible(css(`#p-diet`)),
		chromedp.SetValue(css(`#p-diet`), "Vegetarian, no nuts."), chromedp.Submit(css(`#p-diet`)),
		chromedp.WaitVisible(css(`p[role=status]`)))
	assert.Contains(t, d.text(`p[role=status]`), "Saved.")
	d.check("patient saved")
	deadline := time.Now().Add(15 * time.Second)
	for d.text(`#write-back`) != "written" && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		d.do(chromedp.Reload(), chromedp.WaitVisible(css(`#write-back`)))
	}
	assert.Equal(t, "written", d.text(`#write-back`), "the edit reached the provider")
	assert.Equal(t, "Vegetarian, no nuts.", w.php.Patients()[0].DietaryPreferences)

	// The documents list, then the PDF in the viewer: its canvas drawn.
	d.do(chromedp.Navigate(patientURL+"/documents"), chromedp.WaitVisible(css(`#documents`)))
	assert.Equal(t, 3, eval[int](d, `document.querySelectorAll("#documents tbody tr").length`))
	d.check("documents")
	d.shots(shots, "documents")
	d.do(chromedp.Click(chromedp.Search(`//a[text()="Lipid panel"]`)), chromedp.WaitVisible(css(`#pdf-canvas`)))
	d.poll(`document.getElementById("pdf").dataset.rendered === "1" || document.getElementById("pdf").dataset.error !== undefined`)
	assert.Empty(t, eval[string](d, `document.getElementById("pdf").dataset.error || ""`))
	drawn := eval[bool](d, inked(`document.getElementById("pdf-canvas")`))
	assert.True(t, drawn, "the PDF's canvas has ink on it")
	d.check("viewer")
	d.shots(shots, "viewer")

	// The download: an attachment, with the document's bytes.
	got := eval[string](d, `fetch(document.getElementById("download").href).then(async r => {
		const b = new Uint8Array(await r.arrayBuffer()); let s = "";
		for (const x of b) s += String.fromCharCode(x);
		return r.headers.get("Content-Disposition") + "\n" + btoa(s); })`)
	disposition, data, _ := strings.Cut(got, "\n")
	assert.True(t, strings.HasPrefix(disposition, "attachment"), disposition)
	assert.Equal(t, base64.StdEncoding.EncodeToString(w.pdf), data, "the downloaded bytes are the document's")

	// Share with the practitioner, by keyboard only.
	docURL := d.location()
	d.do(chromedp.Navigate(docURL+"/share"), chromedp.WaitVisible(css(`#s-with`)), chromedp.Focus(css(`#s-with`)),
		chromedp.KeyEvent(w.users[practice.RolePractitioner].Email+"\tFor the cardiology review.\r"),
		chromedp.WaitVisible(css(`#shares table`)))
	assert.Contains(t, d.text(`#shares`), "For the cardiology review.")
	d.check("share")
	d.shots(shots, "share")

	// The practitioner sees the document, and nothing else of the patient.
	p := newTab(t)
	p.login(w.url, w.users[practice.RolePractitioner].Email)
	assert.Contains(t, p.text(`#shared`), "Lipid panel")
	assert.NotContains(t, p.text(`#shared`), "First visit")
	p.check("shared with me")
	p.shots(shots, "shared")
	p.do(chromedp.Navigate(docURL), chromedp.WaitVisible(css(`#pdf-canvas`)))
	p.poll(`document.getElementById("pdf").dataset.rendered === "1"`)
	p.check("practitioner's viewer")
	p.do(chromedp.Navigate(patientURL+"/documents"), chromedp.WaitVisible(css(`main h1`)))
	assert.NotContains(t, p.text(`main`), "First visit", "the patient's other documents stay hidden")

	// Revoked: gone from the list, and the document's page is not found.
	d.do(chromedp.Navigate(docURL+"/share"), chromedp.WaitVisible(css(`#shares form button`)), chromedp.Click(css(`#shares form button`)),
		chromedp.WaitVisible(css(`#shares p`)))
	assert.Contains(t, d.text(`#shares`), "Not shared with anyone")
	p.do(chromedp.Navigate(w.url+"/shared"), chromedp.WaitVisible(css(`main h1`)))
	assert.Contains(t, p.text(`main`), "Nothing is shared with you now")
	p.do(chromedp.Navigate(docURL), chromedp.WaitVisible(css(`main h1`)))
	assert.Equal(t, "Not found", p.text(`main h1`))
	p.check("not found")
}

// TestBrowserSecurity: a patient opening another patient's page gets the
// 404 page, a cross-origin form post is refused, logout ends the
// session, and the idle warning offers one click to stay signed in
// before the session ends.
func TestBrowserSecurity(t *testing.T) {
	// Mostly waiting for the idle timeout: run beside the others, in a
	// tab of its own.
	t.Parallel()
	// Short lifetimes for the idle test, with room for a loaded machine:
	// the warning comes 5 s after the last request, the end 5 s later.
	w := newWorld(t, console.Config{IdleTimeout: 10 * time.Second, WarnBefore: 5 * time.Second})
	ctx := context.Background()
	diet := w.actor(t, practice.RoleDietician)
	mine, _, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Cy Own", Email: "cy@example.com"})
	require.NoError(t, err)
	other, _, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Di Other", Email: "di@example.com"})
	require.NoError(t, err)
	admin := w.actor(t, practice.RoleAdmin)
	_, err = w.svc.CreateUser(ctx, admin, practice.NewUser{Email: "cy@example.com", Name: "Cy Own", Role: practice.RolePatient,
		Password: password, PatientID: mine.ID})
	require.NoError(t, err)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	t.Run("a patient sees only their own record", func(t *testing.T) {
		tb := newTab(t)
		tb.login(w.url, "cy@example.com")
		assert.Equal(t, fmt.Sprintf("%s/patients/%d", w.url, mine.ID), tb.location())
		assert.Equal(t, "Cy Own", tb.text(`main h1`))
		tb.check("own record")
		tb.do(chromedp.Navigate(fmt.Sprintf("%s/patients/%d", w.url, other.ID)), chromedp.WaitVisible(css(`main h1`)))
		assert.Equal(t, "Not found", tb.text(`main h1`))
		assert.NotContains(t, tb.text(`main`), "Di Other")
		tb.check("another patient's page")
	})

	t.Run("a cross-origin post is refused", func(t *testing.T) {
		tb := newTab(t)
		tb.login(w.url, w.users[practice.RoleDietician].Email)
		// Another origin (another port on the same host: same-site, so
		// the Lax cookie goes with it) posts a form to the console.
		evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(rw, `<!doctype html><form id="f" method="post" action="%s/patients/new"><input name="step" value="create">
<input name="name" value="Eve Forged"><input name="email" value="eve@example.com"></form><script>document.getElementById("f").submit()</script>`, w.url)
		}))
		defer evil.Close()
		tb.do(chromedp.Navigate(evil.URL), chromedp.WaitVisible(css(`main h1`)))
		assert.Equal(t, "Request refused", tb.text(`main h1`))
		list, err := w.svc.Patients(ctx, diet, practice.PatientList{Text: "Eve"})
		require.NoError(t, err)
		assert.Empty(t, list.Items, "nothing was created")
	})

	t.Run("logout ends the session", func(t *testing.T) {
		tb := newTab(t)
		tb.login(w.url, w.users[practice.RoleDietician].Email)
		tb.do(chromedp.Click(chromedp.Search(`//button[text()="Sign out"]`)), chromedp.WaitVisible(css(`#email`)))
		assert.Contains(t, tb.text(`main`), "You signed out.")
		tb.check("signed out")
		tb.do(chromedp.Navigate(w.url+"/patients"), chromedp.WaitVisible(css(`#email`)))
		assert.Contains(t, tb.location(), "/console/login")
	})

	t.Run("idle warning, extension and expiry", func(t *testing.T) {
		tb := newTab(t)
		tb.login(w.url, w.users[practice.RoleDietician].Email)
		tb.do(chromedp.WaitVisible(css(`#idle-warning`)))
		tb.check("idle warning")
		tb.do(chromedp.Click(css(`#idle-extend`)), chromedp.WaitNotVisible(css(`#idle-warning`)))
		// Extended: the page is still signed in past the first deadline.
		tb.do(chromedp.Sleep(5500 * time.Millisecond))
		assert.Equal(t, w.url+"/patients", tb.location())
		// Then, without activity, the session ends and the page says why.
		tb.do(chromedp.WaitVisible(css(`#email`)))
		assert.Contains(t, tb.text(`main`), "without activity")
		tb.do(chromedp.Navigate(w.url+"/patients"), chromedp.WaitVisible(css(`#email`)))
		assert.Contains(t, tb.location(), "/console/login", "the server ended the session too")
	})
}
