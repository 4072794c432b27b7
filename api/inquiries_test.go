package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/practice"
)

// inquiryDietician bootstraps a dietician and returns their id and token.
func inquiryDietician(t *testing.T, h *harness, email string) (int64, string) {
	t.Helper()
	u, err := practice.Bootstrap(context.Background(), h.st, practice.NewUser{Email: email, Name: "Dee",
		Role: practice.RoleDietician, Password: worldPassword}, time.Now())
	require.NoError(t, err)
	return u.ID, signIn(t, h, email, worldPassword).AccessToken
}

func postInquiry(t *testing.T, h *harness, body map[string]any, ip string) response {
	t.Helper()
	r := request{Method: http.MethodPost, Path: "/inquiries", Body: body}
	if ip != "" {
		r.Header = map[string]string{"X-Test-Client": ip}
	}
	return h.do(t, r)
}

// byTestHeader lets a test speak for several clients: the harness's API
// reads the client address from X-Test-Client, as a deployment behind a
// proxy reads the proxy's header.
func byTestHeader(hc *harnessConfig) {
	hc.api = func(c *api.Config) {
		c.ClientAddr = func(r *http.Request) string {
			if v := r.Header.Get("X-Test-Client"); v != "" {
				return v
			}
			return "127.0.0.1"
		}
	}
}

func TestInquiryForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t, byTestHeader)
	dee, token := inquiryDietician(t, h, "dee@example.com")
	list := func() []api.Inquiry {
		res := h.do(t, request{Method: http.MethodGet, Path: "/inquiries", Token: token})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		return decode[api.InquiryList](t, res).Items
	}

	res := postInquiry(t, h, map[string]any{"name": "Ann Prospect", "email": "ann@example.org",
		"message": "I would like help with my diet.\nThank you.", "dietician_id": dee}, "10.0.0.1")
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	assert.JSONEq(t, `{"status":"received"}`, string(res.Body))
	got := list()
	require.Len(t, got, 1)
	assert.Equal(t, "Ann Prospect", got[0].Name)
	assert.Equal(t, "I would like help with my diet.\nThank you.", got[0].Message)
	assert.Equal(t, dee, got[0].DieticianId)
	assert.Equal(t, api.InquiryChannelForm, got[0].Channel)
	assert.Equal(t, api.InquiryStatusNew, got[0].Status)

	t.Run("honeypot", func(t *testing.T) {
		res := postInquiry(t, h, map[string]any{"name": "Robot", "email": "robot@example.org", "message": "Buy now",
			"website": "http://spam.example"}, "10.0.0.2")
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		assert.JSONEq(t, `{"status":"received"}`, string(res.Body), "answered as any inquiry")
		assert.Len(t, list(), 1, "and stored nowhere")
	})

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"CRLF in the name", map[string]any{"name": "Ann\r\nBcc: x@example.org", "email": "ann@example.org", "message": "hi"}, "name"},
			{"CRLF in the email", map[string]any{"name": "Ann", "email": "ann@example.org\r\nBcc: x@example.org", "message": "hi"}, "email"},
			{"oversized message", map[string]any{"name": "Ann", "email": "ann@example.org", "message": strings.Repeat("a", 10001)}, "message"},
			{"oversized name", map[string]any{"name": strings.Repeat("a", 201), "email": "ann@example.org", "message": "hi"}, "name"},
			{"blank message", map[string]any{"name": "Ann", "email": "ann@example.org", "message": " \n "}, "message"},
			{"not a dietician", map[string]any{"name": "Ann", "email": "ann@example.org", "message": "hi", "dietician_id": 999}, "dietician_id"},
			{"unknown member", map[string]any{"name": "Ann", "email": "ann@example.org", "message": "hi", "phone": "1"}, "phone"},
		} {
			t.Run(c.name, func(t *testing.T) {
				res := postInquiry(t, h, c.body, "10.0.0.3")
				p := checkProblem(t, res, http.StatusBadRequest)
				assert.Contains(t, strings.Join(p.fields(), " "), c.field)
			})
		}
		res := h.do(t, request{Method: http.MethodPost, Path: "/inquiries", Header: map[string]string{"X-Test-Client": "10.0.0.3"},
			Body: fmt.Sprintf(`{"name":"Ann","email":"ann@example.org","message":"%s"}`, strings.Repeat("a", 2<<20))})
		checkProblem(t, res, http.StatusRequestEntityTooLarge)
		assert.Len(t, list(), 1, "nothing refused was stored")
	})

	t.Run("a flood from one sender", func(t *testing.T) {
		body := map[string]any{"name": "Flo Od", "email": "flood@example.org", "message": "again"}
		for i := range practice.InquiriesPerEmail {
			res := postInquiry(t, h, body, fmt.Sprintf("10.1.0.%d", i))
			require.Equal(t, http.StatusAccepted, res.Status, "%d: %s", i, res.Body)
		}
		body["email"] = "FLOOD@example.org"
		res := postInquiry(t, h, body, "10.1.1.1")
		p := checkProblem(t, res, http.StatusTooManyRequests)
		assert.Contains(t, p.Detail, "too many inquiries")
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
	})

	t.Run("a flood from one client", func(t *testing.T) {
		for i := range practice.InquiriesPerAddr {
			res := postInquiry(t, h, map[string]any{"name": "Many", "email": fmt.Sprintf("m%d@example.org", i), "message": "hi"}, "10.2.0.1")
			require.Equal(t, http.StatusAccepted, res.Status, "%d: %s", i, res.Body)
		}
		res := postInquiry(t, h, map[string]any{"name": "Many", "email": "one-more@example.org", "message": "hi"}, "10.2.0.1")
		checkProblem(t, res, http.StatusTooManyRequests)
	})
}

