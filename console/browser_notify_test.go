package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/mail/inbound"
	"github.com/healthcare-records/healthcare-records/practice"
)

// inquiryMail is a prospective patient's email, with an attachment.
const inquiryMail = "From: Riley Prospect <riley@prospect.example>\r\n" +
	"To: hello@practice.example\r\n" +
	"Subject: Help with my diet\r\n" +
	"Message-ID: <inquiry-1@prospect.example>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"My doctor suggested I see a dietician about my blood sugar.\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html\r\n" +
	"Content-Disposition: attachment; filename=\"letter.html\"\r\n" +
	"\r\n" +
	"<script>alert(1)</script>Referral letter\r\n" +
	"--b1--\r\n"

// sendMail delivers raw to the listener at addr, as a mail server would.
func sendMail(t *testing.T, addr, from, to, raw string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Mail(from))
	require.NoError(t, c.Rcpt(to))
	wc, err := c.Data()
	require.NoError(t, err)
	_, err = io.WriteString(wc, raw)
	require.NoError(t, err)
	require.NoError(t, wc.Close())
	require.NoError(t, c.Quit())
}

// TestBrowserInquiryStory is the seed's story's start: an inquiry arrives
// by email at the practice's SMTP listener; the dietician's notification
// area shows it at once, live; the notification's email reaches the SMTP
// server with its link; the link opens the new-patient form prefilled
// from the inquiry; creating the patient converts the inquiry. Then the
// inbox, the notifications and their settings pages, and the dismissal
// of another inquiry by keyboard only.
func TestBrowserInquiryStory(t *testing.T) {
	w := newWorld(t, console.Config{})
	shots := shotDir(t)
	ctx := context.Background()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	listener, err := inbound.New(inbound.Config{Recipients: []string{"hello@practice.example"}, Receiver: w.svc,
		Timeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = listener.Serve(ln) }()
	t.Cleanup(func() { _ = listener.Close() })

	d := newTab(t)
	d.login(w.url, w.users[practice.RoleDietician].Email)
	assert.Empty(t, strings.TrimSpace(eval[string](d, `document.getElementById("notify-count").textContent`)), "nothing unread yet")
	assert.Equal(t, "polite", eval[string](d, `document.getElementById("notify-count").getAttribute("aria-live")`))
	d.poll(`document.querySelector("#notify-area[sse-connect]") !== null`)

	// The email arrives: the area counts it, live, on the page open.
	sendMail(t, ln.Addr().String(), "riley@prospect.example", "hello@practice.example", inquiryMail)
	d.poll(`(document.querySelector("#notify-count .badge") || {}).textContent === "1"`)
	assert.Equal(t, "Notifications 1 unread", strings.Join(strings.Fields(d.text(`#notify-area a`)), " "))
	d.check("notification area, live")

	// Its email: both alternatives, no patient data, the link.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	msgs, err := w.mail.Wait(wctx, 1)
	require.NoError(t, err)
	m := msgs[0]
	assert.Equal(t, []string{w.users[practice.RoleDietician].Email}, m.To)
	assert.Equal(t, "[Test practice] A prospective patient wrote", m.Subject)
	link := regexp.MustCompile(`http://[^\s"<>]+/console/patients/new\?inquiry=[0-9]+`).FindString(m.Text)
	require.NotEmpty(t, link, "the text alternative's link: %s", m.Text)
	assert.Contains(t, m.HTML, `href="`+link+`"`, "the HTML alternative links the same page")
	assert.NotContains(t, m.Text+m.HTML, "Riley", "no name of the prospective patient in the email")
	assert.True(t, strings.HasPrefix(link, w.url+"/"), link)

	// The link opens the new-patient form, prefilled.
	d.do(chromedp.Navigate(link), chromedp.WaitVisible(css(`#from-inquiry`)))
	assert.Equal(t, "Riley Prospect", eval[string](d, `document.getElementById("name").value`))
	assert.Equal(t, "riley@prospect.example", eval[string](d, `document.getElementById("email").value`))
	assert.Contains(t, d.text(`#from-inquiry`), "blood sugar")
	d.check("new patient from an inquiry")
	d.shots(shots, "new-patient-inquiry")
	d.do(chromedp.Submit(css(`#email`)), chromedp.WaitVisible(css(`#dietary_preferences`)))
	assert.Contains(t, d.text(`#from-inquiry`), "blood sugar", "the message stays beside the details")
	d.do(chromedp.SetValue(css(`#medical_history`), "Raised blood sugar."), chromedp.Submit(css(`#medical_history`)),
		chromedp.WaitVisible(css(`main h1`)))
	assert.Equal(t, "Riley Prospect", d.text(`main h1`))

	// The inquiry is converted, and links the patient.
	inquiryID := strings.TrimPrefix(link, w.url+"/patients/new?inquiry=")
	d.do(chromedp.Navigate(w.url+"/inquiries/"+inquiryID), chromedp.WaitVisible(css(`#inquiry-status`)))
	assert.Contains(t, d.text(`#inquiry-status`), "converted")
	assert.Zero(t, eval[int](d, `document.querySelectorAll("#dismiss, #create-from-inquiry").length`), "nothing more to do with it")
	d.check("converted inquiry")
	// Its attachment is a download, never the console's page.
	got := eval[string](d, `fetch(document.querySelector("#attachments a").href).then(async r =>
		r.headers.get("Content-Disposition") + "|" + r.headers.get("Content-Security-Policy") + "|" + await r.text())`)
	parts := strings.SplitN(got, "|", 3)
	require.Len(t, parts, 3)
	assert.Equal(t, `attachment; filename=letter.html`, parts[0])
	assert.Contains(t, parts[1], "sandbox")
	assert.Contains(t, parts[2], "Referral letter")

	// The notifications: the inquiry's opened from the list is read.
	d.do(chromedp.Navigate(w.url+"/notifications"), chromedp.WaitVisible(css(`#notifications`)))
	assert.Contains(t, d.text(`#notifications`), "A prospective patient wrote")
	d.check("notifications")
	d.shots(shots, "notifications")
	d.do(chromedp.Click(chromedp.Search(`//a[text()="A prospective patient wrote"]`)), chromedp.WaitVisible(css(`#notification-links`)))
	assert.Contains(t, d.text(`#notification-links`), "Open the inquiry")
	assert.Empty(t, strings.TrimSpace(eval[string](d, `document.getElementById("notify-count").textContent`)), "read once opened")
	d.check("notification")
	d.do(chromedp.Navigate(w.url+"/notifications?unread=1"), chromedp.WaitVisible(css(`main h1`)))
	assert.Contains(t, d.text(`main`), "Nothing unread.")

	// The settings: a kind turned off is saved.
	d.do(chromedp.Navigate(w.url+"/settings/notifications"), chromedp.WaitVisible(css(`#preferences`)),
		chromedp.SetValue(css(`#pref-sync_finished`), "off"), chromedp.Submit(css(`#pref-sync_finished`)),
		chromedp.WaitVisible(css(`p[role=status]`)))
	assert.Equal(t, "off", eval[string](d, `document.getElementById("pref-sync_finished").value`))
	assert.Zero(t, eval[int](d, `document.querySelectorAll("#pref-security option[value=off]").length`), "security cannot be off")
	d.check("notification settings")

	// Another inquiry, by the form, dismissed by keyboard only.
	other, err := w.svc.ReceiveInquiry(ctx, practice.Client{Addr: "127.0.0.1"}, practice.NewInquiry{Name: "Sam Spam",
		Email: "sam@example.com", Message: "Cheap pills.", Channel: practice.InquiryForm})
	require.NoError(t, err)
	d.do(chromedp.Navigate(w.url+"/inquiries"), chromedp.WaitVisible(css(`#inquiries`)))
	assert.Contains(t, d.text(`#inquiries`), "Sam Spam")
	assert.NotContains(t, d.text(`#inquiries`), "Riley Prospect", "new ones first: the converted are filtered out")
	d.check("inquiries")
	d.do(chromedp.Navigate(fmt.Sprintf("%s/inquiries/%d", w.url, other.ID)), chromedp.WaitVisible(css(`#dismiss`)))
	d.check("inquiry")
	d.shots(shots, "inquiry")
	reached := false
	for range 40 {
		d.do(chromedp.KeyEvent("\t"))
		if eval[string](d, `document.activeElement.id`) == "dismiss" {
			reached = true
			break
		}
	}
	require.True(t, reached, "the Dismiss button is reached by Tab")
	d.do(chromedp.KeyEvent("\r"), chromedp.WaitVisible(css(`p[role=status]`)))
	assert.Contains(t, d.text(`#inquiry-status`), "dismissed")
	d.check("dismissed inquiry")
}
