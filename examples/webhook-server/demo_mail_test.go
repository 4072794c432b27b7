package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callAPI sends body (JSON, unless nil) with tok (unless empty) and
// decodes a JSON answer into v (unless nil); it returns the status.
func callAPI(ctx context.Context, method, url, tok string, body, v any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// signIn returns an access token of the user.
func signIn(t *testing.T, ctx context.Context, server, email, password string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	code, err := callAPI(ctx, http.MethodPost, server+"/api/v1/auth/token", "",
		map[string]string{"email": email, "password": password}, &tok)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "sign-in of %s", email)
	return tok.AccessToken
}

// listedMail is one message of the demo's mail listing: its recipients
// and the links of its text alternative.
type listedMail struct {
	To    []string
	Links []string
}

var (
	listedToRE   = regexp.MustCompile(`<dt>To</dt><dd>([^<]*)</dd>`)
	listedLinkRE = regexp.MustCompile(`<a href="([^"]+)">`)
)

// mailListing reads the demo's mail listing, a page for a person, into
// its messages.
func mailListing(t *testing.T, ctx context.Context, url string) []listedMail {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the mail listing")
	var out []listedMail
	for _, article := range strings.Split(string(b), "<article ")[1:] {
		var m listedMail
		if to := listedToRE.FindStringSubmatch(article); to != nil {
			m.To = strings.Fields(html.UnescapeString(to[1]))
		}
		for _, l := range listedLinkRE.FindAllStringSubmatch(article, -1) {
			m.Links = append(m.Links, html.UnescapeString(l[1]))
		}
		out = append(out, m)
	}
	return out
}

// recipientsOf waits until the listing holds a message linking to link
// for each of want, and returns every recipient of such messages, one
// entry per message.
func recipientsOf(t *testing.T, ctx context.Context, listing, link string, want int) []string {
	t.Helper()
	var to []string
	for ctx.Err() == nil {
		to = to[:0]
		for _, m := range mailListing(t, ctx, listing) {
			for _, l := range m.Links {
				if l == link {
					to = append(to, m.To...)
					break
				}
			}
		}
		if len(to) >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return to
}

// inquiry is an inquiry as GET /inquiries lists it.
type inquiry struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Channel     string `json:"channel"`
	DieticianID int64  `json:"dietician_id"`
}

// waitInquiry waits until the user of tok sees an inquiry from email.
func waitInquiry(t *testing.T, ctx context.Context, server, tok, email string) inquiry {
	t.Helper()
	for ctx.Err() == nil {
		var list struct {
			Items []inquiry `json:"items"`
		}
		code, err := callAPI(ctx, http.MethodGet, server+"/api/v1/inquiries", tok, nil, &list)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		for _, q := range list.Items {
			if q.Email == email {
				return q
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no inquiry from %s", email)
	return inquiry{}
}

// inquiryMail is an inquiry as a prospective patient's mail program
// writes it.
func inquiryMail(name, from, to, id string) string {
	return fmt.Sprintf("From: %s <%s>\r\nTo: %s\r\nSubject: A first appointment\r\nMessage-ID: <%s>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCould I book a first appointment?\r\n",
		name, from, to, id)
}

// checkInquiryEmails: an inquiry mailed to the demo's inquiry listener
// over SMTP becomes a notification for the dietician it is addressed to,
// or for every dietician when it is addressed to the practice, and each
// notification an email at the demo's SMTP server (shown in its mail
// listing) that links to the new-patient page prefilled from the inquiry,
// once. The demo's own inquiry, mailed at start, is in the listing too.
func checkInquiryEmails(t *testing.T, ctx context.Context, server, mailURL, inquiries string, admin, dietician []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	adminTok := signIn(t, ctx, server, admin[0], admin[2])
	newPatient := server + "/console/patients/new?inquiry="

	demo := waitInquiry(t, ctx, server, adminTok, "riley@prospect.example")
	assert.Zero(t, demo.DieticianID, "the demo's inquiry is the practice's")
	assert.Equal(t, []string{dietician[0]}, recipientsOf(t, ctx, mailURL, newPatient+fmt.Sprint(demo.ID), 1),
		"the demo's inquiry emailed to its one dietician")

	// A second dietician: an inquiry to the practice is emailed to both.
	code, err := callAPI(ctx, http.MethodPost, server+"/api/v1/users", adminTok, map[string]string{
		"email": "dee@demo.example", "name": "Dee Second", "role": "dietician", "password": "correct horse battery staple"}, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, "a second dietician")

	require.NoError(t, mailInquiry(inquiries, "sam@prospect.example", demoInquiryRcpt[0],
		inquiryMail("Sam Prospect", "sam@prospect.example", demoInquiryRcpt[0], "e2e-practice@prospect.example")))
	require.NoError(t, mailInquiry(inquiries, "lee@prospect.example", dietician[0],
		inquiryMail("Lee Prospect", "lee@prospect.example", dietician[0], "e2e-addressed@prospect.example")))

	practiceWide := waitInquiry(t, ctx, server, adminTok, "sam@prospect.example")
	addressed := waitInquiry(t, ctx, server, adminTok, "lee@prospect.example")
	assert.Equal(t, "email", addressed.Channel)
	assert.NotZero(t, addressed.DieticianID, "mailed to the dietician's own address: addressed to them")
	assert.ElementsMatch(t, []string{dietician[0], "dee@demo.example"},
		recipientsOf(t, ctx, mailURL, newPatient+fmt.Sprint(practiceWide.ID), 2), "every dietician, once each")
	assert.Equal(t, []string{dietician[0]}, recipientsOf(t, ctx, mailURL, newPatient+fmt.Sprint(addressed.ID), 1),
		"the dietician addressed only")

	// A moment later, still once each: no email is sent twice.
	time.Sleep(500 * time.Millisecond)
	assert.Len(t, recipientsOf(t, ctx, mailURL, newPatient+fmt.Sprint(practiceWide.ID), 2), 2)
	assert.Len(t, recipientsOf(t, ctx, mailURL, newPatient+fmt.Sprint(addressed.ID), 1), 1)

	// The link leads to the console, which asks for sign-in first.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, newPatient+fmt.Sprint(addressed.ID), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "/console/login", resp.Request.URL.Path, "behind sign-in")
}
