package mail_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/mail"
)

// crlf writes a message as SMTP carries it.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name       string
		msg        string
		text, html string
		files      []string
		subject    string
	}{
		{
			name:    "text only, no content type",
			msg:     "From: Ann Lee <ann@example.org>\nSubject: Hello\nMessage-ID: <a1@example.org>\n\nI would like an appointment.\n",
			text:    "I would like an appointment.\n",
			subject: "Hello",
		},
		{
			name: "alternatives, quoted-printable and base64, encoded subject",
			msg: `From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>
Subject: =?utf-8?q?Rendez-vous_=C3=A0_pr=C3=A9voir?=
Message-ID: <a2@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Bonjour, je souhaite un rendez-vous =C3=A0 la clinique.
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+Qm9uam91cjwvcD4=
--b1--
`,
			text:    "Bonjour, je souhaite un rendez-vous à la clinique.",
			html:    "<p>Bonjour</p>",
			subject: "Rendez-vous à prévoir",
		},
		{
			name: "nested, with an attachment and latin-1",
			msg: `From: ann@example.org
Subject: Lab results
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9
--inner--
--outer
Content-Type: application/pdf; name="../../labs.pdf"
Content-Disposition: attachment; filename="../../labs.pdf"
Content-Transfer-Encoding: base64

JVBERi0x
LjQK
--outer--
`,
			text:    "Café",
			files:   []string{"labs.pdf:application/pdf:%PDF-1.4\n"},
			subject: "Lab results",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := mail.Parse(strings.NewReader(crlf(c.msg)), mail.Limits{})
			require.NoError(t, err)
			assert.Equal(t, c.subject, p.Subject)
			assert.Equal(t, strings.ReplaceAll(c.text, "\n", "\r\n"), p.Text)
			assert.Equal(t, c.html, p.HTML)
			var files []string
			for _, a := range p.Attachments {
				files = append(files, a.Name+":"+a.ContentType+":"+string(a.Data))
			}
			assert.Equal(t, c.files, files)
			require.NotNil(t, p.From)
		})
	}
}

func TestParseRefuses(t *testing.T) {
	nested := "Content-Type: multipart/mixed; boundary=b0\n\n"
	for i := 1; i <= 7; i++ {
		nested += "--b" + string(rune('0'+i-1)) + "\nContent-Type: multipart/mixed; boundary=b" + string(rune('0'+i)) + "\n\n"
	}
	nested += "--b7\n\nx\n--b7--\n"
	many := "Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\n\nx\n", 60) + "--b--\n"
	for _, c := range []struct {
		name string
		msg  string
		lim  mail.Limits
		want error
	}{
		{"no header end", "From ann\x00", mail.Limits{}, mail.ErrMalformed},
		{"multipart without boundary", "Content-Type: multipart/mixed\n\nx\n", mail.Limits{}, mail.ErrMalformed},
		{"multipart cut short", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n", mail.Limits{}, mail.ErrMalformed},
		{"bad content type", "Content-Type: text/plain; ;;charset\n\nx\n", mail.Limits{}, mail.ErrMalformed},
		{"unknown transfer encoding", "Content-Transfer-Encoding: x-uu\n\nx\n", mail.Limits{}, mail.ErrMalformed},
		{"bad base64", "Content-Transfer-Encoding: base64\n\n!!!!\n", mail.Limits{}, mail.ErrMalformed},
		{"too deep", nested, mail.Limits{}, mail.ErrMalformed},
		{"too many parts", many, mail.Limits{}, mail.ErrMalformed},
		{"too large", "Subject: x\n\n" + strings.Repeat("a", 2000), mail.Limits{MaxBytes: 1000}, mail.ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := mail.Parse(strings.NewReader(crlf(c.msg)), c.lim)
			assert.ErrorIs(t, err, c.want)
		})
	}
}

// FuzzParse holds Parse to its contract on any input: it returns a
// message or an error of its two classes, and never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(crlf("From: a@example.org\nSubject: x\n\nhello\n")))
	f.Add([]byte(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\naGk=\n--b--\n")))
	f.Add([]byte(crlf("Content-Type: multipart/alternative; boundary=\"x\"\n\n--x\nContent-Type: text/html\n\n<p>hi</p>\n--x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := mail.Parse(strings.NewReader(string(b)), mail.Limits{MaxBytes: 1 << 16, MaxParts: 20, MaxDepth: 4})
		if err != nil {
			if !errors.Is(err, mail.ErrMalformed) && !errors.Is(err, mail.ErrTooLarge) {
				t.Fatalf("an error of no class: %v", err)
			}
			return
		}
		if p == nil {
			t.Fatal("no message and no error")
		}
	})
}
