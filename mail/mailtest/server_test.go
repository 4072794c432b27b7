package mailtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/mail/mailtest"
)

func TestDownUpAndListing(t *testing.T) {
	srv, err := mailtest.Start()
	require.NoError(t, err)
	defer srv.Close()
	addr := srv.Addr()
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: srv.URL(), From: "n@practice.example", Timeout: 5 * time.Second})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := mail.Message{To: "dee@practice.example", Subject: "A <new> inquiry", MessageID: "n1@practice.example",
		Text: "Open http://127.0.0.1:1/console/patients/new?inquiry=3 to see it.", HTML: "<p>Open <b>it</b></p><script>alert(1)</script>"}

	require.NoError(t, srv.Down())
	assert.Error(t, sender.Send(ctx, m), "down")
	require.NoError(t, srv.Up())
	assert.Equal(t, addr, srv.Addr(), "back on the same address")
	require.NoError(t, sender.Send(ctx, m))
	_, err = srv.Wait(ctx, 1)
	require.NoError(t, err)
	assert.Len(t, srv.WithMessageID("n1@practice.example"), 1)
	assert.Empty(t, srv.WithMessageID("n2@practice.example"))

	web := httptest.NewServer(http.StripPrefix("/demo/mail", srv.Handler()))
	defer web.Close()
	body := get(t, web.URL+"/demo/mail/", http.StatusOK)
	assert.Contains(t, body, "A &lt;new&gt; inquiry", "escaped")
	assert.Contains(t, body, `<a href="http://127.0.0.1:1/console/patients/new?inquiry=3">`, "the link can be clicked")
	assert.Contains(t, body, `?id=1&amp;part=html`)

	res, err := http.Get(web.URL + "/demo/mail/?id=1&part=html")
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "sandbox", "the HTML alternative runs nothing")
	get(t, web.URL+"/demo/mail/?id=9&part=html", http.StatusNotFound)

	srv.Reset()
	assert.Empty(t, srv.Messages())
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, status, res.StatusCode, string(b))
	return string(b)
}
