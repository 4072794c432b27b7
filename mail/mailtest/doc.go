// Package mailtest is an SMTP server on loopback that keeps the mail it
// receives in memory, for tests and for the demo: the service's mail is
// sent to it through a real SMTP conversation, and a test reads back what
// arrived, parsed (both alternatives, the headers, the attachments).
//
//	srv, _ := mailtest.Start()
//	defer srv.Close()
//	sender, _ := mail.NewSMTP(mail.SMTPConfig{URL: srv.URL(), From: "notifications@practice.example"})
//	_ = sender.Send(ctx, mail.Message{...})
//	got, _ := srv.Wait(ctx, 1)
//
// Down and Up take the server away and bring it back on the same address,
// so that a test can show a sender retries while it is gone; Refuse makes
// it answer each recipient with a 4xx or 5xx. Handler lists the mail for
// a person, as the -demo's /demo/mail/ page does.
//
// It lives beside mail rather than under internal/ because the demo of
// examples/webhook-server runs it, and an adapter's or an application's
// tests may want the same server.
package mailtest
