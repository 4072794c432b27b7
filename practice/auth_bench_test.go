package practice_test

import (
	"context"
	"testing"

	"github.com/healthcare-records/healthcare-records/practice"
)

// BenchmarkAuthenticate measures what each API request pays to be
// signed in. cached: a token seen before, whose session and user are
// cached (the usual case); store: the session and user read again (once
// per session every AuthCacheTTL); first: a token never seen, whose
// ES256 signature is verified (once per token).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	h := newHarness(b)
	h.user("dee@example.org", practice.RoleDietician)
	tok := h.login("dee@example.org")
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.svc.Authenticate(ctx, client, tok.Access); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		hdr := header(b, tok.Access)
		key := h.signingKey(hdr["kid"].(string))
		cl := claims(b, tok.Access)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			cl["jti"] = itoa(int64(i))
			token := signES256(b, key, hdr, cl)
			b.StartTimer()
			if _, err := h.svc.Authenticate(ctx, client, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		// The clock swings by the cache's TTL, so that every call finds
		// its entry stale and reads the session and user again.
		swing := practice.AuthCacheTTL
		for b.Loop() {
			h.clock.Advance(swing)
			swing = -swing
			if _, err := h.svc.Authenticate(ctx, client, tok.Access); err != nil {
				b.Fatal(err)
			}
		}
	})
}