func TestInquiryConvertAndDismiss(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, token := inquiryDietician(t, h, "dee@example.com")
	_, other := inquiryDietician(t, h, "dan@example.com")
	ctx := context.Background()
	receive := func(name, email string) int64 {
		q, err := h.svc.ReceiveInquiry(ctx, practice.Client{}, practice.NewInquiry{Name: name, Email: email,
			Message: "Please call me.", Channel: practice.InquiryForm})
		require.NoError(t, err)
		return q.ID
	}
	ann, bo := receive("Ann Prospect", "ann@example.org"), receive("Bo Prospect", "bo@example.org")

	res := h.do(t, request{Method: http.MethodGet, Path: fmt.Sprintf("/inquiries/%d", ann), Token: other})
	require.Equal(t, http.StatusOK, res.Status, "an unaddressed inquiry is every dietician's: %s", res.Body)

	res = h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token,
		Body: map[string]any{"name": "Ann Prospect", "email": "ann@example.org", "inquiry_id": ann}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	patient := decode[api.PatientWithSync](t, res).Patient.Id

	res = h.do(t, request{Method: http.MethodGet, Path: fmt.Sprintf("/inquiries/%d", ann), Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	q := decode[api.Inquiry](t, res)
	assert.Equal(t, api.InquiryStatusConverted, q.Status)
	assert.Equal(t, patient, q.PatientId)

	res = h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token,
		Body: map[string]any{"name": "Ann Again", "email": "ann2@example.org", "inquiry_id": ann}})
	p := checkProblem(t, res, http.StatusConflict)
	assert.Contains(t, p.Detail, "converted or dismissed already")

	res = h.do(t, request{Method: http.MethodPost, Path: fmt.Sprintf("/inquiries/%d/dismiss", bo), Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, api.InquiryStatusDismissed, decode[api.Inquiry](t, res).Status)
	res = h.do(t, request{Method: http.MethodPost, Path: fmt.Sprintf("/inquiries/%d/dismiss", bo), Token: token})
	checkProblem(t, res, http.StatusConflict)
	res = h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token,
		Body: map[string]any{"name": "Bo Prospect", "email": "bo@example.org", "inquiry_id": bo}})
	checkProblem(t, res, http.StatusConflict)
	res = h.do(t, request{Method: http.MethodGet, Path: "/patients?q=bo", Token: token})
	assert.Empty(t, decode[api.PatientList](t, res).Items, "a refused conversion creates no patient")

	res = h.do(t, request{Method: http.MethodGet, Path: "/inquiries?status=new", Token: token})
	assert.Empty(t, decode[api.InquiryList](t, res).Items)

	// Reads of an inquiry are audited.
	require.NoError(t, h.svc.FlushAudit(ctx))
	var reads int
	require.NoError(t, h.st.Read(ctx, func(tx practice.Tx) error {
		entries, err := tx.Audit(ctx, practice.AuditQuery{Action: practice.ActionReadInquiry})
		reads = len(entries)
		return err
	}))
	assert.Equal(t, 2, reads)
}

func TestInquiryAttachmentDownload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, token := inquiryDietician(t, h, "dee@example.com")
	ctx := context.Background()
	exe := []byte("MZ\x90\x00 not run")
	q, err := h.svc.ReceiveInquiry(ctx, practice.Client{}, practice.NewInquiry{Name: "Cy", Email: "cy@example.org",
		Message: "My labs.", Channel: practice.InquiryEmail, MessageID: "att@example.org",
		Attachments: []practice.InquiryAttachment{{Name: "run me.exe", ContentType: "text/html", Data: exe}}})
	require.NoError(t, err)

	res := h.do(t, request{Method: http.MethodGet, Path: fmt.Sprintf("/inquiries/%d", q.ID), Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got := decode[api.Inquiry](t, res)
	require.Len(t, got.Attachments, 1)
	assert.Equal(t, "run me.exe", got.Attachments[0].Name)
	assert.Equal(t, int64(len(exe)), got.Attachments[0].Size)

	res = h.do(t, request{Method: http.MethodGet, Path: fmt.Sprintf("/inquiries/%d/attachments/%d", q.ID, got.Attachments[0].Id), Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, exe, res.Body)
	assert.Equal(t, "application/octet-stream", res.Header.Get("Content-Type"), "never the type the sender claimed")
	assert.Equal(t, `attachment; filename="run me.exe"`, res.Header.Get("Content-Disposition"))
	assert.Equal(t, "sandbox", res.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))

	res = h.do(t, request{Method: http.MethodGet, Path: fmt.Sprintf("/inquiries/%d/attachments/%d", q.ID, 999), Token: token})
	checkProblem(t, res, http.StatusNotFound)
}
