package practice_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

// recordingNotifier records the inquiries it is told of, writes a marker
// in the storing transaction, and fails while fail is set.
type recordingNotifier struct {
	got  []practice.Inquiry
	fail error
}

func (n *recordingNotifier) InquiryReceived(ctx context.Context, tx practice.Tx, in practice.Inquiry) error {
	// What a notifier records commits with the inquiry, or not at all.
	if err := tx.AppendAudit(ctx, practice.AuditEntry{At: time.Now(), Action: "test.notified", Outcome: practice.OutcomeSuccess,
		Target: "inquiry"}); err != nil {
		return err
	}
	if n.fail != nil {
		return n.fail
	}
	n.got = append(n.got, in)
	return nil
}

func emailInquiry(mid string) practice.NewInquiry {
	return practice.NewInquiry{Name: "Ann Lee", Email: "ann@example.org", Subject: "Hello", Message: "Please call me.",
		Channel: practice.InquiryEmail, MessageID: mid, AddressedTo: "inquiries@practice.example"}
}

func TestInquiryNotifier(t *testing.T) {
	n := &recordingNotifier{}
	h := newHarness(t, func(c *practice.Config) { c.Inquiries = n })
	ctx := context.Background()
	markers := func() int { return len(h.audit("test.notified")) }

	q, err := h.svc.ReceiveInquiry(ctx, practice.Client{}, emailInquiry("m1@example.org"))
	require.NoError(t, err)
	require.Len(t, n.got, 1)
	assert.Equal(t, q.ID, n.got[0].ID, "told of the stored inquiry, with its id")
	assert.NotZero(t, q.ID)
	assert.Equal(t, 1, markers(), "the notifier's write committed with the inquiry")

	dup, err := h.svc.ReceiveInquiry(ctx, practice.Client{}, emailInquiry("m1@example.org"))
	require.NoError(t, err)
	assert.Equal(t, q.ID, dup.ID, "a duplicate is the stored inquiry")
	assert.Len(t, n.got, 1, "and notifies nothing")

	n.fail = errors.New("outbox down")
	_, err = h.svc.ReceiveInquiry(ctx, practice.Client{}, emailInquiry("m2@example.org"))
	require.ErrorIs(t, err, n.fail)
	n.fail = nil
	admin := h.user("admin@practice.example", practice.RoleAdmin)
	a := practice.Actor{UserID: admin.ID, Role: practice.RoleAdmin}
	l, err := h.svc.Inquiries(ctx, a, practice.InquiryList{})
	require.NoError(t, err)
	assert.Len(t, l.Items, 1, "a notifier's failure rolls the inquiry back")
	assert.Equal(t, 1, markers(), "and what the notifier wrote with it")

	_, err = h.svc.ReceiveInquiry(ctx, practice.Client{}, emailInquiry("m2@example.org"))
	require.NoError(t, err, "the sender's retry is stored")
	assert.Len(t, n.got, 2)

	honey := emailInquiry("m3@example.org")
	honey.Channel, honey.MessageID, honey.Honeypot = practice.InquiryForm, "", "http://spam.example"
	q, err = h.svc.ReceiveInquiry(ctx, practice.Client{}, honey)
	require.NoError(t, err)
	assert.Zero(t, q.ID)
	assert.Len(t, n.got, 2, "a honeypot notifies nothing")
}

func TestInquiryAddressing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dee := h.user("dee@practice.example", practice.RoleDietician)
	off := h.user("off@practice.example", practice.RoleDietician)
	h.change(off.ID, func(u *practice.User) { u.DisabledAt = start })
	gp := h.user("gp@practice.example", practice.RolePractitioner)

	for i, c := range []struct {
		to   string
		want int64
	}{
		{"DEE@practice.example", dee.ID},
		{"off@practice.example", 0},
		{"gp@practice.example", 0},
		{"inquiries@practice.example", 0},
	} {
		in := emailInquiry(c.to + "-mid@example.org")
		in.AddressedTo, in.Email = c.to, string(rune('a'+i))+"@example.org"
		q, err := h.svc.ReceiveInquiry(ctx, practice.Client{}, in)
		require.NoError(t, err, c.to)
		assert.Equal(t, c.want, q.DieticianID, c.to)
	}
	for _, id := range []int64{off.ID, gp.ID, 999} {
		_, err := h.svc.ReceiveInquiry(ctx, practice.Client{}, practice.NewInquiry{Name: "Ann", Email: "ann2@example.org",
			Message: "hi", Channel: practice.InquiryForm, DieticianID: id})
		var fe *practice.FieldError
		require.ErrorAs(t, err, &fe, "dietician %d", id)
		assert.Equal(t, "dietician_id", fe.Field)
	}
}

func TestInquiryRateLimitWindow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	form := func(email, addr string) error {
		_, err := h.svc.ReceiveInquiry(ctx, practice.Client{Addr: addr}, practice.NewInquiry{Name: "Flo", Email: email,
			Message: "hi", Channel: practice.InquiryForm})
		return err
	}
	for range practice.InquiriesPerEmail {
		require.NoError(t, form("flo@example.org", "192.0.2.1"))
	}
	err := form("Flo@Example.org", "192.0.2.2")
	var rl *practice.RateLimitError
	require.ErrorAs(t, err, &rl, "an email whatever its case")
	assert.Greater(t, rl.RetryAfter, time.Duration(0))
	assert.NoError(t, form("other@example.org", "192.0.2.2"), "another sender is not limited")

	h.clock.Advance(practice.InquiryWindow)
	assert.NoError(t, form("flo@example.org", "192.0.2.3"), "a window later")

	// An IPv6 client counts by its /64.
	for i := range practice.InquiriesPerAddr {
		require.NoError(t, form(string(rune('a'+i))+"@example.org", "2001:db8::"+string(rune('1'+i%9))))
	}
	assert.ErrorAs(t, form("z@example.org", "2001:db8::ff"), &rl)
}
